"""Scheduler scenarios (issue 3): kernel threads, forced preemption by the
timer in kernel and user mode, no preemption inside preempt_disable(),
sleeping in atomic context caught, the time slice key, timed sleep.

Kernel side: kernel/sched/ (schedtest.c prints the JSON read here).
"""
import json
import re
import time

import pytest


def one_json(out: str) -> dict:
    lines = [l for l in out.splitlines() if l.startswith("{")]
    assert len(lines) == 1, f"expected one JSON line in: {out!r}"
    return json.loads(lines[0])


def tasks(kernel) -> dict:
    return {t["pid"]: t for t in kernel.stats()["sched"]["tasks"]}


def test_boot_tasks_exist(kernel):
    t = {x["name"]: x for x in tasks(kernel).values()}
    assert t["idle"]["pid"] == 0
    assert t["init"]["state"] == "dead" and t["init"]["exit_code"] == 0
    assert t["shell"]["current"] is True
    assert t["ksoftirqd"]["state"] in ("sleeping", "running")
    out = kernel.run("ps")
    assert re.search(r"^\s+0 idle\s", out, re.M)
    assert re.search(r"^\s+\d+ shell\s+running\s+K\*", out, re.M)


def test_kernel_threads_preempted_by_timer(kernel):
    """Two kernel threads busy-loop with preemption enabled and never
    yield: only the timer can move the CPU between them, and it must."""
    r = one_json(kernel.run("schedtest kloop 300", timeout=30))
    slice_ms = kernel.stats()["sched"]["timeslice_ms"]
    for th in r["threads"]:
        # 300 ms of loop each, 10 ms slices, sharing one CPU: many switches
        assert th["preempt_kernel"] >= 5, th
        assert th["preempt_enable"] == 0, th
        # each saw the other one make progress while it was itself still
        # looping: the CPU was taken from it and given back
        assert th["saw_other"] >= 5, th
        # the longest stretch without running is about one slice, far
        # above an interrupt handler's few microseconds
        assert th["max_gap_us"] >= slice_ms * 1000 // 2, th
    a, b = r["threads"]
    assert 0.5 < a["iters"] / b["iters"] < 2.0, "round robin shares the CPU evenly"


def test_not_preempted_inside_preempt_disable(kernel):
    """A thread busy in preempt_disable() for 100 ms while another waits:
    the tick keeps asking (need_resched) but nothing switches until
    preempt_enable(), which switches at once."""
    r = one_json(kernel.run("schedtest atomic 100", timeout=30))
    assert r["ticks_inside"] >= 5, "the timer kept interrupting the section"
    assert r["need_resched_seen"] is True
    assert r["preempted_inside"] == 0
    assert r["switches_inside"] == 0
    assert r["other_progress_inside"] == 0, "the waiting thread never ran inside"
    assert r["preempted_at_enable"] == 1, "preempt_enable() switched right away"


def test_user_tasks_preempted_in_user_mode(kernel):
    """Two ring-3 busy loops that never enter the kernel on their own
    share the CPU: the timer preempts them on the way back to user mode,
    and the shell still answers."""
    pids = []
    for _ in range(2):
        out = kernel.run("run -b spin 0")
        pids.append(int(re.search(r"started task (\d+)", out).group(1)))
    try:
        kernel.console.sleep(0.3)
        t0 = tasks(kernel)
        kernel.console.sleep(0.7)
        t1 = tasks(kernel)
        for p in pids:
            assert t1[p]["preempt_user"] >= 5, t1[p]
            assert t1[p]["progress"] > t0[p]["progress"] > 0, "both keep making progress"
            assert t1[p]["utime_us"] > t0[p]["utime_us"]
            assert t1[p]["syscalls"] <= 1, "spin never enters the kernel by itself"
        assert kernel.run("echo still here") == "still here"
    finally:
        for p in pids:
            kernel.run(f"kill {p}")
    t2 = tasks(kernel)
    for p in pids:
        assert t2[p]["state"] == "dead" and t2[p]["exit_code"] == 137


SLEEP_CASES = {
    # where: (preempt_count fields in the report, task name in the report)
    "preempt": (r"in_atomic\(\): 1, irqs_disabled\(\): 0, preempt_count: 0x1 ", "shell"),
    "irqoff": (r"in_atomic\(\): 0, irqs_disabled\(\): 1, preempt_count: 0x0 ", "shell"),
    "bh": (r"preempt_count: 0x200 ", "shell"),
    "irq": (r"irqs_disabled\(\): 1, preempt_count: 0x10000 .*in_irq 1", "shell"),
    "softirq": (r"preempt_count: 0x100 .*in_serving_softirq 1", "ksoftirqd"),
}


@pytest.mark.parametrize("where", list(SLEEP_CASES))
def test_sleep_in_atomic_context_is_caught(kernel, where):
    before = kernel.stats()["sched"]["sleep_bugs"]
    out = kernel.run(f"sleepbug {where}", timeout=30)
    assert "BUG: sleeping function called from invalid context" in out
    fields, name = SLEEP_CASES[where]
    assert re.search(fields, out), out
    assert re.search(rf"name: {name}\b", out), out
    assert "backtrace:" in out
    r = one_json(out)
    assert r["done"] is True and r["caught"] == 1
    assert kernel.stats()["sched"]["sleep_bugs"] == before + 1
    assert kernel.run("echo alive") == "alive"


def test_schedule_while_atomic_is_caught(kernel):
    out = kernel.run("sleepbug schedule", timeout=30)
    assert re.search(r"BUG: scheduling while atomic: shell/\d+/0x00000001", out), out
    assert one_json(out)["atomic_bugs"] == 1
    assert kernel.run("echo alive") == "alive"


def test_msleep_sleeps_and_gives_up_the_cpu(kernel):
    s0 = kernel.stats()["sched"]
    t = time.monotonic()
    out = kernel.run("msleep 200", timeout=30)
    host_ms = (time.monotonic() - t) * 1000
    us = int(re.search(r"slept (\d+) us", out).group(1))
    assert 200_000 <= us < 400_000
    assert host_ms >= 150, "the guest clock and the host clock agree roughly"
    s1 = kernel.stats()["sched"]
    assert s1["timed_wakeups"] > s0["timed_wakeups"]
    assert s1["timer_softirqs"] > s0["timer_softirqs"]


def test_timeslice_key(boot):
    """timeslice_ms=50: five ticks per slice at 100 Hz, so the two busy
    threads are switched about five times less often than with 10 ms."""
    g = boot(cmdline="timeslice_ms=50 hz=100")
    st = g.stats()["sched"]
    assert st["timeslice_ms"] == 50 and st["slice_ticks"] == 5
    r = one_json(g.run("schedtest kloop 300", timeout=30))
    for th in r["threads"]:
        assert 1 <= th["preempt_kernel"] <= 6, th
        assert th["max_gap_us"] >= 30_000, th
