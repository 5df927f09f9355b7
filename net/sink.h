/*
 * sink.h - the UDP port 9 sink's sequence accounting, so that losses can be
 * counted packet by packet by any sender: each datagram's payload starts
 * with a 64-bit big-endian sequence number; a stream starts at 0 (after
 * boot or `sink reset`) and counts up by one.
 *
 *   received     datagrams accepted (duplicates included)
 *   bytes        their UDP payload bytes
 *   highest_seq  largest sequence number seen (0 before any)
 *   gaps         sequence numbers in [0, highest_seq] not received so far:
 *                a jump from h to s adds s-h-1; a late arrival that fills
 *                one takes it back off (and counts as reordered)
 *   duplicates   a sequence number received again
 *   reordered    a sequence number below highest_seq received for the
 *                first time
 *   short        payload under 8 bytes (no sequence number; not received)
 *
 * So, for a stream from 0, received - duplicates == highest_seq + 1 - gaps.
 *
 * Which numbers were seen is known for the last SINK_WINDOW numbers up to
 * highest_seq (a bitmap); an arrival older than that cannot be told apart
 * from a duplicate and is counted as reordered, filling a gap if any.
 *
 * Pure; the receive path owns it; the shell resets or copies it with
 * interrupts off.
 */
#ifndef NET_SINK_H
#define NET_SINK_H

#include <stdint.h>
#include <stdbool.h>

#define SINK_WINDOW 4096u   /* power of two */

struct sink {
	uint64_t received, gaps, duplicates, reordered, highest_seq, bytes, short_;
	bool started;
	uint64_t seen[SINK_WINDOW / 64]; /* bit (seq % SINK_WINDOW) */
};

extern struct sink sink;

void sink_reset(struct sink *s);
/* Accounts one datagram with sequence number seq and payload_len bytes. */
void sink_account(struct sink *s, uint64_t seq, uint32_t payload_len);

#endif
