/*
 * arp_cache.c - LRU IPv4-to-MAC cache (see arp_cache.h). Pure.
 */
#include "net/arp_cache.h"
#include "kernel/lib/string.h"

struct arp_cache arp_cache;

void arp_cache_clear(struct arp_cache *c)
{
	memset(c, 0, sizeof(*c));
}

static struct arp_entry *find(struct arp_cache *c, uint32_t ip)
{
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		if (c->e[i].ip == ip)
			return &c->e[i];
	return NULL;
}

static void touch(struct arp_cache *c, struct arp_entry *e)
{
	e->used = ++c->clock;
	e->hits++;
}

enum arp_update arp_cache_learn(struct arp_cache *c, uint32_t ip, const uint8_t *mac)
{
	/* A group MAC (I/G bit, IEEE 802 48-bit address bit 0 of the first
	 * octet) is never a host's address; ip 0 is an ARP probe (RFC 5227). */
	if (!ip || (mac[0] & 1))
		return ARP_REJECTED;

	struct arp_entry *e = find(c, ip);
	enum arp_update r = ARP_UPDATED;
	if (!e) {
		e = find(c, 0);
		r = ARP_ADDED;
	}
	if (!e) {
		e = &c->e[0];
		for (int i = 1; i < ARP_CACHE_SIZE; i++)
			if (c->e[i].used < e->used)
				e = &c->e[i];
		r = ARP_EVICTED;
	}
	if (r != ARP_UPDATED) {
		e->ip = ip;
		e->hits = 0;
	}
	memcpy(e->mac, mac, 6);
	touch(c, e);
	return r;
}

bool arp_cache_refresh(struct arp_cache *c, uint32_t ip, const uint8_t *mac)
{
	struct arp_entry *e;
	if (!ip || (mac[0] & 1) || !(e = find(c, ip)))
		return false;
	memcpy(e->mac, mac, 6);
	touch(c, e);
	return true;
}

bool arp_cache_lookup(struct arp_cache *c, uint32_t ip, uint8_t *mac)
{
	struct arp_entry *e;
	if (!ip || !(e = find(c, ip)))
		return false;
	memcpy(mac, e->mac, 6);
	touch(c, e);
	return true;
}
