"""Self-tests of harness/ that need no kernel build.

The console protocol is checked against fake_guest.py (a stand-in shell on
a pty); QEMU start/QMP/stop against real QEMU and OVMF with a dummy ESP
(the firmware finds nothing to boot, which is enough); the namespace code
against the real `ip`, when running as root with /dev/net/tun.
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from harness import (BootFail, CommandError, GuestDied, HarnessError,
                     KernelPanic, NetNs, NetSetupError, Qemu, QemuConfig,
                     Timeout, qemu_argv, with_cmdline_key)
from harness.console import Console, ConsoleLog
from harness import netns as netns_mod

FAKE = Path(__file__).with_name("fake_guest.py")
REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ console
@pytest.fixture
def fake(tmp_path):
    """Start the fake guest: fake(*args) -> Console (not yet ready)."""
    spawns = []

    def start(*args):
        sp = pexpect.spawn(sys.executable, [str(FAKE), *args], encoding="utf-8",
                           echo=False, codec_errors="replace")
        log = ConsoleLog(tmp_path / f"fake{len(spawns)}.log")
        sp.logfile_read = log
        spawns.append(sp)
        return Console(sp, log)

    yield start
    for sp in spawns:
        sp.close(force=True)   # our own child, by its PID


def test_ready_and_boot_text(fake):
    c = fake()
    text = c.wait_ready(10)
    assert "fake kernel" in text and "\x1b" not in text and "\r" not in text
    assert c.boot_text == text


def test_run_strips_echo_and_prompt(fake):
    c = fake()
    c.wait_ready(10)
    assert c.run("help") == "help info stats poweroff panic die hang spam later"
    assert c.run("spam 3").splitlines() == [f"spam line {i} " + "x" * 60 for i in range(3)]
    assert c.run("") == ""


def test_large_output(fake):
    c = fake()
    c.wait_ready(10)
    assert len(c.run("spam 3000", timeout=30).splitlines()) == 3000


def test_stats_json(fake):
    c = fake()
    c.wait_ready(10)
    assert isinstance(c.stats()["uptime_ms"], int)


def test_error_line(fake):
    c = fake()
    c.wait_ready(10)
    assert c.run("bogus", check=False).startswith("error: unknown command")
    with pytest.raises(CommandError, match="bogus"):
        c.run("bogus")
    assert c.run("info").startswith("memory:")


def test_panic_raises_with_report(fake):
    c = fake()
    c.wait_ready(10)
    with pytest.raises(KernelPanic) as e:
        c.run("panic")
    assert "KERNEL PANIC: on request" in e.value.message
    assert "rip=" in e.value.log_tail   # the report after the panic line


def test_panic_expected(fake):
    c = fake()
    c.wait_ready(10)
    with c.panic_expected():
        c.send_line("panic")
        c.expect(r"KERNEL PANIC: on request")
        assert c.wait_exit(10) == 33


def test_guest_died(fake):
    c = fake()
    c.wait_ready(10)
    with pytest.raises(GuestDied) as e:
        c.run("die")
    assert e.value.exitstatus == 0


def test_timeout_carries_log(fake):
    c = fake()
    c.wait_ready(10)
    with pytest.raises(Timeout) as e:
        c.run("hang", timeout=1)
    assert "napilab> hang" in e.value.log_tail
    assert "napilab> hang" in str(e.value)


def test_boot_failures(fake):
    with pytest.raises(KernelPanic):
        fake("--boot", "panic").wait_ready(10)
    with pytest.raises(BootFail, match="did not reach"):
        fake("--boot", "silent").wait_ready(1)
    with pytest.raises(BootFail, match="QEMU ended"):
        fake("--boot", "die").wait_ready(10)


def test_sleep_keeps_output_for_expect(fake):
    c = fake()
    c.wait_ready(10)
    c.run("later 0.2 async-hello")
    c.sleep(0.8)
    c.expect("async-hello", timeout=0.1)


def test_poweroff_status(fake):
    c = fake()
    c.wait_ready(10)
    assert c.poweroff(10) == 1


# ------------------------------------------------------------------ argv
def test_argv_defaults(tmp_path):
    argv = qemu_argv(QemuConfig(), tmp_path / "q.sock", tmp_path / "esp")
    line = " ".join(argv)
    for piece in ("-accel tcg", "-machine q35", "-m 512M", "-serial stdio",
                  "-no-reboot", "isa-debug-exit,iobase=0xf4,iosize=4",
                  f"fat:rw:{tmp_path / 'esp'}", f"unix:{tmp_path / 'q.sock'},server=on,wait=off",
                  "e1000,mac=52:54:00:12:34:56,romfile=,addr=0x3", "debug-threads=on"):
        assert piece in line
    assert "-s" not in argv and argv[0] == "qemu-system-x86_64"


def test_argv_tap_netns_gdb(tmp_path):
    cfg = QemuConfig(nic="e1000e", tap="tap0", netns="ns1", gdb=True,
                     nic_options="mitigation=off", extra_args=["-smp", "1"])
    argv = qemu_argv(cfg, tmp_path / "q", tmp_path / "e")
    assert argv[:4] == ["ip", "netns", "exec", "ns1"]
    line = " ".join(argv)
    assert "tap,id=n0,ifname=tap0,script=no,downscript=no" in line
    assert "e1000e,netdev=n0,mac=52:54:00:12:34:56,romfile=,addr=0x3,mitigation=off" in line
    assert line.endswith("-s -S -smp 1")
    assert "-nic none" in " ".join(qemu_argv(QemuConfig(nic="none"), tmp_path, tmp_path))
    with pytest.raises(HarnessError):
        QemuConfig(nic="rtl8139").validate()


def test_cmdline_key():
    assert with_cmdline_key("", "irqmode", "msi") == "irqmode=msi"
    assert with_cmdline_key("a=1 irqmode=level b=2", "irqmode", "msi") == "a=1 b=2 irqmode=msi"


def test_run_usage_error():
    r = subprocess.run([sys.executable, "-m", "harness.run", "--nic", "bogus"],
                       cwd=REPO, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "usage:" in r.stderr


# ------------------------------------------------------------------ QEMU
@pytest.fixture
def dummy_esp(tmp_path):
    esp = tmp_path / "esp"
    (esp / "EFI" / "BOOT").mkdir(parents=True)
    (esp / "EFI" / "BOOT" / "BOOTX64.EFI").write_bytes(b"not an EFI image")
    (esp / "kernel.elf").write_bytes(b"\x7fELF dummy")
    (esp / "cmdline.txt").write_text("from=esp\n")
    return esp


def test_qemu_start_qmp_stop(dummy_esp):
    pin = os.cpu_count() >= 2
    q = Qemu(QemuConfig(nic="none", esp=dummy_esp, cmdline="x=1 y=2", label="selftest",
                        vcpu_cpu=0 if pin else None, main_cpu=1 if pin else None))
    with q:
        assert q.alive and q.pid
        if pin:
            for tid, name in q.threads().items():
                want = {0} if name.startswith("CPU ") else {1}
                assert os.sched_getaffinity(tid) == want, (tid, name)
        tmp = q._tmp
        assert (tmp / "esp" / "cmdline.txt").read_text() == "x=1 y=2\n"
        assert q.qmp.execute("query-status")["status"] == "running"
        q.inject_nmi()
        assert any(name.startswith("CPU 0") for name in q.threads().values())
    assert not q.alive and q.exitstatus == 0      # QMP quit
    assert not tmp.exists()                        # private ESP removed
    assert (dummy_esp / "cmdline.txt").read_text() == "from=esp\n"
    assert "qemu-system-x86_64" in q.log_path.read_text().splitlines()[0]


def test_qemu_cmdline_none_keeps_esp_file(dummy_esp):
    q = Qemu(QemuConfig(nic="none", esp=dummy_esp, label="selftest"))
    with q:
        assert (q._tmp / "esp" / "cmdline.txt").read_text() == "from=esp\n"


def test_qemu_killed_when_quit_fails(dummy_esp):
    q = Qemu(QemuConfig(nic="none", esp=dummy_esp, label="selftest")).start()
    q.qmp.close()                                  # no QMP: SIGTERM path
    q.stop(timeout=3)
    assert not q.alive and q.signalstatus is None and q.exitstatus == 0


# ------------------------------------------------------------------ netns
def _can_net() -> bool:
    return os.geteuid() == 0 and Path("/dev/net/tun").exists()


def test_preflight_explains(monkeypatch):
    monkeypatch.setattr(netns_mod.os, "geteuid", lambda: 1000)
    with pytest.raises(NetSetupError, match="not running as root"):
        NetNs().create()


@pytest.mark.skipif(not _can_net(), reason="needs root and /dev/net/tun")
def test_netns_lifecycle():
    with NetNs(txqueuelen=123) as ns:
        name = ns.name
        assert name in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                      text=True).stdout
        r = ns.run(["sysctl", "-n", "net.ipv6.conf.tap0.disable_ipv6"])
        assert r.stdout.strip() == "1"
        assert "10.77.0.1/24" in ns.run(["ip", "addr", "show", "tap0"]).stdout
        stats = ns.tap_stats()
        assert stats["tx_queue_len"] == 123 and "tx_dropped" in stats
        assert ns.qdisc_stats()["drops"] == 0
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                      text=True).stdout


@pytest.mark.skipif(not _can_net(), reason="needs root and /dev/net/tun")
def test_netns_removed_on_exception():
    with pytest.raises(RuntimeError):
        with NetNs() as ns:
            name = ns.name
            raise RuntimeError("boom")
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                      text=True).stdout


@pytest.mark.skipif(not _can_net(), reason="needs root and /dev/net/tun")
def test_qemu_on_tap_in_netns(dummy_esp):
    with NetNs() as ns:
        with Qemu(ns.qemu_config(nic="e1000", esp=dummy_esp, label="selftest-net")) as q:
            link = ns.run(["ip", "link", "show", "tap0"]).stdout
            assert "NO-CARRIER" not in link, link   # QEMU holds the tap
            # QEMU is exec'd by `ip netns exec`: the PID we hold is QEMU's
            assert os.readlink(f"/proc/{q.pid}/exe").endswith("qemu-system-x86_64")
            # A datagram to the guest makes the host ARP for it on the tap.
            ns.run([sys.executable, "-c", "import socket; socket.socket(socket.AF_INET,"
                    " socket.SOCK_DGRAM).sendto(b'x', ('10.77.0.2', 9))"])
            deadline = time.monotonic() + 5
            while ns.tap_stats()["tx_packets"] == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert ns.tap_stats()["tx_packets"] >= 1   # QEMU read the ARP
