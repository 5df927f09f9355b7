/*
 * iface.h - our one IPv4 interface: the address from `ip=ADDR/PREFIX`
 * (default 10.77.0.2/24) and the MAC of the first registered netdev.
 * Written at boot (command line, netdev_register) and read by the
 * receive path; the prefix is only shown (the stack answers senders on
 * the link and does no routing).
 */
#ifndef NET_IFACE_H
#define NET_IFACE_H

#include <stdint.h>
#include <stdbool.h>

#define NET_DEFAULT_IP     0x0a4d0002u /* 10.77.0.2 */
#define NET_DEFAULT_PREFIX 24

struct net_iface {
	uint32_t ip;          /* host byte order */
	uint8_t prefix;       /* 0..32 */
	uint8_t mac[6];
	bool udp_csum;        /* verify nonzero UDP checksums (`udp_csum=`) */
};

extern struct net_iface net_if;

/*
 * Parses "a.b.c.d/prefix" (the "/prefix" part optional, meaning 32) into
 * host-order address and prefix. Pure. 0 or -EINVAL.
 */
int net_parse_ip(const char *s, uint32_t *ip, uint8_t *prefix);

/* Formats a host-order address as "a.b.c.d" into buf (>= 16 bytes). */
char *net_format_ip(uint32_t ip, char *buf);

#endif
