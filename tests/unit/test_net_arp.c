/*
 * Host test of net/arp_cache.c: learning, refreshing, lookups, and least-
 * recently-used eviction when all 16 entries are taken.
 */
#include "net_shim.h"
#include "check.h"
#include "net/arp_cache.c"

static void mac_of(uint32_t ip, uint8_t *mac)
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = (uint8_t)(ip >> 24);
	mac[3] = (uint8_t)(ip >> 16);
	mac[4] = (uint8_t)(ip >> 8);
	mac[5] = (uint8_t)ip;
}

static void test_learn_lookup(void)
{
	struct arp_cache c;
	uint8_t m[6], got[6];
	arp_cache_clear(&c);

	mac_of(1, m);
	CHECK(arp_cache_learn(&c, 1, m) == ARP_ADDED);
	CHECK(arp_cache_lookup(&c, 1, got) && memcmp(got, m, 6) == 0);
	CHECK(!arp_cache_lookup(&c, 2, got));
	CHECK(!arp_cache_lookup(&c, 0, got));          /* 0 is never an entry */

	/* Relearn with a new MAC: updated in place, not a second entry. */
	m[5] = 0x99;
	CHECK(arp_cache_learn(&c, 1, m) == ARP_UPDATED);
	CHECK(arp_cache_lookup(&c, 1, got) && got[5] == 0x99);
	int n = 0;
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		n += c.e[i].ip != 0;
	CHECK_EQ_U(n, 1);

	/* Refresh only touches existing entries. */
	CHECK(!arp_cache_refresh(&c, 7, m));
	CHECK(!arp_cache_lookup(&c, 7, got));
	m[5] = 0x11;
	CHECK(arp_cache_refresh(&c, 1, m));
	CHECK(arp_cache_lookup(&c, 1, got) && got[5] == 0x11);

	/* Not learned: probes (ip 0), group MACs. */
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	CHECK(arp_cache_learn(&c, 0, m) == ARP_REJECTED);
	CHECK(arp_cache_learn(&c, 5, bcast) == ARP_REJECTED);
	CHECK(arp_cache_learn(&c, 5, mcast) == ARP_REJECTED);
	CHECK(!arp_cache_lookup(&c, 5, got));
}

static void test_lru(void)
{
	struct arp_cache c;
	uint8_t m[6], got[6];
	arp_cache_clear(&c);

	for (uint32_t ip = 1; ip <= ARP_CACHE_SIZE; ip++) {
		mac_of(ip, m);
		CHECK(arp_cache_learn(&c, ip, m) == ARP_ADDED);
	}
	/* Use 1 and 2 again: 3 becomes the least recently used. */
	CHECK(arp_cache_lookup(&c, 1, got));
	CHECK(arp_cache_lookup(&c, 2, got));
	mac_of(100, m);
	CHECK(arp_cache_learn(&c, 100, m) == ARP_EVICTED);
	CHECK(!arp_cache_lookup(&c, 3, got));
	CHECK(arp_cache_lookup(&c, 1, got));
	CHECK(arp_cache_lookup(&c, 2, got));
	CHECK(arp_cache_lookup(&c, 100, got) && memcmp(got, m, 6) == 0);
	/* Next victim: 4 (refresh counts as a use, so refresh 4 first and
	 * the victim becomes 5). */
	mac_of(4, m);
	CHECK(arp_cache_refresh(&c, 4, m));
	mac_of(101, m);
	CHECK(arp_cache_learn(&c, 101, m) == ARP_EVICTED);
	CHECK(arp_cache_lookup(&c, 4, got));
	CHECK(!arp_cache_lookup(&c, 5, got));

	/* A long run of new addresses keeps exactly 16 entries, the newest. */
	for (uint32_t ip = 1000; ip < 1100; ip++) {
		mac_of(ip, m);
		arp_cache_learn(&c, ip, m);
	}
	int present = 0;
	for (uint32_t ip = 1000; ip < 1100; ip++)
		present += arp_cache_lookup(&c, ip, got);
	CHECK_EQ_U(present, ARP_CACHE_SIZE);
	for (uint32_t ip = 1100 - ARP_CACHE_SIZE; ip < 1100; ip++)
		CHECK(arp_cache_lookup(&c, ip, got));
}

int main(void)
{
	test_learn_lookup();
	test_lru();
	return check_summary("test_net_arp");
}
