/*
 * trace.c - context tracking, CPU-time accounting per context, and the
 * context trace ring; the model is described in trace.h.
 *
 * Per-CPU state (one CPU: ctx_cpus[0]; harness/gdb/napilab.py reads it
 * by these names):
 *   cur          the context the CPU is in now
 *   seq          records written since the last clear; record k lives in
 *                ring[k % TRACE_RING_ENTRIES] (older ones are overwritten)
 *   counts       (from, to, cause) while recording; never overwritten
 *
 * Every update runs with IF=0 (saved and restored), so a hard IRQ cannot
 * split one. An NMI can: it only ever goes NMI and back to the value it
 * found, and takes its ring slot with one atomic add, so an interrupted
 * update still leaves a consistent context behind (at worst a few cycles
 * are charged to the wrong context).
 */
#include "kernel/trace.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/sched/sched.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"

struct ctx_cpu {
	volatile uint8_t cur;          /* enum ctx */
	uint8_t nmi_saved;             /* context the NMI interrupted */
	volatile bool recording;
	uint64_t last_tsc;             /* TSC of the latest change */
	uint64_t seq;
	uint64_t start_tsc;            /* trace_start() */
	uint64_t cycles[NR_CTX];
	uint64_t counts[NR_CTX][NR_CTX][NR_TRACE_CAUSES];
	struct trace_entry ring[TRACE_RING_ENTRIES];
};

struct ctx_cpu ctx_cpus[1];

static const char *const ctx_names[NR_CTX] = {
	[CTX_TASK] = "task", [CTX_ATOMIC] = "atomic", [CTX_SOFTIRQ] = "softirq",
	[CTX_IRQ] = "irq", [CTX_NMI] = "nmi", [CTX_USER] = "user",
};

static const char *const cause_names[NR_TRACE_CAUSES] = {
	[TC_NONE] = "none", [TC_SYSCALL] = "syscall", [TC_INT80] = "int80",
	[TC_EXCEPTION] = "exception", [TC_IRQ] = "irq", [TC_NMI] = "nmi",
	[TC_IRET] = "iret", [TC_SYSRET] = "sysret", [TC_IRQ_EXIT] = "irq_exit",
	[TC_NMI_EXIT] = "nmi_exit", [TC_SOFTIRQ_START] = "softirq_start",
	[TC_SOFTIRQ_END] = "softirq_end", [TC_SCHEDULE] = "schedule",
	[TC_PREEMPT] = "preempt", [TC_PREEMPT_DISABLE] = "preempt_disable",
	[TC_PREEMPT_ENABLE] = "preempt_enable", [TC_BH_DISABLE] = "local_bh_disable",
};

const char *ctx_name(enum ctx c)
{
	return (unsigned)c < NR_CTX ? ctx_names[c] : "?";
}

static const char *trace_cause_name(enum trace_cause c)
{
	return (unsigned)c < NR_TRACE_CAUSES && cause_names[c] ? cause_names[c] : "?";
}

enum ctx ctx_of_preempt_count(unsigned pc)
{
	if (pc_in_nmi(pc))
		return CTX_NMI;
	if (pc_in_hardirq(pc))
		return CTX_IRQ;
	if (pc_in_serving_softirq(pc))
		return CTX_SOFTIRQ;
	if (pc_in_atomic(pc))
		return CTX_ATOMIC;
	return CTX_TASK;
}

static enum ctx ctx_current(void)
{
	return ctx_cpus[0].cur;
}

void ctx_transition(enum ctx to, enum trace_cause cause, unsigned arg)
{
	struct ctx_cpu *c = &ctx_cpus[0];
	uint64_t flags = local_irq_save();
	uint64_t now = rdtsc();
	enum ctx from = c->cur;
	uint64_t dt = c->last_tsc ? now - c->last_tsc : 0;

	c->cycles[from] += dt;
	sched_charge(from, dt);
	c->last_tsc = now;
	if (to == CTX_NMI)
		c->nmi_saved = from;
	c->cur = to;

	if (c->recording) {
		uint64_t k = __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELAXED);
		struct trace_entry *e = &c->ring[k & (TRACE_RING_ENTRIES - 1)];
		e->tsc = now;
		e->from = from;
		e->to = to;
		e->cause = cause;
		e->cpu = 0;
		e->pid = current ? (uint16_t)current->pid : 0;
		e->arg = (uint16_t)arg;
		c->counts[from][to][cause]++;
	}
	local_irq_restore(flags);
}

void ctx_sync(enum trace_cause cause)
{
	struct ctx_cpu *c = &ctx_cpus[0];
	uint64_t flags = local_irq_save();
	enum ctx to = ctx_of_preempt_count(preempt_count());

	if (c->cur != CTX_USER && c->cur != to)
		ctx_transition(to, cause, 0);
	local_irq_restore(flags);
}

void ctx_nmi_exit(void)
{
	ctx_transition(ctx_cpus[0].nmi_saved, TC_NMI_EXIT, 0);
}

/* ---- control ------------------------------------------------------------- */

void trace_clear(void)
{
	struct ctx_cpu *c = &ctx_cpus[0];
	uint64_t flags = local_irq_save();

	c->seq = 0;
	memset(c->counts, 0, sizeof(c->counts));
	local_irq_restore(flags);
}

void trace_start(void)
{
	ctx_cpus[0].start_tsc = rdtsc();
	barrier();
	ctx_cpus[0].recording = true;
}

void trace_stop(void)
{
	ctx_cpus[0].recording = false;
	barrier();
}

uint64_t trace_count(enum ctx from, enum ctx to, enum trace_cause cause)
{
	if ((unsigned)from >= NR_CTX || (unsigned)to >= NR_CTX || (unsigned)cause >= NR_TRACE_CAUSES)
		return 0;
	return ctx_cpus[0].counts[from][to][cause];
}

void trace_summary_json(struct json *j)
{
	struct ctx_cpu *c = &ctx_cpus[0];
	char key[24];

	json_bool(j, "recording", c->recording);
	json_u64(j, "records", c->seq);
	json_u64(j, "ring_entries", TRACE_RING_ENTRIES);
	json_obj_begin(j, "transitions");
	for (unsigned f = 0; f < NR_CTX; f++) {
		for (unsigned t = 0; t < NR_CTX; t++) {
			uint64_t total = 0;
			for (unsigned k = 0; k < NR_TRACE_CAUSES; k++)
				total += c->counts[f][t][k];
			if (!total)
				continue;
			strlcpy(key, ctx_names[f], sizeof(key));
			size_t n = strlen(key);
			strlcpy(key + n, "->", sizeof(key) - n);
			n = strlen(key);
			strlcpy(key + n, ctx_names[t], sizeof(key) - n);
			json_obj_begin(j, key);
			json_u64(j, "count", total);
			json_obj_begin(j, "causes");
			for (unsigned k = 0; k < NR_TRACE_CAUSES; k++)
				if (c->counts[f][t][k])
					json_u64(j, cause_names[k], c->counts[f][t][k]);
			json_obj_end(j);
			json_obj_end(j);
		}
	}
	json_obj_end(j);
}

/* ---- shell --------------------------------------------------------------- */

static void dump_entry(const struct trace_entry *e, bool first)
{
	kprintf("%s{\"tsc\":%lu,\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\",\"pid\":%u,\"arg\":%u}",
		first ? "" : ",", (unsigned long)e->tsc, ctx_name(e->from), ctx_name(e->to),
		trace_cause_name(e->cause), e->pid, e->arg);
}

/* The last n records as one JSON array line, oldest first. Recording
 * is paused meanwhile so the ring holds still. */
static void trace_dump(unsigned n)
{
	struct ctx_cpu *c = &ctx_cpus[0];
	bool was = c->recording;

	trace_stop();
	uint64_t end = c->seq;
	uint64_t avail = end < TRACE_RING_ENTRIES ? end : TRACE_RING_ENTRIES;
	if (n > avail)
		n = (unsigned)avail;
	kputs("[");
	for (uint64_t k = end - n; k < end; k++)
		dump_entry(&c->ring[k & (TRACE_RING_ENTRIES - 1)], k == end - n);
	kputs("]\n");
	if (was)
		trace_start();
}

static char summary_buf[8192];

static int cmd_trace(int argc, char **argv)
{
	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[1], "start")) {
		trace_start();
		kprintf("trace: recording\n");
	} else if (!strcmp(argv[1], "stop")) {
		trace_stop();
		kprintf("trace: stopped, %lu records\n", (unsigned long)ctx_cpus[0].seq);
	} else if (!strcmp(argv[1], "clear")) {
		trace_clear();
		kprintf("trace: cleared\n");
	} else if (!strcmp(argv[1], "dump")) {
		uint64_t n = 64;
		if (argc > 2 && (!parse_u64(argv[2], &n) || n == 0 || n > TRACE_RING_ENTRIES))
			return -EINVAL;
		trace_dump((unsigned)n);
	} else if (!strcmp(argv[1], "summary")) {
		struct json j;
		json_init(&j, summary_buf, sizeof(summary_buf));
		json_obj_begin(&j, NULL);
		trace_summary_json(&j);
		json_obj_end(&j);
		if (j.overflow)
			return -E2BIG;
		kputs(summary_buf);
		kputs("\n");
	} else {
		return -EINVAL;
	}
	return 0;
}
SHELL_CMD("trace", cmd_trace, "start|stop|clear|dump [n]|summary",
	  "context trace: record, reset, last n records as a JSON array, transition counts");

static void trace_stats_json(struct json *j)
{
	json_str(j, "context", ctx_name(ctx_current()));
	json_bool(j, "recording", ctx_cpus[0].recording);
	json_u64(j, "records", ctx_cpus[0].seq);
	json_obj_begin(j, "cycles");
	for (unsigned c = 0; c < NR_CTX; c++)
		json_u64(j, ctx_names[c], ctx_cpus[0].cycles[c]);
	json_obj_end(j);
}
STATS_SECTION("contexts", trace_stats_json);
