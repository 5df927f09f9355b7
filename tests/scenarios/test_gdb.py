"""gdb against the running kernel (issue 3): QEMU starts halted with its
gdb stub, gdb (batch mode) loads build/kernel.elf and
harness/gdb/napilab.py, stops inside a hard-IRQ handler (sched_tick, run
by the timer interrupt) and inside a softirq action (sched_timer_softirq,
TIMER_SOFTIRQ: it runs when the shell's 1 s input-wait timeout expires),
and reports RFLAGS.IF and preempt_count there.
"""
import re
import shutil
import socket
import subprocess

import pytest

from harness.paths import GDB_SCRIPT, KERNEL_ELF

HARDIRQ_MASK = 0x000F0000
SOFTIRQ_OFFSET = 0x100
RFLAGS_IF = 1 << 9


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sections(out: str) -> list[str]:
    return out.split("=== stop ===")[1:]


@pytest.fixture
def gdb_run(boot):
    if not shutil.which("gdb"):
        pytest.fail("gdb is not installed (Debian package gdb)")
    port = free_port()
    # -S: halted until gdb says continue; our own port, not -s's 1234,
    # so parallel runs do not collide.
    g = boot(wait=False, extra_args=["-gdb", f"tcp:127.0.0.1:{port}", "-S"])
    stop = ["-ex", "echo === stop ===\\n", "-ex", "napilab-context", "-ex", "napilab-preempt",
            "-ex", "p/x $eflags", "-ex", "p/x preempt_count_word", "-ex", "bt 3"]
    argv = ["gdb", "-batch", "-nx", str(KERNEL_ELF),
            "-ex", "set pagination off",
            "-ex", f"target remote 127.0.0.1:{port}",
            "-x", str(GDB_SCRIPT),
            "-ex", "break sched_tick", "-ex", "continue", *stop,
            "-ex", "delete", "-ex", "break sched_timer_softirq", "-ex", "continue", *stop,
            "-ex", "napilab-runqueue", "-ex", "napilab-trace 3",
            "-ex", "delete", "-ex", "kill"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    return g, p.stdout + p.stderr


def values(sec: str):
    eflags = int(re.search(r"^\$\d+ = (0x[0-9a-f]+)$", sec, re.M).group(1), 16)
    pcs = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", sec, re.M)
    pc = int(pcs[1], 16)
    ctx = re.search(r"^context: (\w+)$", sec, re.M).group(1)
    return eflags, pc, ctx


def test_gdb_in_hardirq_and_softirq(gdb_run):
    g, out = gdb_run
    assert "napilab: gdb helpers loaded" in out, out
    secs = sections(out)
    assert len(secs) == 2, out

    hard = secs[0]
    assert re.search(r"sched_tick \(\) at kernel/sched/sched\.c", out), out
    eflags, pc, ctx = values(hard)
    assert not eflags & RFLAGS_IF, "hard-IRQ handlers run with IF=0"
    assert pc & HARDIRQ_MASK == 0x10000, hex(pc)
    assert not pc & SOFTIRQ_OFFSET
    assert ctx == "irq"
    assert "in_irq=1" in hard and "hardirq=1" in hard
    assert re.search(r"cs=0x8 \(ring 0\) IF=0", hard)
    assert re.search(r"#1 .* in timer_tick", hard), "called from the timer's handler"

    soft = secs[1]
    assert re.search(r"sched_timer_softirq \(\) at kernel/sched/sched\.c", out), out
    eflags, pc, ctx = values(soft)
    assert eflags & RFLAGS_IF, "softirqs run with IF=1"
    assert pc & SOFTIRQ_OFFSET, hex(pc)
    assert pc & HARDIRQ_MASK == 0, "irq_exit() dropped the hard-IRQ count first"
    assert ctx == "softirq"
    assert "in_serving_softirq=1" in soft and "in_irq=0" in soft

    assert re.search(r"^current: pid \d+ \w+", out, re.M)
    assert re.search(r"^\s+0 idle\s", out, re.M), "napilab-runqueue lists the tasks"
    assert "trace: " in out
