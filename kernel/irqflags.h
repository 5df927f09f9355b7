/*
 * irqflags.h - RFLAGS.IF control: the local CPU's "are maskable interrupts
 * delivered" switch. local_irq_save()/restore() nest; disable()/enable() do
 * not. With IF=0 the LAPIC keeps a pending interrupt in IRR and delivers it
 * after the STI that re-enables (STI's one-instruction shadow: see
 * QEMU-FACTS.md and SDM vol. 2B, STI).
 */
#ifndef KERNEL_IRQFLAGS_H
#define KERNEL_IRQFLAGS_H

#include "kernel/cpu.h"

static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }

static inline uint64_t local_irq_save(void)
{
	uint64_t f = read_rflags();
	local_irq_disable();
	return f;
}

static inline void local_irq_restore(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		local_irq_enable();
}

#endif
