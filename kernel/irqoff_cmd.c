/*
 * irqoff_cmd.c - the shell's `irqoff <ms>`: run with RFLAGS.IF=0 for a
 * while and report what the interrupt hardware did meanwhile. The flood
 * lab's experiment 1 (issue 5) runs it during a steady flood.
 *
 * With IF=0 the CPU takes no maskable interrupt; the LAPIC keeps one IRR
 * bit per vector, so every request for the same vector that arrives while
 * it is pending is merged into that one bit (SDM vol 3A 10.8.4, "Interrupt
 * Acceptance for Fixed Interrupts"; QEMU-FACTS.md, LAPIC). NMIs are not
 * masked by IF and are still taken (SDM vol 3A 6.7.1). After STI the
 * pending vectors are delivered, highest priority class first, one
 * interrupt each, once the one-instruction STI shadow has passed (SDM vol
 * 2B, STI).
 *
 * The reply is one line of JSON:
 *   {"irqoff":{"ms":M,"window_us":U,"jiffies_during":0,"nmi_during":N,
 *     "pending":[{"vector":"0x31","taken_after":1},...],"jiffies_after":J}}
 * window_us: the IF=0 window measured with the TSC; jiffies_during: timer
 * ticks counted inside it (0: the tick is held too); pending: the vectors
 * whose IRR bit was set just before STI and how many times each was taken
 * by the time STI's effect had run (normally 1, however many requests
 * arrived: the coalescing); jiffies_after: ticks taken right after STI.
 *
 * Context: task (a shell command). It deliberately holds IF=0 for up to
 * IRQOFF_MAX_MS; nothing else in the kernel may do that.
 */
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/cmdline.h"
#include "kernel/irqflags.h"
#include "kernel/irq.h"
#include "kernel/trap.h"
#include "kernel/time.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/arch/lapic.h"

/* Long enough for any experiment; short enough that a typo does not
 * freeze the shell for minutes (the LAPIC timer's ticks are lost, not
 * queued: only one is delivered afterwards). */
#define IRQOFF_MAX_MS 10000
/* Vectors reported as pending: more than the lab ever has in flight. */
#define IRQOFF_MAX_PENDING 16

struct pending_vec {
	unsigned vector;
	uint64_t count_before;
	uint64_t count_after;   /* read right after STI, before any printing */
};

/* Vectors 0x20..0xff whose IRR bit is set now, with their counts. IF=0. */
static int collect_pending(struct pending_vec *out, int max)
{
	int n = 0;
	for (unsigned v = IRQ_PIC_BASE; v <= 0xff && n < max; v++) {
		if (!lapic_irr_test(v))
			continue;
		struct irq_stat st;
		irq_get_stat(v, &st);
		out[n].vector = v;
		out[n].count_before = st.count;
		n++;
	}
	return n;
}

static int cmd_irqoff(int argc, char **argv)
{
	unsigned long ms;
	struct pending_vec pend[IRQOFF_MAX_PENDING];

	if (argc != 2 || kparam_uint(argv[1], 1, IRQOFF_MAX_MS, &ms))
		return -EINVAL;

	uint64_t flags = local_irq_save();
	uint64_t j0 = jiffies, nmi0 = nmi_count();
	uint64_t t0 = rdtsc();
	udelay(ms * 1000);
	uint64_t t1 = rdtsc();
	uint64_t j1 = jiffies, nmi1 = nmi_count();
	int n = collect_pending(pend, IRQOFF_MAX_PENDING);
	local_irq_restore(flags);
	/* Every vector pending at STI has been taken by now: each one is
	 * delivered as soon as the previous handler's iretq sets IF again.
	 * The barrier keeps the compiler from reading the counts earlier. */
	__asm__ volatile("" ::: "memory");
	uint64_t j2 = jiffies;
	for (int i = 0; i < n; i++) {
		struct irq_stat st;
		irq_get_stat(pend[i].vector, &st);
		pend[i].count_after = st.count;
	}

	kprintf("{\"irqoff\":{\"ms\":%lu,\"window_us\":%lu,\"jiffies_during\":%lu,"
		"\"nmi_during\":%lu,\"pending\":[", ms, tsc_to_ns(t1 - t0) / 1000,
		j1 - j0, nmi1 - nmi0);
	for (int i = 0; i < n; i++)
		kprintf("%s{\"vector\":\"0x%02x\",\"taken_after\":%lu}", i ? "," : "",
			pend[i].vector, pend[i].count_after - pend[i].count_before);
	kprintf("],\"jiffies_after\":%lu}}\n", j2 - j1);
	return 0;
}
SHELL_CMD("irqoff", cmd_irqoff, "<ms>",
	  "run with IF=0 for ms milliseconds; report IRR-pending vectors and coalescing (JSON)");
