/*
 * arp_cache.h - a small IPv4-to-MAC cache with least-recently-used
 * replacement. 16 entries, searched linearly: on a lab link there are one
 * or two peers, and a linear scan of 16 beats any structure under TCG.
 *
 * "Used" means looked up or (re)learned; each use takes the next value of
 * a 64-bit clock, and the entry with the smallest stamp is evicted.
 * Pure; the caller serialises access (the receive path owns it; the shell
 * copies it with interrupts off).
 */
#ifndef NET_ARP_CACHE_H
#define NET_ARP_CACHE_H

#include <stdint.h>
#include <stdbool.h>

#define ARP_CACHE_SIZE 16

struct arp_entry {
	uint32_t ip;        /* host order; 0 = empty slot */
	uint8_t mac[6];
	uint64_t used;      /* LRU stamp */
	uint64_t hits;      /* times learned or refreshed or looked up */
};

struct arp_cache {
	struct arp_entry e[ARP_CACHE_SIZE];
	uint64_t clock;
};

enum arp_update {
	ARP_UPDATED,    /* entry existed: MAC and stamp refreshed */
	ARP_ADDED,      /* put in an empty slot */
	ARP_EVICTED,    /* replaced the least recently used entry */
	ARP_REJECTED,   /* ip 0 or a multicast/broadcast MAC: not learned */
};

extern struct arp_cache arp_cache;

void arp_cache_clear(struct arp_cache *c);
/* Learn ip -> mac (create or refresh). */
enum arp_update arp_cache_learn(struct arp_cache *c, uint32_t ip, const uint8_t *mac);
/* Refresh ip -> mac only if ip is already cached; true if it was. */
bool arp_cache_refresh(struct arp_cache *c, uint32_t ip, const uint8_t *mac);
/* Copies the MAC for ip into mac and marks it used; false if absent. */
bool arp_cache_lookup(struct arp_cache *c, uint32_t ip, uint8_t *mac);

#endif
