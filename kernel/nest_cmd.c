/*
 * nest_cmd.c - `nest <same|other|other-sti>`: shows what happens when an
 * interrupt arrives while a handler runs (the nesting policy in irq.c),
 * with timestamps taken inside the handlers.
 *
 * The first handler sends self-IPIs through the LAPIC ICR while it runs,
 * busy-waits NEST_SPIN_US, and returns. Every handler records (TSC,
 * vector, enter/exit, hard-IRQ depth, preempt_count, IF) at entry and
 * exit; the command prints the timeline as one JSON line.
 *
 *   same       first 0xE0 sends 0xE0 three times, IF=0. Expected: the
 *              three requests coalesce in one IRR bit; one second run of
 *              0xE0, which starts after the first has exited.
 *   other      first 0xE0 sends 0xE1, IF=0. Expected: 0xE1 starts after
 *              0xE0 has exited (IF=0 holds everything maskable).
 *   other-sti  first = a free vector F of class 0xD executes sti, then
 *              sends 0xE1 (class 0xE, higher), a second free class-0xD
 *              vector S (same class) and a free low vector L (class < D).
 *              Expected: 0xE1 nests inside F (depth 2); S and L wait until
 *              F's EOI although IF=1, because the LAPIC only delivers a
 *              class above the processor priority (PPR = class of the
 *              in-service vector, SDM vol 3A 10.8.3.1); then S runs
 *              before L (higher class first).
 *
 * Context: shell (task) context with IF=1; the handlers run in hard-IRQ
 * context. Vectors 0xE0-0xEF are reserved for this (irq.h); the others
 * are taken with irq_request() and freed again.
 */
#include "kernel/irq.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/json.h"
#include "kernel/lib/printf.h"
#include "kernel/lib/string.h"

#define NEST_A        0xe0
#define NEST_B        0xe1
#define NEST_SPIN_US  2000
#define NEST_MAX_EV   32
#define NEST_MAX_SEND 4

enum nest_mode { NEST_SAME, NEST_OTHER, NEST_OTHER_STI };

struct nest_event {
	uint64_t tsc;
	uint8_t vector;
	uint8_t enter;
	uint8_t depth;
	uint8_t if_on;
	uint32_t pc;
};

static struct {
	enum nest_mode mode;
	unsigned first;                   /* vector whose handler sends */
	unsigned send[NEST_MAX_SEND];     /* what it sends, in order */
	unsigned nsend;
	int send_err;
	bool first_done;
	bool irr_after_send[NEST_MAX_SEND];
	struct nest_event ev[NEST_MAX_EV];
	volatile unsigned nev;
	unsigned lost;                    /* events beyond NEST_MAX_EV */
} nest;

/* Busy-waits about `us` microseconds by the TSC (before calibration: a
 * fixed 2e6 cycles per ms, TCG's order of magnitude). Any context. */
static void spin_us(uint64_t us)
{
	uint64_t cycles = (tsc_khz ? tsc_khz : 2000000) * us / 1000;
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < cycles)
		cpu_relax();
}

static void record(unsigned vector, bool enter)
{
	unsigned i = nest.nev;
	if (i >= NEST_MAX_EV) {
		nest.lost++;
		return;
	}
	nest.ev[i] = (struct nest_event){
		.tsc = rdtsc(),
		.vector = vector,
		.enter = enter,
		.depth = hardirq_depth(),
		.if_on = !irqs_disabled(),
		.pc = preempt_count(),
	};
	nest.nev = i + 1;
}

/* Hard-IRQ context, IF=0 on entry. */
static void nest_irq(struct trap_frame *tf, void *ctx)
{
	unsigned v = tf->vector;

	record(v, true);
	if (v == nest.first && !nest.first_done) {
		nest.first_done = true;
		if (nest.mode == NEST_OTHER_STI)
			local_irq_enable();
		for (unsigned i = 0; i < nest.nsend; i++) {
			int err = lapic_send_self_ipi(nest.send[i]);
			if (err && !nest.send_err)
				nest.send_err = err;
		}
		/* Still in service: what the LAPIC holds back is in IRR now. */
		for (unsigned i = 0; i < nest.nsend; i++)
			nest.irr_after_send[i] = lapic_irr_test(nest.send[i]);
		spin_us(NEST_SPIN_US);
		if (nest.mode == NEST_OTHER_STI)
			local_irq_disable();
	}
	record(v, false);
}

/* The first free vector in [lo, hi] (step +1 or -1), taken for nest_irq;
 * -EBUSY if none. */
static int take_vector(int from, int to, const char *name)
{
	int step = from <= to ? 1 : -1;
	for (int v = from; v != to + step; v += step)
		if (irq_request((unsigned)v, nest_irq, NULL, name) == 0)
			return v;
	return -EBUSY;
}

static void print_timeline(const char *mode_name, unsigned *vecs, unsigned nvecs)
{
	static char buf[4096];
	struct json j;
	char key[8];

	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_str(&j, "nest", mode_name);
	json_u64(&j, "first", nest.first);
	json_arr_begin(&j, "sent");
	for (unsigned i = 0; i < nest.nsend; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "vector", nest.send[i]);
		json_u64(&j, "class", nest.send[i] >> 4);
		json_bool(&j, "irr_while_first_ran", nest.irr_after_send[i]);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_i64(&j, "send_err", nest.send_err);
	json_u64(&j, "spin_us", NEST_SPIN_US);
	json_u64(&j, "tsc_khz", tsc_khz);
	json_arr_begin(&j, "events");
	for (unsigned i = 0; i < nest.nev; i++) {
		const struct nest_event *e = &nest.ev[i];
		json_obj_begin(&j, NULL);
		json_u64(&j, "tsc", e->tsc);
		json_u64(&j, "vector", e->vector);
		json_str(&j, "ev", e->enter ? "enter" : "exit");
		json_u64(&j, "depth", e->depth);
		json_u64(&j, "pc", e->pc);
		json_u64(&j, "if", e->if_on);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_begin(&j, "runs");
	for (unsigned i = 0; i < nvecs; i++) {
		unsigned runs = 0;
		for (unsigned k = 0; k < nest.nev; k++)
			runs += nest.ev[k].vector == vecs[i] && nest.ev[k].enter;
		ksnprintf(key, sizeof(key), "0x%02x", vecs[i]);
		json_u64(&j, key, runs);
	}
	json_obj_end(&j);
	json_u64(&j, "lost", nest.lost);
	json_obj_end(&j);
	if (j.overflow) {
		shell_error("nest: timeline larger than %zu bytes", sizeof(buf));
		return;
	}
	kputs(buf);
	kputs("\n");
}

static int cmd_nest(int argc, char **argv)
{
	unsigned vecs[4];
	unsigned nvecs = 0;
	unsigned expected;
	int err = 0;

	if (argc != 2)
		return -EINVAL;
	memset(&nest, 0, sizeof(nest));
	if (!strcmp(argv[1], "same")) {
		nest.mode = NEST_SAME;
		nest.first = NEST_A;
		nest.send[0] = nest.send[1] = nest.send[2] = NEST_A;
		nest.nsend = 3;
		vecs[nvecs++] = NEST_A;
		expected = 4;       /* two runs of 0xE0 */
	} else if (!strcmp(argv[1], "other")) {
		nest.mode = NEST_OTHER;
		nest.first = NEST_A;
		nest.send[0] = NEST_B;
		nest.nsend = 1;
		vecs[nvecs++] = NEST_A;
		vecs[nvecs++] = NEST_B;
		expected = 4;
	} else if (!strcmp(argv[1], "other-sti")) {
		nest.mode = NEST_OTHER_STI;
		expected = 8;
	} else {
		return -EINVAL;
	}

	if (nest.mode == NEST_OTHER_STI) {
		/* F and S: the top of the allocatable range (class 0xD);
		 * L: the lowest free one above the PIC range (class 3 or so). */
		int f = take_vector(IRQ_ALLOC_LAST, IRQ_ALLOC_LAST & 0xf0, "nest-first");
		int s = f < 0 ? f : take_vector(f - 1, IRQ_ALLOC_LAST & 0xf0, "nest-same-class");
		int l = s < 0 ? s : take_vector(IRQ_ALLOC_FIRST, (IRQ_ALLOC_LAST & 0xf0) - 1, "nest-low");
		if (irq_request(NEST_B, nest_irq, NULL, "nest-high"))
			err = -EBUSY;
		if (f < 0 || s < 0 || l < 0 || err) {
			if (f >= 0) irq_free(f);
			if (s >= 0) irq_free(s);
			if (l >= 0) irq_free(l);
			if (!err) irq_free(NEST_B);
			shell_error("nest: no free vectors for the demo");
			return 0;
		}
		nest.first = f;
		nest.send[0] = NEST_B;
		nest.send[1] = s;
		nest.send[2] = l;
		nest.nsend = 3;
		vecs[nvecs++] = f;
		vecs[nvecs++] = NEST_B;
		vecs[nvecs++] = s;
		vecs[nvecs++] = l;
	} else {
		for (unsigned i = 0; i < nvecs; i++) {
			if (irq_request(vecs[i], nest_irq, NULL, i ? "nest-b" : "nest-a")) {
				for (unsigned k = 0; k < i; k++)
					irq_free(vecs[k]);
				shell_error("nest: vector 0x%x is busy", vecs[i]);
				return 0;
			}
		}
	}

	/* The demo needs interrupts on in the caller (shell: yes). */
	uint64_t flags = local_irq_save();
	local_irq_enable();
	err = lapic_send_self_ipi(nest.first);
	if (!err) {
		/* Bounded: all expected events, or 500 ms; then 5 ms more so
		 * that an extra (uncoalesced) run would be seen too. */
		uint64_t t0 = rdtsc(), limit = (tsc_khz ? tsc_khz : 2000000) * 500;
		while (nest.nev < expected && rdtsc() - t0 < limit)
			cpu_relax();
		spin_us(5000);
	}
	if (!(flags & RFLAGS_IF))
		local_irq_disable();

	for (unsigned i = 0; i < nvecs; i++)
		irq_free(vecs[i]);
	if (err)
		return err;
	print_timeline(argv[1], vecs, nvecs);
	return 0;
}
SHELL_CMD("nest", cmd_nest, "<same|other|other-sti>",
	  "a 2nd interrupt during a handler: same vector, other vector, other with sti (timeline JSON)");
