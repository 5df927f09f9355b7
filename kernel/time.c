/* time.c - TSC-based clock helpers; calibration lives in kernel/timer.c. */
#include "kernel/time.h"
#include "kernel/cpu.h"

uint64_t tsc_khz;
uint64_t tsc_boot;
volatile uint64_t jiffies;
unsigned int hz = 100;

uint64_t uptime_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc_boot);
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz / 1000;
	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}
