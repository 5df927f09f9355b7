"""The kernel boots to its shell and the shell answers as documented."""
import re
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from harness import EXIT_POWEROFF, CommandError
from harness.guest import default_boot_timeout

REPO = Path(__file__).resolve().parents[2]

# `[    0.012345] subsys: message`
PRINTK_LINE = re.compile(r"^\[\s*\d+\.\d{6}\] [\w.-]+: ", re.MULTILINE)


def test_boots_to_prompt_with_banner(kernel):
    text = kernel.console.boot_text
    assert text is not None, "wait_ready() did not run"
    assert PRINTK_LINE.search(text), "no `[ seconds] subsys: message` line before ready"
    assert re.search(r"napilab", text, re.IGNORECASE), "no banner naming napilab"


def test_help_lists_commands(kernel):
    out = kernel.run("help")
    for cmd in ("help", "info", "stats", "poweroff"):
        assert re.search(rf"\b{cmd}\b", out), f"`help` does not list {cmd}: {out!r}"


def test_info_answers(kernel):
    out = kernel.run("info")
    assert out.strip(), "`info` printed nothing"


def test_unknown_command_is_an_error_and_shell_survives(kernel):
    out = kernel.run("no-such-command", check=False)
    assert any(l.startswith("error:") for l in out.splitlines()), out
    with pytest.raises(CommandError):
        kernel.run("no-such-command")
    # still answering, with the same protocol
    assert "stats" in kernel.run("help")
    assert "uptime_ms" in kernel.stats()


def test_stats_is_one_json_object_with_uptime(kernel):
    # Console.stats() itself fails unless the output is one JSON object.
    stats = kernel.stats()
    assert isinstance(stats.get("uptime_ms"), int), stats


def test_poweroff_ends_qemu_with_status_1(kernel):
    # Last in this module: the next user of `kernel` gets a fresh boot.
    assert kernel.poweroff() == EXIT_POWEROFF
    assert not kernel.alive


def test_per_boot_cmdline_reaches_kernel(boot):
    guest = boot(cmdline="napilab_harness_probe=1")
    assert "napilab_harness_probe" in guest.console.boot_text


@pytest.mark.boots
def test_run_cli_boots_and_powers_off(napilab_build):
    """`make run`'s entry point: serial on a terminal, poweroff -> exit 0."""
    p = pexpect.spawn(sys.executable, ["-m", "harness.run", "--nic", "e1000"],
                      cwd=str(REPO), encoding="utf-8", codec_errors="replace",
                      timeout=default_boot_timeout())
    try:
        p.expect("napilab> ")
        p.send("poweroff\r")
        p.expect(pexpect.EOF, timeout=30)
        p.close()
        assert p.exitstatus == 0, p.before
    finally:
        if p.isalive():   # let harness.run stop its own QEMU
            p.kill(signal.SIGTERM)
            p.expect(pexpect.EOF, timeout=20)
            p.close()
