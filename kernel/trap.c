/*
 * trap.c - trap_init() and trap_dispatch(): the C side of every interrupt
 * and exception entry (the routing table is in trap.h).
 */
#include "kernel/trap.h"
#include "kernel/irq.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/irqflags.h"
#include "kernel/arch/gdt.h"
#include "kernel/arch/idt.h"

static trap_handler_t soft_handlers[IDT_ENTRIES];

void trap_init(void)
{
	gdt_init();
	idt_init();
	pr_info("trap: GDT, TSS (IST1 NMI, IST2 #DF, IST3 #MC) and IDT (%u vectors) loaded",
		IDT_ENTRIES);
}

int trap_vector_is_soft(unsigned vector)
{
	return vector < IDT_ENTRIES && soft_handlers[vector] != NULL;
}

int trap_set_soft_handler(unsigned vector, trap_handler_t fn, unsigned dpl)
{
	if (vector < 32 || vector >= IDT_ENTRIES || !fn || dpl > 3)
		return -EINVAL;
	if (soft_handlers[vector] || irq_vector_in_use(vector))
		return -EBUSY;
	soft_handlers[vector] = fn;
	idt_set_dpl(vector, dpl);
	return 0;
}

void trap_dispatch(struct trap_frame *tf)
{
	unsigned v = tf->vector;

	/* isr.asm's promise (SDM vol 3A 6.14.2 aligns RSP before the push). */
	BUG_ON((uint64_t)tf & 15);
	if (v == 2)
		nmi_handle(tf);
	else if (v < 32)
		exception_handle(tf);
	else if (soft_handlers[v])
		soft_handlers[v](tf);
	else
		irq_dispatch(tf);
	/* On the way back to ring 3 (not from an NMI, which must not
	 * schedule): reschedule / kill / trace, in the task's context. */
	if (v != 2 && trap_from_user(tf))
		trap_return_to_user(tf);
}
