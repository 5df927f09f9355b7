/*
 * netstat.c - the receive-path counters and the names of verdicts (see
 * netstat.h). Pure data; the shell and stats output live in net/netctl.c.
 */
#include "net/netstat.h"

struct net_counters net_stats;

static const char *const verdict_names[NV_NR] = {
#define NV_NAME(name) [NV_##name] = #name,
	NET_OUTCOMES(NV_NAME)
	NET_DROP_REASONS(NV_NAME)
#undef NV_NAME
};

const char *net_verdict_name(enum net_verdict v)
{
	if ((unsigned)v >= NV_NR || !verdict_names[v])
		return "?";
	return verdict_names[v];
}

uint64_t net_dropped_total(const struct net_counters *c)
{
	uint64_t n = 0;
	for (int v = NV_DROP_FIRST; v < NV_NR; v++)
		n += c->verdict[v];
	return n;
}

int64_t net_unaccounted(const struct net_counters *c)
{
	uint64_t n = 0;
	for (int v = 0; v < NV_NR; v++)
		n += c->verdict[v];
	return (int64_t)(c->rx_frames - n);
}
