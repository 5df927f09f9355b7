/*
 * pace.h - the flood generator's send schedule, as pure arithmetic on
 * nanosecond timestamps (the caller reads CLOCK_MONOTONIC and sleeps with
 * clock_nanosleep(TIMER_ABSTIME) until pace_due_ns()).
 *
 * Packet k of a paced run is due at t0 + k * 1e9 / rate, an absolute
 * schedule: a late wake-up does not shift later packets, so the average
 * rate stays exact however coarse each sleep is. Packets go out in batches
 * (one sendmmsg each) whose first packet is due; a batch is sized to the
 * rate so that the sleeps are about PACE_TICK_NS apart: a 20 kpps run
 * sends 2 per wake-up, 500 kpps 50.
 *
 * When the sender is held off for longer than max_lag_ns (the host
 * preempted it, e.g. SCHED_IDLE behind QEMU), it does not burst the whole
 * backlog at line rate: the schedule slips (t0 moves forward) and the slip
 * is counted, so the achieved rate honestly falls below the requested one.
 * Shorter lags are caught up back to back.
 */
#ifndef HARNESS_FLOOD_PACE_H
#define HARNESS_FLOOD_PACE_H

#include <stdint.h>

#define PACE_NSEC          1000000000ull
#define PACE_TICK_NS       100000ull     /* aim: one wake-up per 100 us */
#define PACE_MAX_BATCH     1024u         /* UIO_MAXIOV: sendmmsg's vlen cap */
#define PACE_DEFAULT_BATCH 64u           /* unpaced, and the auto-size cap */
#define PACE_DEFAULT_MAX_LAG_NS 10000000ull  /* 10 ms: a few host ticks */

struct pace {
	uint64_t rate;          /* packets per second; 0 = as fast as possible */
	unsigned batch;         /* packets per sendmmsg */
	uint64_t max_lag_ns;    /* lag beyond which the schedule slips */
	uint64_t t0_ns;         /* due time of packet index `base` */
	uint64_t base;          /* packets sent before the last slip */
	/* observations */
	uint64_t slips;         /* times the schedule was moved forward */
	uint64_t slipped_ns;    /* total time skipped by slips */
	uint64_t late_batches;  /* batches sent more than one batch late */
	uint64_t max_lag_ns_seen;
};

/* Batch size for rate: rate * PACE_TICK_NS rounded, in 1..cap; cap for
 * rate 0 (unpaced). */
unsigned pace_auto_batch(uint64_t rate, unsigned cap);

/* Start the schedule: packet 0 is due at now_ns. */
void pace_start(struct pace *p, uint64_t rate, unsigned batch,
		uint64_t max_lag_ns, uint64_t now_ns);

/* Absolute due time of packet index n (n >= p->base). Unpaced: t0. */
uint64_t pace_due_ns(const struct pace *p, uint64_t n);

/*
 * Called with the number of packets sent so far and the time now: returns
 * how many to send in the next batch (1..batch, at most `remaining`), or 0
 * if the next packet is not yet due (sleep until pace_due_ns(p, sent)).
 * Records lag, late batches and slips as described above.
 */
unsigned pace_ready(struct pace *p, uint64_t sent, uint64_t remaining,
		    uint64_t now_ns);

/* End of the slot of the last packet sent: t0 + (sent - base) / rate,
 * used as the end of a paced run's offered window. Unpaced: 0. */
uint64_t pace_window_end_ns(const struct pace *p, uint64_t sent);

#endif
