/*
 * test_flood_pace - the flood generator's absolute send schedule, driven
 * by a simulated clock: the sender "sleeps" until pace_due_ns() plus some
 * oversleep, and each sendmmsg costs a fixed time. Compiles
 * harness/flood/pace.c into this host test.
 */
#include <string.h>

#include "check.h"
#include "harness/flood/pace.c"

#define MS 1000000ull
#define US 1000ull

struct sim {
	uint64_t oversleep_ns;      /* every wake-up this late */
	uint64_t cost_ns;           /* per batch sent */
	uint64_t stall_at_ns;       /* one stall of stall_ns when first reached */
	uint64_t stall_ns;
	uint64_t batches, max_batch;
};

/* Run until `end_ns` (or count sent); returns packets sent. */
static uint64_t simulate(struct pace *p, struct sim *s, uint64_t count,
			 uint64_t end_ns)
{
	uint64_t now = p->t0_ns, sent = 0;
	int stalled = 0;
	while (now < end_ns && sent < count) {
		if (!stalled && s->stall_ns && now >= s->stall_at_ns) {
			now += s->stall_ns;
			stalled = 1;
			continue;
		}
		unsigned n = pace_ready(p, sent, count - sent, now);
		if (n == 0) {
			uint64_t due = pace_due_ns(p, sent);
			if (due <= now)   /* only a failure is counted */
				CHECK(due > now);
			now = due + s->oversleep_ns;
			continue;
		}
		sent += n;
		s->batches++;
		if (n > s->max_batch)
			s->max_batch = n;
		now += s->cost_ns;
	}
	return sent;
}

static void test_auto_batch(void)
{
	static const struct { uint64_t rate; unsigned cap, want; } t[] = {
		{ 0, 64, 64 }, { 0, 0, PACE_MAX_BATCH }, { 1, 64, 1 },
		{ 10000, 64, 1 }, { 14999, 64, 1 }, { 15000, 64, 2 },
		{ 20000, 64, 2 }, { 100000, 64, 10 }, { 500000, 64, 50 },
		{ 1000000, 64, 64 }, { 1000000, 2000, 100 },
		{ 100000000, 0, PACE_MAX_BATCH },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_EQ_U(pace_auto_batch(t[i].rate, t[i].cap), t[i].want);
}

static void test_due_times(void)
{
	struct pace p;
	pace_start(&p, 20000, 2, PACE_DEFAULT_MAX_LAG_NS, 1000);
	CHECK_EQ_U(pace_due_ns(&p, 0), 1000);
	CHECK_EQ_U(pace_due_ns(&p, 1), 1000 + 50 * US);
	CHECK_EQ_U(pace_due_ns(&p, 20000), 1000 + 1000 * MS);
	/* 3 pps: floor of 1e9/3 per packet, but no drift over many. */
	pace_start(&p, 3, 1, PACE_DEFAULT_MAX_LAG_NS, 0);
	CHECK_EQ_U(pace_due_ns(&p, 1), 333333333);
	CHECK_EQ_U(pace_due_ns(&p, 3000), 1000ull * 1000 * MS);
	/* The largest run (1e8 packets at 1 pps) does not overflow. */
	pace_start(&p, 1, 1, 0, 0);
	CHECK_EQ_U(pace_due_ns(&p, 100000000), 100000000ull * 1000 * MS);
	CHECK_EQ_U(pace_window_end_ns(&p, 5), 5000 * MS);
	/* Unpaced: always due, no window. */
	pace_start(&p, 0, 64, 0, 77);
	CHECK_EQ_U(pace_due_ns(&p, 12345), 77);
	CHECK_EQ_U(pace_window_end_ns(&p, 12345), 0);
}

static void test_exact_rate(uint64_t rate, uint64_t oversleep, uint64_t cost)
{
	struct pace p;
	struct sim s = { .oversleep_ns = oversleep, .cost_ns = cost };
	unsigned b = pace_auto_batch(rate, PACE_DEFAULT_BATCH);
	pace_start(&p, rate, b, PACE_DEFAULT_MAX_LAG_NS, 5 * MS);
	/* Everything due in the first second, i.e. with due time < t0 + 1 s. */
	uint64_t sent = simulate(&p, &s, UINT64_MAX, 5 * MS + 1000 * MS);
	uint64_t lo = rate, hi = rate + b;
	if (sent < lo || sent > hi)
		fprintf(stderr, "  rate %llu oversleep %llu: sent %llu\n",
			(unsigned long long)rate, (unsigned long long)oversleep,
			(unsigned long long)sent);
	CHECK(sent >= lo && sent <= hi);
	CHECK_EQ_U(p.slips, 0);
	CHECK(s.max_batch <= b);
}

static void test_rates(void)
{
	static const uint64_t rates[] = { 10000, 20000, 50000, 100000, 300000, 500000 };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		test_exact_rate(rates[i], 0, 1 * US);
		/* Each wake-up 60 us late (a coarse timer): still exact on average. */
		test_exact_rate(rates[i], 60 * US, 1 * US);
	}
}

static void test_short_stall_caught_up(void)
{
	struct pace p;
	struct sim s = { .cost_ns = 2 * US, .stall_at_ns = 300 * MS, .stall_ns = 5 * MS };
	pace_start(&p, 100000, 10, 10 * MS, 0);
	uint64_t sent = simulate(&p, &s, UINT64_MAX, 1000 * MS);
	CHECK(sent >= 100000 && sent <= 100010);
	CHECK_EQ_U(p.slips, 0);
	CHECK(p.late_batches > 0);
	CHECK(p.max_lag_ns_seen >= 4 * MS && p.max_lag_ns_seen <= 6 * MS);
	CHECK(s.max_batch <= 10);   /* caught up in batches, not one burst */
}

static void test_long_stall_slips(void)
{
	struct pace p;
	struct sim s = { .cost_ns = 2 * US, .stall_at_ns = 300 * MS, .stall_ns = 50 * MS };
	pace_start(&p, 100000, 10, 10 * MS, 0);
	uint64_t sent = simulate(&p, &s, UINT64_MAX, 1000 * MS);
	CHECK_EQ_U(p.slips, 1);
	CHECK(p.slipped_ns >= 49 * MS && p.slipped_ns <= 51 * MS);
	/* About 50 ms worth (5000 packets) never offered. */
	CHECK(sent >= 94900 && sent <= 95100);
}

static void test_count_and_unpaced(void)
{
	struct pace p;
	struct sim s = { .cost_ns = 1 * US };
	pace_start(&p, 20000, 2, 10 * MS, 0);
	CHECK_EQ_U(simulate(&p, &s, 7, 1000 * MS), 7);   /* odd count: last batch of 1 */
	CHECK_EQ_U(pace_ready(&p, 7, 0, 1000 * MS), 0);
	pace_start(&p, 0, 64, 10 * MS, 0);
	CHECK_EQ_U(pace_ready(&p, 0, 1000, 0), 64);
	CHECK_EQ_U(pace_ready(&p, 990, 10, 0), 10);
	CHECK_EQ_U(p.late_batches, 0);
	/* Not yet due. */
	pace_start(&p, 1000, 1, 10 * MS, 0);
	CHECK_EQ_U(pace_ready(&p, 0, 5, 0), 1);
	CHECK_EQ_U(pace_ready(&p, 1, 4, 999 * US), 0);
	CHECK_EQ_U(pace_ready(&p, 1, 4, 1000 * US), 1);
}

int main(void)
{
	test_auto_batch();
	test_due_times();
	test_rates();
	test_short_stall_caught_up();
	test_long_stall_slips();
	test_count_and_unpaced();
	return check_summary("test_flood_pace");
}
