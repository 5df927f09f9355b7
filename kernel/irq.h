/*
 * irq.h - hardware interrupt vectors: who handles each one, and counters.
 *
 * Vector map (the LAPIC's priority class is vector >> 4, SDM vol 3A
 * 10.8.3.1; vectors 0-31 are exceptions, 0x00-0x0f are not even
 * deliverable as interrupts):
 *   0x20-0x2f  the 8259 PICs, remapped there and fully masked; anything
 *              arriving is a spurious IRQ7/IRQ15 (counted, never fatal)
 *   0x30-0xdf  irq_alloc_vector() hands these out (devices, MSI, IOAPIC)
 *   0xe0-0xef  reserved for tests (`nest`, softirq tests)
 *   0xf0       LAPIC timer          0xfe  LAPIC error
 *   0xff       LAPIC spurious vector (never EOIed, SDM vol 3A 10.9)
 *
 * Nesting policy (see irq.c): every gate is an interrupt gate, so handlers
 * run with IF=0 and another maskable interrupt waits in the LAPIC's IRR
 * until the handler has returned, EOIed and iretq restored IF. NMIs still
 * arrive. A handler that executes sti itself can be interrupted by
 * vectors of a higher priority class only (the LAPIC's PPR blocks the
 * in-service class and below).
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <stdint.h>
#include "kernel/trap.h"

#define IRQ_PIC_BASE        0x20
#define IRQ_PIC_END         0x2f
#define IRQ_ALLOC_FIRST     0x30
#define IRQ_ALLOC_LAST      0xdf
#define IRQ_TEST_FIRST      0xe0
#define IRQ_TEST_LAST       0xef
#define IRQ_LAPIC_TIMER     0xf0
#define IRQ_LAPIC_ERROR     0xfe
#define IRQ_LAPIC_SPURIOUS  0xff

/*
 * A hardware interrupt handler. Runs in hard-IRQ context: IF=0,
 * in_hardirq() true, on the interrupted stack; must not sleep, must be
 * short (acknowledge the device, mask it, raise a softirq). It must not
 * send the LAPIC EOI itself: irq_dispatch() does, after it returns.
 */
typedef void (*irq_handler_t)(struct trap_frame *tf, void *ctx);

/*
 * Installs fn for `vector` (0x20..0xff; a vector from irq_alloc_vector()
 * or a fixed one above). Returns 0, -EINVAL (out of range, or a soft
 * vector such as 0x80), -EBUSY (already has a handler). `name` must stay
 * valid (a string literal). Task context (boot, probe).
 */
int irq_request(unsigned vector, irq_handler_t fn, void *ctx, const char *name);

/* Reserves a free vector in 0x30..0xdf (lowest first) and returns it, or
 * -ENOSPC. The caller then irq_request()s it. Task context. */
int irq_alloc_vector(void);

/* Removes the handler and the reservation. The caller must have stopped
 * the source first. Task context. */
void irq_free(unsigned vector);

/* Called by trap_dispatch() for vectors >= 32 (not NMI, not soft
 * vectors). IF=0. */
void irq_dispatch(struct trap_frame *tf);

/* Per-vector counters, a snapshot. Any context. */
struct irq_stat {
	uint64_t count;       /* times the vector was taken */
	uint64_t nested;      /* times it arrived while another handler ran */
	uint64_t max_cycles;  /* longest handler run, TSC cycles */
};
void irq_get_stat(unsigned vector, struct irq_stat *out);

/* Whether the vector currently has a handler (for tests and reports). */
int irq_vector_in_use(unsigned vector);

#endif
