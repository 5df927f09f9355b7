/*
 * softirq_cmd.c - `softirq demo|bh`: makes the softirq rules of softirq.h
 * observable, for people and for tests/scenarios/test_interrupts.py.
 *
 *   softirq demo <runs> [spin_us]
 *       A hard IRQ (self-IPI on test vector 0xE2) schedules a tasklet that
 *       reschedules itself until it has run <runs> times, spinning
 *       spin_us in each run. The IRQ's irq_exit() runs it with IF=1 in
 *       softirq context until __do_softirq()'s bounds stop it (10 passes,
 *       or 2 ms); the rest is handed to ksoftirqd, whose part this command
 *       plays by calling ksoftirqd_run() while work is handed over.
 *   softirq bh
 *       The same hard IRQ while this task holds local_bh_disable(): its
 *       irq_exit() must not run the tasklet (in_interrupt() is true because
 *       of the softirq-disable count); local_bh_enable() runs it.
 *
 * Each prints one JSON line with, per run, the preempt_count, IF, and
 * what started the softirq pass it ran in (softirq_pass_origin():
 * "irq_exit", "bh_enable", "ksoftirqd", "do_softirq") with the pass's
 * number. When a scheduler provides the ksoftirqd thread, it may do the
 * handed-over part; otherwise this command calls ksoftirqd_run() itself.
 * Shell (task) context, IF=1.
 */
#include "kernel/softirq.h"
#include "kernel/irq.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"

#define DEMO_VECTOR   0xe2
#define DEMO_MAX_RUNS 64
#define DEMO_MAX_SPIN 10000

static const char *const origin_names[] = {
	[SOFTIRQ_FROM_NONE] = "none",
	[SOFTIRQ_FROM_IRQ_EXIT] = "irq_exit",
	[SOFTIRQ_FROM_BH_ENABLE] = "bh_enable",
	[SOFTIRQ_FROM_KSOFTIRQD] = "ksoftirqd",
	[SOFTIRQ_FROM_DO_SOFTIRQ] = "do_softirq",
};

struct run_rec {
	uint64_t pass;
	uint32_t pc;
	uint8_t if_on;
	uint8_t origin;
};

static struct {
	unsigned target;
	unsigned spin_us;
	volatile unsigned runs;
	volatile unsigned irqs;
	uint32_t irq_pc;
	struct run_rec rec[DEMO_MAX_RUNS];
} demo;

static void demo_spin_us(uint64_t us)
{
	uint64_t cycles = (tsc_khz ? tsc_khz : 2000000) * us / 1000;
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < cycles)
		cpu_relax();
}

/* Softirq context (TASKLET_SOFTIRQ), IF=1. */
static void demo_tasklet_fn(unsigned long data);
static struct tasklet demo_tasklet = TASKLET_INIT(demo_tasklet_fn, 0);

static void demo_tasklet_fn(unsigned long data)
{
	unsigned n = demo.runs;
	uint64_t pass;
	enum softirq_origin origin = softirq_pass_origin(&pass);
	if (n < DEMO_MAX_RUNS)
		demo.rec[n] = (struct run_rec){ pass, preempt_count(), !irqs_disabled(), origin };
	demo.runs = n + 1;
	if (demo.spin_us)
		demo_spin_us(demo.spin_us);
	if (demo.runs < demo.target)
		tasklet_schedule(&demo_tasklet);
}

/* Hard-IRQ context. */
static void demo_irq(struct trap_frame *tf, void *ctx)
{
	demo.irq_pc = preempt_count();
	demo.irqs++;
	tasklet_schedule(&demo_tasklet);
}

/* Sends the IPI and returns once its handler and irq_exit() are done
 * (the interrupt is taken right after the IPI's local_irq_restore; the
 * loop only covers TCG's delay). 0 or -errno. IF=1. */
static int fire_irq(void)
{
	unsigned irqs = demo.irqs;
	int err = lapic_send_self_ipi(DEMO_VECTOR);
	if (err)
		return err;
	uint64_t t0 = rdtsc(), limit = (tsc_khz ? tsc_khz : 2000000) * 100;
	while (demo.irqs == irqs && rdtsc() - t0 < limit)
		cpu_relax();
	return demo.irqs == irqs ? -ETIMEDOUT : 0;
}

static void print_runs(struct json *j)
{
	json_arr_begin(j, "runs");
	for (unsigned i = 0; i < demo.runs && i < DEMO_MAX_RUNS; i++) {
		json_obj_begin(j, NULL);
		json_u64(j, "pass", demo.rec[i].pass);
		json_u64(j, "pc", demo.rec[i].pc);
		json_u64(j, "if", demo.rec[i].if_on);
		json_str(j, "origin", origin_names[demo.rec[i].origin]);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void print_json(struct json *j)
{
	if (j->overflow) {
		shell_error("softirq: output too large");
		return;
	}
	kputs(j->buf);
	kputs("\n");
}

static int demo_run(unsigned target, unsigned spin_us)
{
	static char buf[8192];
	struct json j;
	struct softirq_stat s0, s1;
	unsigned ksoftirqd_calls = 0;

	demo.target = target;
	demo.spin_us = spin_us;
	softirq_get_stat(TASKLET_SOFTIRQ, &s0);

	int err = fire_irq();
	if (err)
		return err;

	/* Play ksoftirqd where no thread does: bounded by 100 calls, 1 s. */
	uint64_t t0 = rdtsc(), limit = (tsc_khz ? tsc_khz : 2000000) * 1000;
	while (demo.runs < target && ksoftirqd_calls < 100 && rdtsc() - t0 < limit) {
		if (!softirq_ksoftirqd_pending()) {
			cpu_relax();
			continue;
		}
		ksoftirqd_run();
		ksoftirqd_calls++;
	}
	softirq_get_stat(TASKLET_SOFTIRQ, &s1);

	/* Runs in the pass the IPI's irq_exit() started (the first run's). */
	unsigned in_irq_exit = 0;
	for (unsigned i = 0; i < demo.runs && i < DEMO_MAX_RUNS; i++)
		in_irq_exit += demo.rec[i].pass == demo.rec[0].pass &&
			       demo.rec[i].origin == SOFTIRQ_FROM_IRQ_EXIT;

	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_str(&j, "softirq", "demo");
	json_u64(&j, "target", target);
	json_u64(&j, "spin_us", spin_us);
	json_u64(&j, "total", demo.runs);
	json_u64(&j, "irq_pc", demo.irq_pc);
	json_u64(&j, "in_irq_exit", in_irq_exit);
	json_bool(&j, "handed_to_ksoftirqd", s1.to_ksoftirqd > s0.to_ksoftirqd);
	json_u64(&j, "ksoftirqd_calls", ksoftirqd_calls);
	json_u64(&j, "restarts", s1.restarts - s0.restarts);
	json_u64(&j, "to_ksoftirqd", s1.to_ksoftirqd - s0.to_ksoftirqd);
	json_u64(&j, "max_restart", SOFTIRQ_MAX_RESTART);
	json_u64(&j, "max_time_us", SOFTIRQ_MAX_TIME_US);
	print_runs(&j);
	json_obj_end(&j);
	print_json(&j);
	return 0;
}

static int demo_bh(void)
{
	static char buf[1024];
	struct json j;

	demo.target = 1;
	local_bh_disable();
	unsigned pc_disabled = preempt_count();
	int err = fire_irq();
	unsigned runs_disabled = demo.runs;
	bool pending = local_softirq_pending() & (1u << TASKLET_SOFTIRQ);
	local_bh_enable();
	if (err)
		return err;

	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_str(&j, "softirq", "bh");
	json_u64(&j, "pc_bh_disabled", pc_disabled);
	json_u64(&j, "irq_pc", demo.irq_pc);
	json_u64(&j, "runs_while_disabled", runs_disabled);
	json_bool(&j, "pending_while_disabled", pending);
	json_u64(&j, "total", demo.runs);
	json_u64(&j, "pc_after", preempt_count());
	print_runs(&j);
	json_obj_end(&j);
	print_json(&j);
	return 0;
}

static int cmd_softirq(int argc, char **argv)
{
	uint64_t runs = 0, spin = 0;
	bool bh;

	if (argc >= 2 && !strcmp(argv[1], "bh") && argc == 2) {
		bh = true;
	} else if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "demo")) {
		bh = false;
		if (!parse_u64(argv[2], &runs) || runs < 1 || runs > DEMO_MAX_RUNS)
			return -EINVAL;
		if (argc == 4 && (!parse_u64(argv[3], &spin) || spin > DEMO_MAX_SPIN))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (irqs_disabled()) {
		shell_error("softirq: needs interrupts enabled");
		return 0;
	}
	if (demo_tasklet.scheduled) {
		shell_error("softirq: the previous demo's tasklet is still scheduled");
		return 0;
	}
	memset(&demo, 0, sizeof(demo));
	int err = irq_request(DEMO_VECTOR, demo_irq, NULL, "softirq-demo");
	if (err)
		return err;
	err = bh ? demo_bh() : demo_run((unsigned)runs, (unsigned)spin);
	irq_free(DEMO_VECTOR);
	return err;
}
SHELL_CMD("softirq", cmd_softirq, "<demo RUNS [SPIN_US] | bh>",
	  "softirq bounds and ksoftirqd hand-off, or local_bh_disable (JSON)");
