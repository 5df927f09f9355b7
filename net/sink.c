/*
 * sink.c - sequence accounting of the UDP sink (see sink.h). Pure.
 */
#include "net/sink.h"
#include "kernel/lib/string.h"

struct sink sink;

void sink_reset(struct sink *s)
{
	memset(s, 0, sizeof(*s));
}

static inline bool test_and_set(struct sink *s, uint64_t seq)
{
	unsigned int bit = (unsigned int)(seq % SINK_WINDOW);
	uint64_t mask = 1ull << (bit % 64);
	bool was = s->seen[bit / 64] & mask;
	s->seen[bit / 64] |= mask;
	return was;
}

static inline void clear_bit(struct sink *s, uint64_t seq)
{
	unsigned int bit = (unsigned int)(seq % SINK_WINDOW);
	s->seen[bit / 64] &= ~(1ull << (bit % 64));
}

/* The window moves from highest h up to s: slots of h+1..s held numbers
 * SINK_WINDOW older and must read as "not seen". */
static void advance(struct sink *s, uint64_t h, uint64_t to)
{
	if (to - h >= SINK_WINDOW) {
		memset(s->seen, 0, sizeof(s->seen));
		return;
	}
	/* Counted, not `q <= to`: to may be UINT64_MAX (found by fuzzing). */
	for (uint64_t i = 1; i <= to - h; i++)    /* < SINK_WINDOW iterations */
		clear_bit(s, h + i);
}

void sink_account(struct sink *s, uint64_t seq, uint32_t payload_len)
{
	s->received++;
	s->bytes += payload_len;

	if (!s->started) {
		/* The stream starts at 0: numbers before the first are gaps. */
		s->started = true;
		s->gaps = seq;
		s->highest_seq = seq;
		memset(s->seen, 0, sizeof(s->seen));
		test_and_set(s, seq);
		return;
	}
	if (seq > s->highest_seq) {
		s->gaps += seq - s->highest_seq - 1;
		advance(s, s->highest_seq, seq);
		s->highest_seq = seq;
		test_and_set(s, seq);
		return;
	}
	if (s->highest_seq - seq >= SINK_WINDOW) {
		/* Older than the window: assume a late first arrival. */
		s->reordered++;
		if (s->gaps)
			s->gaps--;
		return;
	}
	if (test_and_set(s, seq)) {
		s->duplicates++;
		return;
	}
	s->reordered++;
	s->gaps--;   /* seq < highest and unseen: it was counted as a gap */
}
