"""A fast time series of the tap's counters during a run.

NetNs.tap_stats() starts `ip netns exec` each time (milliseconds); to see
what happens inside a 50 ms window we need samples every millisecond. The
counters of the tap are also in /proc/PID/net/dev for any process PID in
the tap's namespace (proc(5): /proc/PID/net shows that process's network
namespace), and QEMU is such a process: one read() there costs tens of
microseconds, from a thread of ours.

    s = TapSampler(qemu_pid, "tap0", period=0.001).start()
    ... flood, act on the guest ...
    series = s.stop()        # [(t_monotonic, tx_packets, tx_dropped), ...]

For frames towards the guest, tx_packets counts frames QEMU read from the
tap and tx_dropped those the tun driver dropped because QEMU was not
reading (QEMU-FACTS.md). parse_net_dev() and the analysis helpers below
are pure.
"""
from __future__ import annotations

import threading
import time
from typing import Optional, Sequence

Sample = tuple[float, int, int]   # (time.monotonic(), tx_packets, tx_dropped)


def parse_net_dev(text: str, ifname: str) -> Optional[tuple[int, int]]:
    """(tx_packets, tx_dropped) of ifname from /proc/net/dev text, or None.
    Format: "  name: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame
    rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop ..."."""
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep or name.strip() != ifname:
            continue
        f = rest.split()
        if len(f) < 12:
            return None
        return int(f[9]), int(f[11])
    return None


class TapSampler:
    def __init__(self, pid: int, ifname: str, period: float = 0.001,
                 max_samples: int = 200_000):
        self.path = f"/proc/{pid}/net/dev"
        self.ifname = ifname
        self.period = period
        self.max_samples = max_samples
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.error: Optional[str] = None

    def _loop(self) -> None:
        nxt = time.monotonic()
        while not self._stop.is_set() and len(self.samples) < self.max_samples:
            try:
                with open(self.path) as f:
                    v = parse_net_dev(f.read(), self.ifname)
            except OSError as e:   # QEMU ended
                self.error = str(e)
                return
            if v is not None:
                self.samples.append((time.monotonic(), v[0], v[1]))
            nxt += self.period
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.monotonic()

    def start(self) -> "TapSampler":
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="tap-sampler")
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        return self.samples


# ------------------------------------------------------------ analysis (pure)

def rates(samples: Sequence[Sample], t0: float, bin_s: float = 0.005
          ) -> tuple[list[float], list[float], list[float]]:
    """Per-bin rates: (bin start in ms after t0, frames read by QEMU per
    second, frames dropped by the host per second)."""
    if len(samples) < 2:
        return [], [], []
    xs, rd, dr = [], [], []
    start = samples[0][0]
    i = 0
    while True:
        end = start + bin_s
        j = i
        while j + 1 < len(samples) and samples[j + 1][0] <= end + 1e-9:
            j += 1
        if j == i:
            if i + 1 >= len(samples):
                break
            j = i + 1
        dt = samples[j][0] - samples[i][0]
        if dt > 0:
            xs.append((samples[i][0] - t0) * 1000.0)
            rd.append((samples[j][1] - samples[i][1]) / dt)
            dr.append((samples[j][2] - samples[i][2]) / dt)
        i = j
        start = samples[i][0]
        if i + 1 >= len(samples):
            break
    return xs, rd, dr


def read_gaps(samples: Sequence[Sample], after: float, min_gap_s: float = 0.002
              ) -> list[tuple[float, float]]:
    """Intervals (start, end) after `after` during which QEMU read nothing
    for at least min_gap_s: start = time of the last read before, end = time
    of the first read after (or of the last sample if reads never resumed)."""
    gaps = []
    last_t = last_n = None
    for t, n, _ in samples:
        if t < after:
            continue
        if last_n is None:
            last_t, last_n = t, n
            continue
        if n != last_n:
            if t - last_t >= min_gap_s:
                gaps.append((last_t, t))
            last_t, last_n = t, n
    if last_n is not None and samples and samples[-1][0] - last_t >= min_gap_s:
        gaps.append((last_t, samples[-1][0]))
    return gaps


def _at(samples: Sequence[Sample], t: float) -> Sample:
    """The first sample at or after t (the last one if none)."""
    for s in samples:
        if s[0] >= t:
            return s
    return samples[-1]


def stall_and_recovery(samples: Sequence[Sample], after: float, window_s: float,
                       offered_pps: float, min_gap_s: float = 0.002) -> dict:
    """What the tap series shows about a window of `window_s` seconds,
    started some time after `after` (the moment the command was sent; the
    guest starts it when its shell gets to it, tens of ms later under a
    flood), during which the guest did not drain its ring:

      stall_ms          the longest time after `after` that QEMU read
                        nothing (the ring was full)
      window_start_ms   where the window began, estimated as the end of that
                        stall minus window_s (the guest drains, and QEMU
                        reads again, as soon as the window ends), in ms after
                        the flood started
      ms_to_full        from the window's start until QEMU stopped reading
      frames_before_stop  frames QEMU read in that time: the ring's free
                        descriptors at the start, plus the one QEMU holds
      dropped_in_stall  frames the host dropped during the stall
      stall_beyond_window_ms  how much longer than the window the stall
                        lasted (0 normally; the edge hazard: nothing woke
                        the driver when the window ended)
      recovery_ms       from the end of the stall until QEMU's read rate was
                        back to at most 1.5 x offered (the backlog in the tun
                        queue drained at the guest's full speed)
      host_dropped      tx_dropped increase over the whole series
    Times in the samples are seconds (any origin); results in ms.
    """
    out = {"stall_ms": None, "window_start_ms": None, "ms_to_full": None,
           "frames_before_stop": None, "dropped_in_stall": None,
           "recovery_ms": None,
           "host_dropped": (samples[-1][2] - samples[0][2]) if samples else 0}
    gaps = read_gaps(samples, after, min_gap_s)
    if not gaps:
        return out
    g0, g1 = max(gaps, key=lambda g: g[1] - g[0])
    # A stall longer than the window (no interrupt came when it ended: the
    # edge hazard) cannot place the window's start from its end; then the
    # start is taken where the reads stopped.
    start = max(after, min(g1 - window_s, g0))
    s_start, s_g0, s_g1 = _at(samples, start), _at(samples, g0), _at(samples, g1)
    out["stall_beyond_window_ms"] = round(max(0.0, g1 - g0 - window_s) * 1000, 2)
    out.update(stall_ms=round((g1 - g0) * 1000, 2),
               window_start_ms=round(start * 1000, 2),
               ms_to_full=round((g0 - start) * 1000, 2),
               frames_before_stop=s_g0[1] - s_start[1],
               dropped_in_stall=s_g1[2] - s_g0[2])
    # Caught up: the first 5 ms bin after the stall whose read rate is
    # <= 1.5 x offered (the backlog is gone, QEMU reads what arrives).
    t_prev, n_prev = s_g1[0], s_g1[1]
    for t, n, _ in samples:
        if t <= s_g1[0]:
            continue
        if t - t_prev >= 0.005:
            if (n - n_prev) / (t - t_prev) <= 1.5 * offered_pps:
                out["recovery_ms"] = round((t_prev - s_g1[0]) * 1000, 2)
                break
            t_prev, n_prev = t, n
    return out
