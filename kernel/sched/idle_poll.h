/*
 * idle_poll.h - work the idle task does instead of halting.
 *
 * Under TCG a `hlt` is expensive to leave: the vCPU thread sleeps on a
 * condition variable tied to QEMU's global lock and must take that lock
 * again to wake up and again to take the interrupt that woke it, while
 * QEMU's main loop holds it for a batch of up to 50 received frames at a
 * time (QEMU-FACTS.md, "Threads under TCG"). A subsystem that knows work
 * is about to arrive (a NIC in a flood) can ask the idle CPU to poll for
 * it instead: it registers a hook here, and the idle task calls the hooks
 * before every `hlt`. kernel/ never names the subsystems (the hooks are
 * registered at init).
 *
 * A hook is called by the idle task with IF=0 and preempt_count 0. It
 * returns false, IF still 0, when it has nothing to poll (cheap: a flag
 * test); the idle task then halts. Otherwise it polls - it may enable
 * interrupts, disable preemption, run softirqs through local_bh_enable()
 * - and returns true; it must return once need_resched() is set, so that
 * a task woken meanwhile gets the CPU.
 */
#ifndef KERNEL_SCHED_IDLE_POLL_H
#define KERNEL_SCHED_IDLE_POLL_H

#include <stdbool.h>

#define IDLE_POLL_MAX_HOOKS 4

/* Adds fn to the hooks. Task context (an initcall). 0, or -ENOSPC. */
int idle_poll_register(bool (*fn)(void));

/* Runs the hooks in order of registration; true if one of them polled.
 * The idle task only, IF=0. */
bool idle_poll(void);

#endif
