/*
 * Host test of net/sink.c: received, gaps, duplicates, reordered and
 * highest_seq for in-order streams, losses, duplicates, late arrivals
 * inside and beyond the 4096-number window, and big jumps; and the
 * invariant received - duplicates == highest_seq + 1 - gaps.
 */
#include "net_shim.h"
#include "check.h"
#include "net/sink.c"

static struct sink s;

static void feed(uint64_t seq) { sink_account(&s, seq, 100); }

static int invariant(void)
{
	return s.received - s.duplicates == s.highest_seq + 1 - s.gaps;
}

static void test_in_order(void)
{
	sink_reset(&s);
	for (uint64_t q = 0; q < 10000; q++)
		feed(q);
	CHECK_EQ_U(s.received, 10000);
	CHECK_EQ_U(s.highest_seq, 9999);
	CHECK_EQ_U(s.gaps, 0);
	CHECK_EQ_U(s.duplicates, 0);
	CHECK_EQ_U(s.reordered, 0);
	CHECK_EQ_U(s.bytes, 1000000);
	CHECK(invariant());
}

static void test_losses(void)
{
	sink_reset(&s);
	/* lose every 10th, and the first two */
	for (uint64_t q = 2; q < 1000; q++)
		if (q % 10 != 5)
			feed(q);
	CHECK_EQ_U(s.highest_seq, 999);
	CHECK_EQ_U(s.gaps, 2 + 100);
	CHECK_EQ_U(s.received, 998 - 100);
	CHECK_EQ_U(s.duplicates + s.reordered, 0);
	CHECK(invariant());
}

static void test_dups_and_reorder(void)
{
	sink_reset(&s);
	feed(0); feed(1); feed(3); feed(4);      /* 2 missing */
	CHECK_EQ_U(s.gaps, 1);
	feed(4);                                 /* duplicate of highest */
	feed(1);                                 /* duplicate inside window */
	CHECK_EQ_U(s.duplicates, 2);
	feed(2);                                 /* late: fills the gap */
	CHECK_EQ_U(s.reordered, 1);
	CHECK_EQ_U(s.gaps, 0);
	feed(2);                                 /* and now it is a duplicate */
	CHECK_EQ_U(s.duplicates, 3);
	CHECK_EQ_U(s.reordered, 1);
	CHECK_EQ_U(s.received, 8);
	CHECK(invariant());

	/* swapped pairs: 6 5 8 7 ... */
	for (uint64_t q = 5; q < 105; q += 2) {
		feed(q + 1);
		feed(q);
	}
	CHECK_EQ_U(s.highest_seq, 104);
	CHECK_EQ_U(s.reordered, 1 + 50);
	CHECK_EQ_U(s.gaps, 0);
	CHECK(invariant());
}

static void test_window(void)
{
	sink_reset(&s);
	feed(0);
	feed(5000);                      /* 1..4999 missing */
	CHECK_EQ_U(s.gaps, 4999);
	feed(904);                       /* 5000-904 = 4096: beyond the window */
	CHECK_EQ_U(s.reordered, 1);
	CHECK_EQ_U(s.gaps, 4998);
	feed(905);                       /* 4095 back: inside, unseen */
	CHECK_EQ_U(s.reordered, 2);
	CHECK_EQ_U(s.gaps, 4997);
	feed(905);                       /* inside, seen: duplicate */
	CHECK_EQ_U(s.duplicates, 1);
	CHECK(invariant());

	/* Slots reused as the window moves: number 5000+4096 shares a slot
	 * with 5000 and must not read as a duplicate. */
	sink_reset(&s);
	for (uint64_t q = 0; q < 3 * SINK_WINDOW; q++)
		feed(q);
	CHECK_EQ_U(s.duplicates, 0);
	feed(3 * SINK_WINDOW - 1);
	CHECK_EQ_U(s.duplicates, 1);

	/* A jump larger than the window clears it. */
	feed(100000);
	CHECK_EQ_U(s.gaps, 100000 - 3 * SINK_WINDOW);
	feed(100000 - 1);
	CHECK_EQ_U(s.reordered, 1);
	feed(100000 - 4095);
	CHECK_EQ_U(s.reordered, 2);
	CHECK_EQ_U(s.duplicates, 1);
	CHECK(invariant());
}

static void test_first_and_reset(void)
{
	sink_reset(&s);
	feed(7);                         /* stream starts at 0: 0..6 missing */
	CHECK_EQ_U(s.gaps, 7);
	CHECK_EQ_U(s.highest_seq, 7);
	feed(3);
	CHECK_EQ_U(s.reordered, 1);
	CHECK_EQ_U(s.gaps, 6);
	CHECK(invariant());
	sink_reset(&s);
	CHECK_EQ_U(s.received + s.gaps + s.duplicates + s.reordered + s.highest_seq + s.bytes, 0);
	feed(0);
	CHECK_EQ_U(s.gaps, 0);
	CHECK_EQ_U(s.received, 1);
}

static void test_top_of_range(void)
{
	/* The last sequence numbers of the 64-bit range: no wrap, no hang. */
	sink_reset(&s);
	feed(UINT64_MAX - 10);
	feed(UINT64_MAX - 2);
	feed(UINT64_MAX);
	CHECK_EQ_U(s.highest_seq, UINT64_MAX);
	CHECK_EQ_U(s.gaps, UINT64_MAX - 10 + 7 + 1);
	feed(UINT64_MAX - 1);
	CHECK_EQ_U(s.reordered, 1);
	feed(UINT64_MAX - 2);
	CHECK_EQ_U(s.duplicates, 1);
}

int main(void)
{
	test_in_order();
	test_losses();
	test_dups_and_reorder();
	test_window();
	test_first_and_reset();
	test_top_of_range();
	return check_summary("test_net_sink");
}
