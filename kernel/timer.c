/*
 * timer.c - calibration of the TSC and the LAPIC timer, and the periodic
 * tick; see timer.h.
 *
 * Reference clock: PIT channel 2. It is port I/O (nothing to map), has no
 * interrupt line to mask (its output only reaches port 0x61), exists on
 * every PC and on both QEMU machine types, and its 1.193182 MHz input is
 * plenty for a 50 ms window. The HPET would be finer but is optional
 * (q35's `hpet=off`) and needs its ACPI table and an MMIO mapping first.
 * The ACPI PM timer (3.579545 MHz, from the FADT) is read over the same
 * window as an independent cross-check and the disagreement is logged.
 *
 * Under QEMU TCG the TSC follows the host's TSC and the PIT, PM timer and
 * LAPIC timer follow QEMU's virtual clock (host time while the VM runs),
 * so the calibration measures real time.
 */
#include "kernel/timer.h"
#include "kernel/time.h"
#include "kernel/arch/lapic.h"
#include "kernel/arch/pit.h"
#include "kernel/acpi.h"
#include "kernel/irq.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/cmdline.h"
#include "kernel/shell.h"
#include "kernel/errno.h"
#include "kernel/lib/json.h"

#define CAL_MS        50
#define CAL_PIT_COUNT ((PIT_HZ * CAL_MS + 500) / 1000)   /* 59659 */
/* Bound on the polls of one 50 ms window. A port read takes about a
 * microsecond on hardware and under TCG, so 20M polls (~20 s) only ends
 * the loop if the PIT never counts. */
#define CAL_MAX_POLLS 20000000ul
#define HZ_MIN 10
#define HZ_MAX 10000

static void (*tick_hooks[TIMER_MAX_HOOKS])(void);
static volatile unsigned nr_tick_hooks;

static uint64_t lapic_hz;          /* LAPIC timer counts per second */
static uint32_t initial_count;     /* periodic reload value */
static uint64_t tick_tsc_start;    /* TSC and jiffies when the tick started */
static uint64_t tick_jiffies_start;
static uint32_t cal_spread_ppm;    /* (max - min) / median of the good runs */
static uint32_t cal_unc_ppm;       /* timestamp uncertainty of the run used */
static unsigned cal_runs;          /* PIT windows measured */
static int64_t pm_dev_ppm;         /* PM timer vs PIT, parts per million */
static bool pm_checked;

static int set_hz(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, HZ_MIN, HZ_MAX, &n);
	if (!err)
		hz = (unsigned)n;
	return err;
}
KPARAM("hz", set_hz, "timer tick rate in Hz, 10-10000 (default 100)");

int timer_add_tick_hook(void (*fn)(void))
{
	uint64_t f = local_irq_save();
	int err = -ENOSPC;
	if (nr_tick_hooks < TIMER_MAX_HOOKS) {
		tick_hooks[nr_tick_hooks] = fn;
		/* The slot is filled before the count that publishes it; the
		 * tick handler cannot run in between (IF=0 here). */
		barrier();
		nr_tick_hooks++;
		err = 0;
	}
	local_irq_restore(f);
	return err;
}

uint64_t timer_lapic_hz(void)
{
	return lapic_hz;
}

/*
 * Vector 0xF0, hard-IRQ context, IF=0; the dispatcher sends the EOI.
 * jiffies has no other writer, so the increment needs no lock; readers
 * get a consistent 64-bit value from one aligned load.
 */
static void timer_tick(struct trap_frame *tf, void *ctx)
{
	jiffies++;
	unsigned n = nr_tick_hooks;
	for (unsigned i = 0; i < n; i++)
		tick_hooks[i]();
}

/* ---- calibration -------------------------------------------------------- */

/*
 * Every clock reading is taken between two TSC reads (a "stamp"). Under
 * TCG on a busy host the vCPU thread can be descheduled for milliseconds
 * between any two instructions; the width of a stamp bounds how far off
 * its timestamp can be, and a run whose stamps add up to more than
 * CAL_MAX_UNC_PPM of the window is thrown away and repeated. From up to
 * CAL_MAX_RUNS windows, the median of the first CAL_GOOD_RUNS good ones is
 * used (or the tightest one, with a warning, if too few were good).
 *
 * The TSC is measured against the PIT window; the LAPIC timer and the PM
 * timer are then measured against the TSC over (nearly) the same window.
 */
#define CAL_MAX_RUNS    10
#define CAL_GOOD_RUNS   3
#define CAL_MAX_UNC_PPM 1000   /* 50 us of a 50 ms window */

struct stamp {
	uint64_t before, after;   /* TSC around one clock read or write */
};

struct cal_run {
	uint64_t tsc_khz;
	uint64_t lapic_hz;
	int64_t pm_ppm;           /* PM timer rate vs. its nominal rate */
	uint32_t unc_ppm;         /* stamp widths relative to the window */
};

static uint64_t stamp_mid(struct stamp s)
{
	return s.before + (s.after - s.before) / 2;
}

/* Stamp widths of an interval [a, b] relative to its length, in ppm. */
static uint32_t unc_ppm(struct stamp a, struct stamp b)
{
	uint64_t len = stamp_mid(b) - stamp_mid(a);
	uint64_t w = (a.after - a.before) + (b.after - b.before);
	return len ? (uint32_t)(w * 1000000 / len) : UINT32_MAX;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* One PIT window. IF=0. */
static int calibrate_once(uint16_t pm_port, struct cal_run *r)
{
	struct stamp start, end, lap0, lap1, pm0 = { 0, 0 }, pm1 = { 0, 0 };
	uint32_t l0, l1, p0 = 0, p1 = 0;
	unsigned long polls = 0;

	lapic_timer_start(0xffffffffu, LAPIC_TIMER_VECTOR, LAPIC_TIMER_ONESHOT | LAPIC_TIMER_NOIRQ);
	pit_ch2_load(CAL_PIT_COUNT);
	start.before = rdtsc();
	pit_ch2_go(CAL_PIT_COUNT);
	start.after = rdtsc();
	l0 = lapic_timer_current();
	lap0 = (struct stamp){ start.after, rdtsc() };
	if (pm_port) {
		p0 = inl(pm_port);
		pm0 = (struct stamp){ lap0.after, rdtsc() };
	}

	/* OUT rose after the TSC read that preceded the last poll seeing it
	 * low, and before the TSC read that follows the poll seeing it high. */
	uint64_t last_low = start.before;
	for (;;) {
		uint64_t t = rdtsc();
		if (pit_ch2_done()) {
			end = (struct stamp){ last_low, rdtsc() };
			break;
		}
		last_low = t;
		if (++polls > CAL_MAX_POLLS) {
			lapic_timer_stop();
			return -ETIMEDOUT;
		}
	}
	l1 = lapic_timer_current();
	lap1 = (struct stamp){ end.after, rdtsc() };
	if (pm_port) {
		p1 = inl(pm_port);
		pm1 = (struct stamp){ lap1.after, rdtsc() };
	}
	lapic_timer_stop();

	/* The PIT window is CAL_PIT_COUNT / PIT_HZ seconds. */
	uint64_t pit_tsc = stamp_mid(end) - stamp_mid(start);
	r->tsc_khz = pit_tsc * PIT_HZ / ((uint64_t)CAL_PIT_COUNT * 1000);
	r->unc_ppm = max_u32(unc_ppm(start, end), unc_ppm(lap0, lap1));
	uint64_t lap_tsc = stamp_mid(lap1) - stamp_mid(lap0);
	/* counts (< 2^32) * kHz (< 2^24) * 1000 stays far below 2^64 */
	r->lapic_hz = lap_tsc ? (uint64_t)(l0 - l1) * r->tsc_khz * 1000 / lap_tsc : 0;
	r->pm_ppm = 0;
	if (pm_port) {
		/* 24 or 32 bits (FADT TMR_VAL_EXT): the low 24 bits of the
		 * difference are right for both over 50 ms (a 24-bit counter
		 * wraps after 4.7 s). */
		uint64_t ticks = (p1 - p0) & 0xffffffu;
		uint64_t pm_tsc = stamp_mid(pm1) - stamp_mid(pm0);
		uint64_t pm_hz = pm_tsc ? ticks * r->tsc_khz * 1000 / pm_tsc : 0;
		r->pm_ppm = ((int64_t)pm_hz - ACPI_PM_TIMER_HZ) * 1000000 / ACPI_PM_TIMER_HZ;
		r->unc_ppm = max_u32(r->unc_ppm, unc_ppm(pm0, pm1));
	}
	return 0;
}

/* Sorts runs by TSC rate (insertion sort: at most CAL_GOOD_RUNS items). */
static void sort_runs(struct cal_run *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1].tsc_khz > v[j].tsc_khz; j--) {
			struct cal_run t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static int calibrate(void)
{
	uint16_t pm_port = acpi_pm_timer_port();
	struct cal_run good[CAL_GOOD_RUNS], best = { .unc_ppm = UINT32_MAX }, r;
	unsigned nr_good = 0, runs = 0;

	while (runs < CAL_MAX_RUNS && nr_good < CAL_GOOD_RUNS) {
		int err = calibrate_once(pm_port, &r);
		runs++;
		if (err) {
			pr_err("timer: PIT channel 2 never reached zero: cannot calibrate");
			return err;
		}
		pr_debug("timer: calibration run %u: TSC %lu kHz, LAPIC %lu Hz, PM %ld ppm, +-%u ppm",
			 runs, (unsigned long)r.tsc_khz, (unsigned long)r.lapic_hz,
			 (long)r.pm_ppm, r.unc_ppm);
		if (r.unc_ppm < best.unc_ppm)
			best = r;
		if (r.unc_ppm <= CAL_MAX_UNC_PPM)
			good[nr_good++] = r;
	}
	cal_runs = runs;
	if (nr_good == CAL_GOOD_RUNS) {
		sort_runs(good, nr_good);
		r = good[nr_good / 2];
		cal_spread_ppm = (uint32_t)((good[nr_good - 1].tsc_khz - good[0].tsc_khz) * 1000000 /
					    r.tsc_khz);
	} else {
		r = best;
		pr_warn("timer: only %u of %u calibration windows were undisturbed; using the best (+-%u ppm)",
			nr_good, runs, best.unc_ppm);
	}
	tsc_khz = r.tsc_khz;
	lapic_hz = r.lapic_hz;
	cal_unc_ppm = r.unc_ppm;
	if (!tsc_khz || !lapic_hz) {
		pr_err("timer: calibration gave TSC %lu kHz, LAPIC timer %lu Hz",
		       (unsigned long)tsc_khz, (unsigned long)lapic_hz);
		return -EIO;
	}
	pr_info("timer: TSC %lu kHz, LAPIC timer %lu Hz (bus / %d), from %u x %d ms PIT ch2 windows (+-%u ppm, spread %u ppm)",
		(unsigned long)tsc_khz, (unsigned long)lapic_hz, LAPIC_TIMER_DIVIDE, runs, CAL_MS,
		cal_unc_ppm, cal_spread_ppm);
	if (pm_port) {
		pm_dev_ppm = r.pm_ppm;
		pm_checked = true;
		int64_t a = pm_dev_ppm < 0 ? -pm_dev_ppm : pm_dev_ppm;
		if (a > 10000)
			pr_warn("timer: ACPI PM timer runs %ld ppm off its nominal rate by this TSC: "
				"the calibration is suspect", (long)pm_dev_ppm);
		else
			pr_info("timer: cross-check: ACPI PM timer (port 0x%x) within %ld ppm of nominal",
				pm_port, (long)a);
	}
	return 0;
}

int timer_init(void)
{
	int err = calibrate();
	if (err)
		return err;
	pit_ch0_stop();   /* the PIT's job is done; IRQ 0 stays masked anyway */

	uint64_t count = (lapic_hz + hz / 2) / hz;
	if (count == 0 || count > 0xffffffffu) {
		pr_err("timer: hz=%u needs LAPIC count %lu, out of range", hz, (unsigned long)count);
		return -ERANGE;
	}
	initial_count = (uint32_t)count;
	err = irq_request(LAPIC_TIMER_VECTOR, timer_tick, NULL, "timer");
	if (err) {
		pr_err("timer: cannot register vector 0x%x: %d", LAPIC_TIMER_VECTOR, err);
		return err;
	}
	tick_jiffies_start = jiffies;
	tick_tsc_start = rdtsc();
	lapic_timer_start(initial_count, LAPIC_TIMER_VECTOR, LAPIC_TIMER_PERIODIC);
	pr_info("timer: periodic LAPIC timer at %u Hz (initial count %u) on vector 0x%x",
		hz, initial_count, LAPIC_TIMER_VECTOR);
	return 0;
}

/* Tick rate measured against the TSC since the tick started, in mHz. */
static uint64_t measured_mhz(void)
{
	if (!tick_tsc_start || !tsc_khz)
		return 0;
	uint64_t us = tsc_to_ns(rdtsc() - tick_tsc_start) / 1000;
	if (!us)
		return 0;
	return (jiffies - tick_jiffies_start) * 1000000000ull / us;
}

/* Ticks that should have happened by the TSC since the tick started. More
 * than `ticks` when interrupts were off for longer than a tick period: the
 * LAPIC keeps one pending timer interrupt (one IRR bit), the rest are lost. */
static uint64_t expected_ticks(void)
{
	if (!tick_tsc_start || !tsc_khz)
		return 0;
	return (rdtsc() - tick_tsc_start) / (tsc_khz * 1000 / hz);
}

/* ---- shell and stats ---------------------------------------------------- */

static int cmd_ticks(int argc, char **argv)
{
	uint64_t j = jiffies;
	uint64_t up_us = uptime_ns() / 1000;
	uint64_t r = measured_mhz();
	kprintf("jiffies=%lu uptime_us=%lu hz=%u measured_hz=%lu.%03lu\n", (unsigned long)j,
		(unsigned long)up_us, hz, (unsigned long)(r / 1000), (unsigned long)(r % 1000));
	return 0;
}
SHELL_CMD("ticks", cmd_ticks, "", "timer ticks (jiffies), uptime and the measured tick rate");

static void timer_stats(struct json *j)
{
	json_u64(j, "hz", hz);
	json_u64(j, "tsc_khz", tsc_khz);
	json_u64(j, "lapic_timer_hz", lapic_hz);
	json_u64(j, "lapic_timer_initial_count", initial_count);
	json_u64(j, "ticks", jiffies);
	json_u64(j, "ticks_expected", tick_jiffies_start + expected_ticks());
	json_u64(j, "measured_hz_x1000", measured_mhz());
	json_u64(j, "calibration_runs", cal_runs);
	json_u64(j, "calibration_uncertainty_ppm", cal_unc_ppm);
	json_u64(j, "calibration_spread_ppm", cal_spread_ppm);
	if (pm_checked)
		json_i64(j, "pm_timer_deviation_ppm", pm_dev_ppm);
	json_u64(j, "tick_hooks", nr_tick_hooks);
}
STATS_SECTION("timer", timer_stats);
