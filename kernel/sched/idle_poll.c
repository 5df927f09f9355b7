/*
 * idle_poll.c - the idle task's polling hooks (see idle_poll.h).
 *
 * Context: registration in task context at init, with interrupts off
 * while the table changes; idle_poll() in the idle task only, IF=0, so the
 * table cannot change under it.
 */
#include "kernel/sched/idle_poll.h"
#include "kernel/irqflags.h"
#include "kernel/errno.h"
#include "kernel/cpu.h"

static bool (*hooks[IDLE_POLL_MAX_HOOKS])(void);
static unsigned nr_hooks;

int idle_poll_register(bool (*fn)(void))
{
	int err = -ENOSPC;
	uint64_t f = local_irq_save();

	if (nr_hooks < IDLE_POLL_MAX_HOOKS) {
		hooks[nr_hooks] = fn;
		barrier();       /* the slot before the count that publishes it */
		nr_hooks++;
		err = 0;
	}
	local_irq_restore(f);
	return err;
}

bool idle_poll(void)
{
	for (unsigned i = 0; i < nr_hooks; i++)     /* at most IDLE_POLL_MAX_HOOKS */
		if (hooks[i]())
			return true;
	return false;
}
