/*
 * napi_defer.c - interrupt deferral: while frames keep coming, an
 * otherwise idle CPU polls a NAPI device instead of re-enabling its
 * interrupts (the idea of Linux's napi_defer_hard_irqs with
 * gro_flush_timeout, and of its busy polling).
 *
 * Why, under TCG: every interrupt cycle of a NAPI device costs trips into
 * QEMU that wait for its global lock, which the main loop holds while it
 * delivers a batch of up to 50 frames (QEMU-FACTS.md, "Threads under
 * TCG"): the interrupt itself, the ICR read and IMC write of the top half,
 * the LAPIC EOI, the ICR/IMS writes when the poll completes, and leaving
 * `hlt`. Measured at 250k frames/s with one cycle per ~70 frames, the vCPU
 * spent over half its time waiting for that lock. Polling the descriptor
 * ring is a memory read, which needs no lock at all.
 *
 * How: napi.c asks defer_irq() (its defer hook) whenever a poll completes.
 * If the napi's driver gave an idle_pending() test (napi_defer_enable),
 * a poll did work less than napi_defer_us ago, and the CPU has nothing
 * else to run (the poll ran on top of the idle task, or in ksoftirqd with
 * no task waiting), the napi becomes DEFERRED: not scheduled, interrupts
 * still masked. The idle task then calls idle_hook() instead of halting
 * (kernel/sched/idle_poll.h): it tests idle_pending() in a loop and
 * schedules the napi - running NET_RX right there, through
 * local_bh_enable() - as soon as there is work; after napi_defer_us
 * without a frame (ten times that in a flood: FLOOD_FRAMES in the last
 * FLOOD_WINDOW_MS) it schedules it anyway, and that poll, finding nothing,
 * completes for real and the driver re-enables its interrupts. So at a
 * steady rate above 1 / napi_defer_us no interrupt is taken at all, and
 * at a low rate each frame still interrupts (latency unchanged) and costs
 * napi_defer_us of idle polling.
 *
 * A task that needs the CPU always wins: the deferral is only entered when
 * nothing else is runnable; the idle loop ends every deferral as soon as
 * need_resched() is set (its polls then complete normally, re-enabling the
 * interrupts); and should a task get the CPU with a napi still deferred
 * (woken in the few instructions between the decision and the return from
 * the interrupt), the timer tick ends that deferral once its hold-off is
 * over (tick_backstop), so the device is without interrupts or polling for
 * at most one tick.
 *
 * Settings: `napi_defer_us=` on the command line, `napi_defer [US]` in the
 * shell; 0 turns it off (every completion re-enables interrupts at once).
 *
 * Context: defer_irq() in softirq (napi_complete_done, IF=0); idle_hook()
 * in the idle task; tick_backstop() in hard IRQ; the rest task context.
 */
#include "net/napi.h"
#include "kernel/sched/idle_poll.h"
#include "kernel/sched/sched.h"
#include "kernel/softirq.h"
#include "kernel/preempt.h"
#include "kernel/irqflags.h"
#include "kernel/timer.h"
#include "kernel/time.h"
#include "kernel/cmdline.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "kernel/lib/json.h"
#include "kernel/lib/printf.h"

#define DEFERRED (1ul << NAPI_STATE_DEFERRED)

/*
 * Default hold-off: frames up to 1 ms apart (1000 frames/s) keep the
 * device polled. QEMU's main loop delivers in batches, and on a busy
 * 2-core host it pauses for hundreds of microseconds now and then; each
 * hold-off that runs out inside a flood costs an interrupt cycle and a
 * `hlt`, whose wake-up waits for QEMU's lock. Measured, 64-byte frames,
 * 3 s runs, 2048-descriptor ring: with 200 us, 50-290 hold-offs ran out
 * per run at 250k-300k frames/s and runs lost 0.05-14 %; with 1000 us,
 * 3-11 ran out, 4 of 6 runs lost nothing and the others 0.004 % and
 * 0.17 %.
 */
#define DEFER_US_DEFAULT 1000
/*
 * In a flood the hold-off grows FLOOD_FACTOR times: a device that
 * received at least FLOOD_FRAMES frames in the last FLOOD_WINDOW_MS
 * (20k frames/s) is flooded. In a flood QEMU's delivery pauses for more
 * than a millisecond now and then when the host is busy (measured at
 * 700k frames/s offered, where the flood generator takes half the main
 * loop's core: 730 hold-offs of 1 ms ran out in 3 s, each an interrupt
 * cycle and a `hlt` whose wake-up waits for QEMU's lock), while a 10 ms
 * spin at the end of a flood costs nothing that matters. Sparse traffic
 * keeps the 1 ms hold-off.
 */
#define FLOOD_WINDOW_MS 10
#define FLOOD_FRAMES    200
#define FLOOD_FACTOR    10
#define DEFER_US_MAX     100000
#define CLOCK_PASSES     64       /* idle passes between two clock reads */

static unsigned defer_us = DEFER_US_DEFAULT;
static uint64_t defer_tsc;            /* defer_us in TSC cycles, 0 = off */
static uint64_t flood_win_tsc;        /* FLOOD_WINDOW_MS in TSC cycles */

static struct {
	uint64_t defers;        /* completions that deferred */
	uint64_t flood_defers;  /*   ... of which with the flood hold-off */
	uint64_t idle_polls;    /* idle loop found work and scheduled the poll */
	uint64_t timeouts;      /* hold-off over without work: back to interrupts */
	uint64_t yields;        /* ended because a task needed the CPU */
	uint64_t backstops;     /* ended by the tick: the idle loop was not running */
	uint64_t idle_loops;    /* idle_hook() calls that polled */
} st;

static void set_defer_tsc(void)
{
	defer_tsc = tsc_khz ? (uint64_t)defer_us * tsc_khz / 1000 : 0;
	flood_win_tsc = (uint64_t)FLOOD_WINDOW_MS * tsc_khz;
}

/* Rolls n's flood window once it is over: flooded if it averaged at
 * least FLOOD_FRAMES per FLOOD_WINDOW_MS (napi->packets counts every
 * polled frame, full polls too; the window may have grown longer while
 * nothing completed). IF=0. */
static void flood_update(struct napi_struct *n, uint64_t now)
{
	uint64_t elapsed = now - n->flood_win_tsc;
	if (elapsed < flood_win_tsc)
		return;
	/* `net reset` zeroes ->packets: a window that went backwards is
	 * not a flood. No overflow: frames < 2^32, cycles per window < 2^32. */
	n->flooded = n->packets >= n->flood_win_packets &&
		     (n->packets - n->flood_win_packets) * flood_win_tsc >=
		     FLOOD_FRAMES * elapsed;
	n->flood_win_tsc = now;
	n->flood_win_packets = n->packets;
}

/* True when n's hold-off has run out at `now`: no work for defer_us, or
 * FLOOD_FACTOR times that in a flood. IF=0, or the idle loop reading
 * fields that only change with IF=0. */
static bool holdoff_over(const struct napi_struct *n, uint64_t now)
{
	if (now <= n->defer_last_tsc)
		return false;      /* a stale `now`: the poll ran after it */
	uint64_t hold = n->flooded ? defer_tsc * FLOOD_FACTOR : defer_tsc;
	return now - n->defer_last_tsc >= hold;
}

/* Nothing else wants this CPU: the poll runs on top of the idle task, or
 * in ksoftirqd with no task waiting behind it. IF=0. */
static bool cpu_otherwise_idle(void)
{
	if (need_resched() || sched_nr_waiting())
		return false;
	if (current == idle_task)
		return true;
	return softirq_pass_origin(NULL) == SOFTIRQ_FROM_KSOFTIRQD;
}

/* napi.c's defer hook: napi_complete_done(), IF=0, SCHED just cleared. */
static bool defer_irq(struct napi_struct *n, int work_done)
{
	if (!n->idle_pending || !defer_tsc)
		return false;
	uint64_t now = rdtsc();
	if (work_done > 0)
		n->defer_last_tsc = now;
	flood_update(n, now);
	if (!n->defer_last_tsc || holdoff_over(n, now) || !cpu_otherwise_idle())
		return false;
	st.defers++;
	if (n->flooded)
		st.flood_defers++;
	return true;
}

/* Ends n's deferral by scheduling it, and runs NET_RX at once: with
 * softirqs disabled napi_schedule() leaves the raise pending (no
 * ksoftirqd wake-up), and local_bh_enable() processes it here. Task
 * context (the idle task), IF=1. Returns whether n was still deferred. */
static bool end_deferral(struct napi_struct *n)
{
	bool was;

	local_bh_disable();
	uint64_t f = local_irq_save();
	was = n->state & DEFERRED;
	if (was)
		napi_schedule(n);
	local_irq_restore(f);
	local_bh_enable();
	return was;
}

static bool any_deferred(void)
{
	for (struct napi_struct *n = napi_all(); n; n = n->all_next)   /* a few napis */
		if (n->state & DEFERRED)
			return true;
	return false;
}

/*
 * The idle task's hook (idle_poll.h): IF=0 on entry. Polls with
 * preemption off, so that a task woken meanwhile does not get the CPU
 * before the deferrals are ended (it waits the few microseconds until the
 * loop sees need_resched()); preempt_enable() then switches to it.
 *
 * The loop runs as long as some napi stays deferred, that is while frames
 * keep arriving less than napi_defer_us apart: that is idle time, spent
 * reading descriptors instead of halting. Every pass tests
 * need_resched(), and interrupts are on throughout.
 */
static bool idle_hook(void)
{
	if (!any_deferred())
		return false;
	st.idle_loops++;
	preempt_disable();
	local_irq_enable();
	uint64_t now = rdtsc();
	for (unsigned pass = 1;; pass++) {
		bool again = false;
		/* The clock only every CLOCK_PASSES passes: under TCG each
		 * rdtsc is a helper that takes a spinlock in QEMU's timer
		 * state, which its main loop reads too; the hold-off is far
		 * longer than CLOCK_PASSES descriptor reads. */
		if (pass % CLOCK_PASSES == 0)
			now = rdtsc();
		for (struct napi_struct *n = napi_all(); n; n = n->all_next) {
			if (!(n->state & DEFERRED))
				continue;
			if (need_resched()) {
				if (end_deferral(n))
					st.yields++;
			} else if (n->idle_pending(n)) {
				if (end_deferral(n))
					st.idle_polls++;
				now = rdtsc();   /* the poll moved defer_last_tsc on */
			} else if (holdoff_over(n, now)) {
				if (end_deferral(n))
					st.timeouts++;
				now = rdtsc();
			}
			again = true;   /* look again: it may be deferred anew */
		}
		if (!again)
			break;
		/* No `pause` (cpu_relax) here: under TCG it ends the
		 * translated block with EXCP_INTERRUPT, and the vCPU thread
		 * then takes QEMU's global lock before it runs on (target/
		 * i386/tcg/misc_helper.c helper_pause; the MTTCG loop) - the
		 * very lock this polling is meant to stay away from. The
		 * descriptor and state reads are volatile; nothing else is
		 * needed to re-read them. */
	}
	preempt_enable();
	return true;
}

/* Timer tick (hard IRQ, IF=0): a napi still deferred after its hold-off
 * means the idle loop is not running (a task got the CPU first): schedule
 * it here; its poll runs at this interrupt's exit, on top of that task,
 * so it completes normally and the driver re-enables its interrupts. */
static void tick_backstop(void)
{
	if (current == idle_task)
		return;      /* the idle loop polls, and ends what is due itself */
	uint64_t now = rdtsc();
	for (struct napi_struct *n = napi_all(); n; n = n->all_next) {
		if ((n->state & DEFERRED) && holdoff_over(n, now)) {
			st.backstops++;
			napi_schedule(n);
		}
	}
}

void napi_defer_enable(struct napi_struct *n, bool (*idle_pending)(struct napi_struct *))
{
	uint64_t f = local_irq_save();
	n->idle_pending = idle_pending;
	n->defer_last_tsc = 0;
	n->flood_win_tsc = 0;
	n->flood_win_packets = 0;
	n->flooded = false;
	local_irq_restore(f);
}

/* ---- settings, stats, shell -------------------------------------------- */

static void set_defer_us(unsigned us)
{
	uint64_t f = local_irq_save();
	defer_us = us;
	set_defer_tsc();
	local_irq_restore(f);
}

static int kparam_defer_us(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 0, DEFER_US_MAX, &n);
	if (!err)
		defer_us = (unsigned)n;   /* in cycles once the TSC is calibrated (init) */
	return err;
}
KPARAM("napi_defer_us", kparam_defer_us,
       "NAPI: us an idle CPU polls a device after its last frame before re-enabling its interrupts, 0 = off (default 1000)");

static void napi_defer_json(struct json *j)
{
	json_u64(j, "us", defer_us);
	json_u64(j, "defers", st.defers);
	json_u64(j, "flood_defers", st.flood_defers);
	json_u64(j, "idle_polls", st.idle_polls);
	json_u64(j, "timeouts", st.timeouts);
	json_u64(j, "yields", st.yields);
	json_u64(j, "backstops", st.backstops);
	json_u64(j, "idle_loops", st.idle_loops);
	json_bool(j, "deferred_now", any_deferred());
}
STATS_SECTION("napi_defer", napi_defer_json);

static int cmd_napi_defer(int argc, char **argv)
{
	unsigned long n;

	if (argc == 2) {
		if (kparam_uint(argv[1], 0, DEFER_US_MAX, &n))
			return -EINVAL;
		set_defer_us((unsigned)n);
	} else if (argc != 1) {
		return -EINVAL;
	}
	kprintf("napi_defer_us %u%s: defers %lu idle_polls %lu timeouts %lu yields %lu backstops %lu\n",
		defer_us, defer_us ? "" : " (off)", (unsigned long)st.defers,
		(unsigned long)st.idle_polls, (unsigned long)st.timeouts,
		(unsigned long)st.yields, (unsigned long)st.backstops);
	return 0;
}
SHELL_CMD("napi_defer", cmd_napi_defer, "[US]",
	  "NAPI interrupt deferral: us the idle CPU polls a device after its last frame (0 = off)");

static int napi_defer_init(void)
{
	int err = idle_poll_register(idle_hook);
	if (err) {
		pr_warn("net: no idle hook for NAPI deferral (%d): interrupts are never deferred", err);
		return 0;
	}
	err = timer_add_tick_hook(tick_backstop);
	if (err) {
		/* Without the backstop a race could strand a device: off. */
		pr_warn("net: no tick hook for NAPI deferral (%d): interrupts are never deferred", err);
		return 0;
	}
	set_defer_us(defer_us);
	napi_set_defer_hook(defer_irq);
	return 0;
}
INITCALL(3, napi_defer_init);
