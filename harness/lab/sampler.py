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


def stall_and_recovery(samples: Sequence[Sample], window_start: float,
                       window_end: float, offered_pps: float,
                       min_gap_s: float = 0.002) -> dict:
    """From the tap series around an interval in which the guest did not
    drain its ring (an IF=0 window, a masked device):

      reads_stopped_at  first moment after window_start at which QEMU read
                        nothing for min_gap_s (the ring was full), in ms
                        after window_start; None if it never stopped
      frames_before_stop  frames QEMU read between window_start and then
                        (about the free ring slots, plus the one QEMU holds)
      reads_resumed_at  first read after that, in ms after window_start
      recovery_ms       from reads resuming until QEMU had caught up with
                        the backlog in the tun ring: the read count is back
                        on the line `offered_pps` through the dropped
                        frames, i.e. reads stay within one bin of the rate
      host_dropped      tx_dropped increase over the series
    """
    out = {"reads_stopped_at": None, "frames_before_stop": None,
           "reads_resumed_at": None, "recovery_ms": None,
           "host_dropped": (samples[-1][2] - samples[0][2]) if samples else 0}
    if len(samples) < 3:
        return out
    base = None
    for s in samples:
        if s[0] >= window_start:
            base = s
            break
    if base is None:
        return out
    # first run of >= min_gap_s without reads, starting after window_start
    stop_t = stop_n = None
    last_change_t, last_n = base[0], base[1]
    for t, n, _ in samples:
        if t < window_start:
            continue
        if n != last_n:
            last_change_t, last_n = t, n
        elif t - last_change_t >= min_gap_s:
            stop_t, stop_n = last_change_t, last_n
            break
    if stop_t is None:
        return out
    out["reads_stopped_at"] = round((stop_t - window_start) * 1000, 2)
    out["frames_before_stop"] = stop_n - base[1]
    resume = next((s for s in samples if s[0] > stop_t and s[1] > stop_n), None)
    if resume is None:
        return out
    out["reads_resumed_at"] = round((resume[0] - window_start) * 1000, 2)
    # Caught up: from some sample on, QEMU's read rate falls back to the
    # offered rate (no backlog left to drain at the model's full speed).
    # Detect the end of the burst: the first 5 ms bin after resuming whose
    # read rate is <= 1.5 x offered.
    t_prev, n_prev = resume[0], resume[1]
    for t, n, _ in samples:
        if t <= resume[0]:
            continue
        if t - t_prev >= 0.005:
            rate = (n - n_prev) / (t - t_prev)
            if rate <= 1.5 * offered_pps:
                out["recovery_ms"] = round((t_prev - resume[0]) * 1000, 2)
                break
            t_prev, n_prev = t, n
    return out
