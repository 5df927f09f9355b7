/*
 * pic.c - 8259A remap and mask; see pic.h.
 *
 * Intel 8259A datasheet: initialization command words ICW1-ICW4 (sent in
 * that order, ICW1 to the command port, the rest to the data port) and
 * OCW1, the interrupt mask register, on the data port.
 */
#include "kernel/arch/pic.h"
#include "kernel/cpu.h"
#include "kernel/printk.h"

#define PIC1_CMD   0x20
#define PIC1_DATA  0x21
#define PIC2_CMD   0xa0
#define PIC2_DATA  0xa1

#define ICW1_ICW4  0x01   /* ICW4 follows */
#define ICW1_INIT  0x10   /* start initialization; edge-triggered, cascade */
#define ICW4_8086  0x01   /* 8086/88 mode (vector base from ICW2) */
#define ICW3_MASTER_SLAVE_ON_IR2 0x04
#define ICW3_SLAVE_ID_2          0x02

/* A write to port 0x80 (the POST code port) takes about a microsecond:
 * old 8259s need that much between initialization words. */
static void io_wait(void)
{
	outb(0x80, 0);
}

void pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC1_DATA, PIC_VECTOR_BASE);          /* ICW2: vector base */
	io_wait();
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	io_wait();
	outb(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IR2); /* ICW3: cascade wiring */
	io_wait();
	outb(PIC2_DATA, ICW3_SLAVE_ID_2);
	io_wait();
	outb(PIC1_DATA, ICW4_8086);
	io_wait();
	outb(PIC2_DATA, ICW4_8086);
	io_wait();
	outb(PIC1_DATA, 0xff);                     /* OCW1: mask all */
	outb(PIC2_DATA, 0xff);

	/*
	 * The MP spec's IMCR (ports 0x22/0x23), which on some old boards
	 * switches the 8259 output from the CPU's INTR pin to the APIC, is
	 * not touched: QEMU has none, and with both 8259s masked and LINT0
	 * masked no 8259 interrupt is delivered either way.
	 */
	pr_info("apic: 8259 PICs remapped to 0x%x-0x%x and masked", PIC_VECTOR_BASE,
		PIC_VECTOR_BASE + 15);
}

uint16_t pic_get_masks(void)
{
	return (uint16_t)(inb(PIC2_DATA) << 8 | inb(PIC1_DATA));
}
