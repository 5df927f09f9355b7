/*
 * timer.h - the kernel tick: TSC and LAPIC timer calibration against the
 * 8254 PIT, then a periodic LAPIC timer at `hz` (command-line key hz=,
 * 10..10000, default 100) on vector 0xF0 whose handler counts jiffies and
 * runs the registered tick hooks.
 */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdint.h>

#define TIMER_MAX_HOOKS 8

/* Calibrates (sets tsc_khz, so udelay and printk times work from here on)
 * and starts the periodic tick. Boot, IF=0, after lapic_init(); the first
 * tick arrives once interrupts are enabled. 0 or -errno. */
int timer_init(void);

/* Adds fn to the functions called on every tick, in the order added. fn
 * runs in hard-IRQ context with IF=0 and must be short and not sleep (the
 * scheduler's tick, the softirq TIMER raise). Task context (boot or
 * later); 0, or -ENOSPC beyond TIMER_MAX_HOOKS. */
int timer_add_tick_hook(void (*fn)(void));

/* LAPIC timer counts per second (after its divider), 0 before timer_init. */
uint64_t timer_lapic_hz(void);

#endif
