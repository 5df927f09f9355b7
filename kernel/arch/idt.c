/* idt.c - fills and loads the IDT; see idt.h. */
#include "kernel/arch/idt.h"
#include "kernel/arch/gdt.h"
#include "kernel/panic.h"

/* 16-byte gate descriptor, SDM vol 3A 6.14.1, figure 6-8. */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;          /* bits 2:0: IST slot; 7:3 zero */
	uint8_t type_attr;    /* P(7) DPL(6:5) 0(4) type(3:0) */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

#define GATE_P          0x80
#define GATE_DPL(n)     (((n) & 3) << 5)
#define GATE_INTERRUPT  0xe   /* 64-bit interrupt gate: clears IF (SDM vol 3A table 3-2) */

/* kernel/arch/isr.asm */
extern const uint64_t isr_stub_table[IDT_ENTRIES];

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));

static void set_gate(unsigned v, uint64_t handler, unsigned ist, unsigned dpl)
{
	idt[v] = (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = GDT_KERNEL_CS,
		.ist = ist & 7,
		.type_attr = GATE_P | GATE_DPL(dpl) | GATE_INTERRUPT,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

void idt_set_dpl(unsigned vector, unsigned dpl)
{
	BUG_ON(vector >= IDT_ENTRIES || dpl > 3);
	idt[vector].type_attr = GATE_P | GATE_DPL(dpl) | GATE_INTERRUPT;
}

/* Gives a gate its IST slot (0 = no stack switch). Boot, from idt_init(). */
static void idt_set_ist(unsigned vector, unsigned ist)
{
	BUG_ON(vector >= IDT_ENTRIES || ist > 7);
	idt[vector].ist = ist;
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_ENTRIES; v++)
		set_gate(v, isr_stub_table[v], 0, 0);
	idt_set_ist(2, IST_NMI);
	idt_set_ist(8, IST_DOUBLE_FAULT);
	idt_set_ist(18, IST_MACHINE_CHECK);
	idt_set_dpl(3, 3);   /* #BP: int3 */
	idt_set_dpl(4, 3);   /* #OF: into (invalid in 64-bit mode, harmless) */

	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } p = {
		sizeof(idt) - 1, (uint64_t)idt
	};
	__asm__ volatile("lidt %0" :: "m"(p) : "memory");
}
