/*
 * iface.c - our IPv4 interface's settings and address parsing/formatting
 * (pure; the `ip=` key is registered in net/netctl.c).
 */
#include "net/iface.h"
#include "kernel/errno.h"

struct net_iface net_if = {
	.ip = NET_DEFAULT_IP,
	.prefix = NET_DEFAULT_PREFIX,
	.udp_csum = true,
};

/* Parses a decimal number of at most 3 digits, <= max; advances *s. */
static int parse_dec(const char **s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0, n = 0;
	while (**s >= '0' && **s <= '9') {
		if (++n > 3)
			return -EINVAL;
		v = v * 10 + (unsigned int)(**s - '0');
		(*s)++;
	}
	if (!n || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int net_parse_ip(const char *s, uint32_t *ip, uint8_t *prefix)
{
	uint32_t a = 0;
	unsigned int v, p = 32;

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (parse_dec(&s, 255, &v))
			return -EINVAL;
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return -EINVAL;
	}
	if (*s == '/') {
		s++;
		if (parse_dec(&s, 32, &p))
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	*ip = a;
	*prefix = (uint8_t)p;
	return 0;
}

char *net_format_ip(uint32_t ip, char *buf)
{
	char *p = buf;
	for (int i = 3; i >= 0; i--) {
		unsigned int v = (ip >> (i * 8)) & 0xff;
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (i)
			*p++ = '.';
	}
	*p = 0;
	return buf;
}
