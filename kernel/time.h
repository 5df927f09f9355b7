/*
 * time.h - the kernel's clocks. The TSC is the fine clock (QEMU's TSC runs
 * at a constant rate); tsc_khz is set once by the timer calibration in
 * kernel/timer.c and is 0 before that. jiffies counts LAPIC timer ticks at
 * HZ (from the kernel command line, default 100).
 */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

extern uint64_t tsc_khz;
extern uint64_t tsc_boot;       /* TSC at kmain entry */
extern volatile uint64_t jiffies;
extern unsigned int hz;

static inline uint64_t tsc_to_ns(uint64_t cycles)
{
	if (!tsc_khz)
		return 0;
	/* cycles * 1e6 / khz without overflowing for ~ centuries of uptime */
	return (cycles / tsc_khz) * 1000000ull + (cycles % tsc_khz) * 1000000ull / tsc_khz;
}

static inline uint64_t ns_to_tsc(uint64_t ns)
{
	return ns * tsc_khz / 1000000ull;
}

/* Nanoseconds since kmain started (0 until the TSC is calibrated). */
uint64_t uptime_ns(void);
/* Busy-waits for the given time using the calibrated TSC. Any context. */
void udelay(uint64_t us);

#endif
