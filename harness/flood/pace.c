/*
 * pace.c - absolute send schedule of the flood generator (see pace.h).
 * Host code; pure arithmetic, no clocks read here.
 */
#include "harness/flood/pace.h"

unsigned pace_auto_batch(uint64_t rate, unsigned cap)
{
	if (cap == 0 || cap > PACE_MAX_BATCH)
		cap = PACE_MAX_BATCH;
	if (rate == 0)
		return cap;
	uint64_t b = (rate * PACE_TICK_NS + PACE_NSEC / 2) / PACE_NSEC;
	if (b < 1)
		b = 1;
	return b > cap ? cap : (unsigned)b;
}

void pace_start(struct pace *p, uint64_t rate, unsigned batch,
		uint64_t max_lag_ns, uint64_t now_ns)
{
	*p = (struct pace){
		.rate = rate,
		.batch = batch ? batch : 1,
		.max_lag_ns = max_lag_ns,
		.t0_ns = now_ns,
	};
}

/* (n * 1e9) / rate without overflow for any n a run can reach. */
static uint64_t pkts_to_ns(uint64_t n, uint64_t rate)
{
	return (uint64_t)(((unsigned __int128)n * PACE_NSEC) / rate);
}

uint64_t pace_due_ns(const struct pace *p, uint64_t n)
{
	if (p->rate == 0 || n <= p->base)
		return p->t0_ns;
	return p->t0_ns + pkts_to_ns(n - p->base, p->rate);
}

unsigned pace_ready(struct pace *p, uint64_t sent, uint64_t remaining,
		    uint64_t now_ns)
{
	if (remaining == 0)
		return 0;
	unsigned n = remaining < p->batch ? (unsigned)remaining : p->batch;
	if (p->rate == 0)
		return n;
	uint64_t due = pace_due_ns(p, sent);
	if (now_ns < due)
		return 0;
	uint64_t lag = now_ns - due;
	if (lag > p->max_lag_ns_seen)
		p->max_lag_ns_seen = lag;
	if (lag > pkts_to_ns(p->batch, p->rate))
		p->late_batches++;
	if (lag > p->max_lag_ns) {
		/* Too far behind to catch up without a line-rate burst: let
		 * packet `sent` be due now and go on from there. */
		p->slips++;
		p->slipped_ns += lag;
		p->base = sent;
		p->t0_ns = now_ns;
	}
	return n;
}

uint64_t pace_window_end_ns(const struct pace *p, uint64_t sent)
{
	if (p->rate == 0)
		return 0;
	return pace_due_ns(p, sent);
}
