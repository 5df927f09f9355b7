/*
 * e1000_stats.c - the device's statistics registers and the "e1000"
 * section of the shell's `stats` JSON.
 *
 * The 8254x SDM (13.7) says every statistics register clears when read, so
 * a driver accumulates what each read returns. QEMU 7.2 follows that for
 * GPRC and TPR but keeps CRCERRS..MPC and RNBC as plain registers
 * (hw/net/e1000.c macreg_readops: mac_readreg, not mac_read_clr4), so
 * there a read returns a running total. The driver tells the two apart at
 * run time, per register: the first time a read returns at least 16 it
 * reads again at once; a register that clears now reads far less (only
 * what arrived in between), a running counter reads at least as much.
 * Until then a register is treated as a running counter.
 *
 * Context: task context (the shell's `stats` and `e1000 status`), so reads
 * never race with each other; the RX/TX counters written by the poll and
 * the top half are single aligned 64-bit words, read atomically on x86-64.
 */
#include "drivers/e1000/e1000.h"
#include "kernel/registry.h"
#include "kernel/time.h"
#include "kernel/lib/json.h"
#include "kernel/lib/printf.h"

#define PROBE_MIN 16u

static const struct { const char *name; uint32_t reg; } hw_regs[E1000_HW_NR] = {
	[E1000_HW_MPC] = { "mpc", E1000_MPC },
	[E1000_HW_RNBC] = { "rnbc", E1000_RNBC },
	[E1000_HW_CRCERRS] = { "crcerrs", E1000_CRCERRS },
	[E1000_HW_GPRC] = { "gprc", E1000_GPRC },
	[E1000_HW_TPR] = { "tpr", E1000_TPR },
};

static const char *const drop_names[E1000_DROP_NR] = {
	[E1000_DROP_MULTIDESC] = "multi_descriptor",
	[E1000_DROP_ERR_CE] = "crc_error",
	[E1000_DROP_ERR_SE] = "symbol_error",
	[E1000_DROP_ERR_SEQ] = "sequence_error",
	[E1000_DROP_ERR_CXE] = "carrier_ext_error",
	[E1000_DROP_ERR_RXE] = "rx_data_error",
	[E1000_DROP_BAD_LEN] = "bad_length",
	[E1000_DROP_RUNT] = "runt",
	[E1000_DROP_NO_BUF] = "no_buffer",
};

void e1000_stats_init(struct e1000_adapter *a)
{
	for (int i = 0; i < E1000_HW_NR; i++) {
		a->hwstat[i].name = hw_regs[i].name;
		a->hwstat[i].reg = hw_regs[i].reg;
		a->hwstat[i].clear_on_read = -1;
		a->hwstat[i].raw = 0;
		a->hwstat[i].total = 0;
	}
	/* Real hardware: start from zero (these reads clear). QEMU: the
	 * values become the running counters' base. */
	for (int i = 0; i < E1000_HW_NR; i++)
		a->hwstat[i].raw = er32(a, a->hwstat[i].reg);
}

static void hwstat_read(struct e1000_adapter *a, struct e1000_hwstat *s)
{
	uint32_t v = er32(a, s->reg);

	if (s->clear_on_read < 0 && v >= PROBE_MIN && v - s->raw >= PROBE_MIN) {
		uint32_t again = er32(a, s->reg);
		s->clear_on_read = again < v;
		if (s->clear_on_read) {
			s->total += (uint64_t)v + again;
			return;
		}
		v = again;
	}
	if (s->clear_on_read == 1) {
		s->total += v;
		return;
	}
	/* Running counter (QEMU saturates it, never wraps). */
	s->total += v >= s->raw ? v - s->raw : v;
	s->raw = v;
}

void e1000_stats_update(struct e1000_adapter *a)
{
	for (int i = 0; i < E1000_HW_NR; i++)
		hwstat_read(a, &a->hwstat[i]);
}

static void json_mac(struct json *j, const char *key, const uint8_t *m)
{
	char buf[18];
	ksnprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
		  m[0], m[1], m[2], m[3], m[4], m[5]);
	json_str(j, key, buf);
}

static void e1000_stats_json(struct json *j)
{
	struct e1000_adapter *a = e1000_adapter0;
	if (!a) {
		json_bool(j, "present", false);
		return;
	}
	struct e1000_stats *s = &a->st;

	e1000_stats_update(a);
	json_bool(j, "present", true);
	json_str(j, "model", a->model_name);
	json_mac(j, "mac", a->netdev.mac);
	json_bool(j, "link", e1000_check_link(a));
	json_str(j, "mode", e1000_mode_names[a->mode]);
	json_bool(j, "napi", a->napi_on);
	json_i64(j, "gsi", a->gsi);
	json_str(j, "gsi_source", pci_gsi_source_name(a->gsi_source));
	json_u64(j, "itr", a->itr);
	json_u64(j, "rxring", a->rx.count);
	json_u64(j, "txring", a->tx.count);
	json_u64(j, "rx_batch", a->rx.batch);
	uint64_t age_ms = (uptime_ns() - a->rctl_written_ns) / 1000000u;
	json_u64(j, "rctl_age_ms", age_ms);
	/* QEMU's e1000 receives nothing for 1 s of virtual time after an
	 * RCTL write; the e1000e has no such timer. */
	json_bool(j, "rx_ready", a->model == E1000_82574L || age_ms > 1000);

	json_obj_begin(j, "irq");
	uint64_t total = 0;
	for (int m = 0; m < E1000_IRQ_NR_MODES; m++) {
		json_u64(j, e1000_mode_names[m], s->irq[m]);
		total += s->irq[m];
	}
	json_u64(j, "count", total);
	json_u64(j, "spurious", s->irq_spurious);
	json_u64(j, "msix_rx", s->irq_msix[E1000_MSIX_RX]);
	json_u64(j, "msix_tx", s->irq_msix[E1000_MSIX_TX]);
	json_u64(j, "msix_other", s->irq_msix[E1000_MSIX_OTHER]);
	json_obj_end(j);
	json_u64(j, "nonapi_packets", s->irq_rx_packets);

	json_obj_begin(j, "causes");
	json_u64(j, "rxt0", s->cause_rxt0);
	json_u64(j, "rxo", s->cause_rxo);
	json_u64(j, "rxdmt0", s->cause_rxdmt0);
	json_u64(j, "lsc", s->cause_lsc);
	json_u64(j, "txdw", s->cause_txdw);
	json_u64(j, "other", s->cause_other);
	json_obj_end(j);

	json_u64(j, "polls", s->polls);
	json_u64(j, "polls_full", s->polls_full);
	json_u64(j, "poll_packets", s->poll_packets);
	json_arr_begin(j, "poll_hist");
	for (int b = 0; b < E1000_HIST_BUCKETS; b++)
		json_u64(j, NULL, s->hist[b]);
	json_arr_end(j);
	json_u64(j, "weight", (uint64_t)a->napi.weight);
	json_u64(j, "irq_to_poll_count", s->lat_count);
	json_u64(j, "irq_to_poll_avg_ns", s->lat_count ? tsc_to_ns(s->lat_sum_tsc / s->lat_count) : 0);
	json_u64(j, "irq_to_poll_max_ns", tsc_to_ns(s->lat_max_tsc));
	json_u64(j, "recheck_hits", s->recheck_hits);
	json_u64(j, "ring_high_water", s->ring_hwm);
	json_u64(j, "ring_full_polls", s->ring_full);
	json_u64(j, "rx_pending", e1000_rx_filled(a));

	json_u64(j, "rx_packets", s->rx_packets);
	json_u64(j, "rx_bytes", s->rx_bytes);
	uint64_t dropped = 0;
	json_obj_begin(j, "rx_drops");
	for (int d = 0; d < E1000_DROP_NR; d++) {
		json_u64(j, drop_names[d], s->rx_drop[d]);
		dropped += s->rx_drop[d];
	}
	json_obj_end(j);
	json_u64(j, "rx_dropped", dropped);
	json_u64(j, "rdt_writes", s->rdt_writes);

	json_u64(j, "tx_packets", s->tx_packets);
	json_u64(j, "tx_bytes", s->tx_bytes);
	json_u64(j, "tx_busy", s->tx_busy);
	json_u64(j, "tx_linkdown", s->tx_linkdown);
	json_u64(j, "tdt_writes", s->tdt_writes);
	json_u64(j, "tx_reclaimed", s->tx_reclaimed);

	json_obj_begin(j, "watchdog");
	json_u64(j, "ms", a->wd_ms);
	json_u64(j, "checks", s->wd_checks);
	json_u64(j, "recoveries", s->wd_stalls);
	json_u64(j, "recovered_packets", s->wd_recovered_packets);
	json_obj_end(j);

	json_u64(j, "mmio_reads", s->mmio_reads);
	json_u64(j, "mmio_writes", s->mmio_writes);
	uint64_t pk = s->rx_packets + s->tx_packets;
	json_u64(j, "mmio_per_1000_packets",
		 pk ? (s->mmio_reads + s->mmio_writes) * 1000 / pk : 0);
	json_u64(j, "mmio_ns", tsc_to_ns(s->mmio_tsc));
	json_u64(j, "mmio_max_ns", tsc_to_ns(s->mmio_max_tsc));

	json_obj_begin(j, "hw");
	for (int i = 0; i < E1000_HW_NR; i++)
		json_u64(j, a->hwstat[i].name, a->hwstat[i].total);
	json_obj_end(j);
	/* The device's own drop counters, named as the flood lab expects. */
	json_u64(j, "mpc", a->hwstat[E1000_HW_MPC].total);
	json_u64(j, "rnbc", a->hwstat[E1000_HW_RNBC].total);
	json_u64(j, "rxo", s->cause_rxo);
}
STATS_SECTION("e1000", e1000_stats_json);
