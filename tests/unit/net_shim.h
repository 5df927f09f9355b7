/*
 * net_shim.h - what net/'s .c files need from the kernel, for host builds
 * (unit tests and the fuzzer). Include it before any net/ .c file.
 *
 * - irqflags: RFLAGS.IF is modelled by shim_if, so tests can check that
 *   every local_irq_save() is paired with a restore;
 * - softirq: open_softirq() stores the handler, raise_softirq*() counts;
 * - cpu: rdtsc() returns shim_tsc, which tests advance by hand;
 * - pmm/heap: pages and zeroed blocks from libc;
 * - printk: to stderr when SHIM_VERBOSE is set, else dropped;
 * - errno: the host's (the kernel's declares a strerror that clashes).
 */
#ifndef TESTS_UNIT_NET_SHIM_H
#define TESTS_UNIT_NET_SHIM_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL_ERRNO_H
#define KERNEL_IRQFLAGS_H
#define KERNEL_CPU_H
#define KERNEL_SOFTIRQ_H

/* ---- irqflags / cpu */
#define RFLAGS_IF (1ull << 9)
static bool shim_if = true;
static unsigned long shim_irq_saves;

static inline uint64_t local_irq_save(void)
{
	uint64_t f = shim_if ? RFLAGS_IF : 0;
	shim_if = false;
	shim_irq_saves++;
	return f;
}
static inline void local_irq_restore(uint64_t f) { if (f & RFLAGS_IF) shim_if = true; }
static inline void local_irq_disable(void) { shim_if = false; }
static inline void local_irq_enable(void) { shim_if = true; }
static inline bool irqs_disabled(void) { return !shim_if; }

static uint64_t shim_tsc;
static inline uint64_t rdtsc(void) { return shim_tsc; }
static inline void cpu_relax(void) { }
#define barrier() __asm__ volatile("" ::: "memory")

/* ---- preempt_count: the real header (pure), with its word here;
 * tests set it to SOFTIRQ_OFFSET to stand in a softirq. */
#include "kernel/preempt.h"
unsigned int preempt_count_word;
volatile int need_resched_flag;

/* ---- softirq */
enum { HI_SOFTIRQ, TIMER_SOFTIRQ, NET_TX_SOFTIRQ, NET_RX_SOFTIRQ, TASKLET_SOFTIRQ, NR_SOFTIRQS };
static void (*shim_softirq[NR_SOFTIRQS])(void);
static unsigned long shim_raised[NR_SOFTIRQS];
static bool shim_raised_with_if;   /* raise_softirq_irqoff() called with IF=1 */
void open_softirq(int nr, void (*action)(void)) { shim_softirq[nr] = action; }
void raise_softirq_irqoff(int nr)
{
	if (shim_if)
		shim_raised_with_if = true;
	shim_raised[nr]++;
}
void raise_softirq(int nr) { shim_raised[nr]++; }

/* ---- time */
uint64_t tsc_khz;
uint64_t tsc_boot;
volatile uint64_t jiffies;
unsigned int hz = 100;

/* ---- memory */
#include "kernel/mm/pmm.h"
#include "kernel/mm/heap.h"
static unsigned long shim_pages_left = ~0ul;   /* tests shrink it to fail */
uint64_t phys_alloc_page(void)
{
	if (!shim_pages_left)
		return 0;
	shim_pages_left--;
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p)
		return 0;
	memset(p, 0, PAGE_SIZE);
	return (uint64_t)(uintptr_t)p;
}
void phys_free_page(uint64_t pa) { free((void *)(uintptr_t)pa); }
void *kzalloc(size_t size) { return calloc(1, size); }

/* ---- printk */
#include "kernel/printk.h"
void printk(int level __attribute__((unused)), const char *fmt, ...)
{
	if (!getenv("SHIM_VERBOSE"))
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#endif
