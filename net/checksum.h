/*
 * checksum.h - the Internet checksum (RFC 1071): the 16-bit one's
 * complement of the one's complement sum of 16-bit big-endian words.
 *
 * Sums are kept as a 64-bit accumulator of native (little-endian) 32-bit
 * loads and folded at the end. RFC 1071 section 2(B): the one's complement
 * sum is independent of byte order, so summing little-endian words and
 * swapping the folded result gives the same checksum as big-endian words.
 * Functions return and take sums in network byte order held in a uint16_t
 * as it would be loaded with get_be16(), i.e. ready for put_be16().
 *
 * Verification: a header whose checksum field is correct sums (with the
 * field included) to 0xffff, so csum_fold(...) == 0 means valid.
 * Pure; any context.
 */
#ifndef NET_CHECKSUM_H
#define NET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p to the running 64-bit sum (native order). */
uint64_t csum_partial(const void *p, size_t len, uint64_t sum);

/* Folds a running sum to 16 bits and complements it; result in network
 * order as get_be16() would read it. 0 over data that includes a correct
 * checksum field. */
uint16_t csum_fold(uint64_t sum);

/* Checksum of one buffer (e.g. an ICMP message with its field zeroed). */
static inline uint16_t inet_csum(const void *p, size_t len)
{
	return csum_fold(csum_partial(p, len, 0));
}

/* IPv4 header checksum over ihl*4 bytes; the 20-byte case is unrolled as
 * it runs for every received packet. */
uint16_t ip_hdr_csum(const void *hdr, unsigned int ihl);

/* Running sum of the TCP/UDP pseudo-header (RFC 768): source and
 * destination address, zero, protocol, length. Addresses in host order. */
uint64_t csum_pseudo(uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t len);

#endif
