/*
 * lapic.h - this CPU's local APIC in xAPIC (MMIO) mode: enable, EOI,
 * self-IPIs, the timer (mechanism only; kernel/timer.c decides what to
 * program), and reads of its state for reports. x2APIC is not used: QEMU's
 * TCG does not offer it. Registers: kernel/arch/lapic_regs.h.
 *
 * Vectors the local APIC owns (see kernel/irq.h's plan):
 *   0xF0 timer (kernel/timer.c), 0xFE error, 0xFF spurious.
 */
#ifndef KERNEL_ARCH_LAPIC_H
#define KERNEL_ARCH_LAPIC_H

#include <stdint.h>
#include <stdbool.h>

#define LAPIC_TIMER_VECTOR    0xf0
#define LAPIC_ERROR_VECTOR    0xfe
#define LAPIC_SPURIOUS_VECTOR 0xff

/* The divider lapic_timer_start() programs: counts = bus clock / 16. */
#define LAPIC_TIMER_DIVIDE 16

/* Timer modes for lapic_timer_start(). */
#define LAPIC_TIMER_ONESHOT  0x0
#define LAPIC_TIMER_PERIODIC 0x1
#define LAPIC_TIMER_NOIRQ    0x2   /* LVT masked: counts, never interrupts */

struct lapic_info {
	uint64_t phys;          /* from IA32_APIC_BASE */
	uint8_t id;
	uint8_t version;        /* 0x1X = integrated APIC; QEMU: 0x14 */
	uint8_t max_lvt;        /* highest LVT entry index */
	bool bsp;
	uint32_t lint0, lint1;  /* LVT values programmed at init */
};

struct lapic_stats {
	uint64_t spurious;      /* vector 0xFF deliveries (10.9) */
	uint64_t errors;        /* error interrupts */
	uint32_t esr_last;      /* last non-zero ESR read */
	uint32_t esr_all;       /* OR of every ESR read */
};

/* Maps the local APIC, checks it is in xAPIC mode, masks every LVT entry,
 * sets TPR 0, LINT0 masked and LINT0/LINT1 NMI as the MADT says (LINT1 NMI
 * by default), the error vector, and software-enables it with spurious
 * vector 0xFF. Registers the error and spurious handlers. Boot, IF=0, after
 * acpi_init() and the IDT; panics if there is no usable local APIC. */
void lapic_init(void);

/* Signals end of interrupt for the highest-priority in-service vector
 * (10.8.5): the write is also broadcast to the I/O APICs for level
 * entries. Hard-IRQ context, called by the dispatcher after a handler;
 * never for the spurious vector or NMI, which do not set an ISR bit. */
void lapic_eoi(void);

/* APIC ID of this CPU. Any context after lapic_init(). */
unsigned lapic_id(void);
const struct lapic_info *lapic_get_info(void);
void lapic_get_stats(struct lapic_stats *out);

/* Sends a fixed interrupt with `vector` to this CPU (ICR, shorthand self,
 * 10.6.1). With IF=0 it stays pending in IRR until interrupts are enabled.
 * Any context except NMI (the ICR is written in two steps); -EINVAL for a
 * vector below 0x20, -EBUSY if the previous IPI was still pending. */
int lapic_send_self_ipi(unsigned vector);
/* Sends an NMI to this CPU. The ICR's "self" shorthand is valid only with
 * fixed delivery (10.6.1), so the destination is our own APIC ID in
 * physical mode. Same context rule; 0 or -EBUSY. */
int lapic_send_self_nmi(void);

/* Register snapshots for reports and tests. Any context. */
bool lapic_isr_test(unsigned vector);   /* in service */
bool lapic_irr_test(unsigned vector);   /* requested, not yet delivered */
uint32_t lapic_tpr(void);
uint32_t lapic_ppr(void);

/* Prints TPR, PPR, the vectors set in ISR, IRR and TMR, the LVT entries
 * and ESR (for the shell's `apic`). Task context. */
void lapic_print_state(void);

/* Timer mechanism. lapic_timer_start() programs the LVT (vector, mode),
 * the divider (LAPIC_TIMER_DIVIDE) and then the initial count, which
 * starts it (10.5.4). lapic_timer_stop() masks it and writes count 0.
 * IF=0 or hard-IRQ context. */
void lapic_timer_start(uint32_t initial, unsigned vector, unsigned mode);
uint32_t lapic_timer_current(void);
void lapic_timer_stop(void);

#endif
