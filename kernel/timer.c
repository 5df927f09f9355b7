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
#define CAL_RUNS      3
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
static uint32_t cal_spread_ppm;    /* (max - min) / median of the TSC runs */
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

struct cal_run {
	uint64_t tsc;
	uint32_t lapic;
	uint32_t pm;
};

/* One PIT window. Each clock is read in the same order at both ends, so
 * the time one read takes cancels out. IF=0. */
static int calibrate_once(uint16_t pm_port, struct cal_run *r)
{
	unsigned long polls = 0;

	lapic_timer_start(0xffffffffu, LAPIC_TIMER_VECTOR, LAPIC_TIMER_ONESHOT | LAPIC_TIMER_NOIRQ);
	pit_ch2_start(CAL_PIT_COUNT);
	uint64_t t0 = rdtsc();
	uint32_t l0 = lapic_timer_current();
	uint32_t p0 = pm_port ? inl(pm_port) : 0;
	while (!pit_ch2_done()) {
		if (++polls > CAL_MAX_POLLS) {
			lapic_timer_stop();
			return -ETIMEDOUT;
		}
	}
	uint64_t t1 = rdtsc();
	uint32_t l1 = lapic_timer_current();
	uint32_t p1 = pm_port ? inl(pm_port) : 0;
	lapic_timer_stop();

	r->tsc = t1 - t0;
	r->lapic = l0 - l1;                      /* counts down */
	/* The PM timer has 24 or 32 bits (FADT TMR_VAL_EXT); the low 24 bits
	 * of the difference are right for both, as the window is far shorter
	 * than the 4.7 s a 24-bit counter takes to wrap. */
	r->pm = (p1 - p0) & 0xffffffu;
	return 0;
}

static void sort_u64(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static int calibrate(void)
{
	uint16_t pm_port = acpi_pm_timer_port();
	struct cal_run runs[CAL_RUNS];
	uint64_t tsc[CAL_RUNS], lap[CAL_RUNS], pm[CAL_RUNS];

	for (unsigned i = 0; i < CAL_RUNS; i++) {
		int err = calibrate_once(pm_port, &runs[i]);
		if (err) {
			pr_err("timer: PIT channel 2 never reached zero: cannot calibrate");
			return err;
		}
		tsc[i] = runs[i].tsc;
		lap[i] = runs[i].lapic;
		pm[i] = runs[i].pm;
	}
	sort_u64(tsc, CAL_RUNS);
	sort_u64(lap, CAL_RUNS);
	sort_u64(pm, CAL_RUNS);

	/* The window is CAL_PIT_COUNT / PIT_HZ seconds. */
	uint64_t tsc_med = tsc[CAL_RUNS / 2], lap_med = lap[CAL_RUNS / 2];
	tsc_khz = tsc_med * PIT_HZ / ((uint64_t)CAL_PIT_COUNT * 1000);
	lapic_hz = lap_med * PIT_HZ / CAL_PIT_COUNT;
	cal_spread_ppm = (uint32_t)((tsc[CAL_RUNS - 1] - tsc[0]) * 1000000 / tsc_med);

	if (pm_port && pm[CAL_RUNS / 2]) {
		/* ppm by which the PM timer's view of the window differs from
		 * the PIT's: pm * PIT_HZ versus count * PM_HZ. */
		int64_t pm_scaled = (int64_t)pm[CAL_RUNS / 2] * PIT_HZ;
		int64_t pit_scaled = (int64_t)CAL_PIT_COUNT * ACPI_PM_TIMER_HZ;
		pm_dev_ppm = (pm_scaled - pit_scaled) * 1000000 / pit_scaled;
		pm_checked = true;
	}
	if (!tsc_khz || !lapic_hz) {
		pr_err("timer: calibration gave TSC %lu kHz, LAPIC timer %lu Hz",
		       (unsigned long)tsc_khz, (unsigned long)lapic_hz);
		return -EIO;
	}
	pr_info("timer: TSC %lu kHz, LAPIC timer %lu Hz (bus / %d), %d x %d ms against PIT ch2, spread %u ppm",
		(unsigned long)tsc_khz, (unsigned long)lapic_hz, LAPIC_TIMER_DIVIDE,
		CAL_RUNS, CAL_MS, cal_spread_ppm);
	if (pm_checked) {
		int64_t a = pm_dev_ppm < 0 ? -pm_dev_ppm : pm_dev_ppm;
		if (a > 10000)
			pr_warn("timer: ACPI PM timer disagrees with the PIT by %ld ppm", (long)pm_dev_ppm);
		else
			pr_info("timer: ACPI PM timer at port 0x%x agrees within %ld ppm",
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
	json_u64(j, "measured_hz_x1000", measured_mhz());
	json_u64(j, "calibration_spread_ppm", cal_spread_ppm);
	if (pm_checked)
		json_i64(j, "pm_timer_deviation_ppm", pm_dev_ppm);
	json_u64(j, "tick_hooks", nr_tick_hooks);
}
STATS_SECTION("timer", timer_stats);
