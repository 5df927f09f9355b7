"""ACPI, local APIC, I/O APIC, 8259 and NMI, as the kernel reports them.

On QEMU's q35 the MADT (QEMU's hw/i386/acpi-common.c) lists one local APIC,
one I/O APIC (id 0 at 0xfec00000, 24 pins, GSI base 0), ISA IRQ 0 -> GSI 2
and IRQs 5/9/10/11 level active-high; COM1 (IRQ 4) has no override. The
kernel routes COM1's GSI as edge for the shell and keeps every other pin
masked (pin 11 included: OVMF routes PCI INTx there too).
"""
import os
import re
import time

import pytest

from harness import CommandError

# GSIs a NIC driver may legitimately route (q35 slots, see QEMU-FACTS.md).
NIC_GSIS = {str(g) for g in range(16, 24)}


def info(kernel):
    return kernel.run("info")


def test_info_lists_lapic(kernel):
    m = re.search(r"^lapic: id (\d+) version 0x([0-9a-f]+) max_lvt (\d+) base 0x([0-9a-f]+)",
                  info(kernel), re.MULTILINE)
    assert m, "no `lapic:` line in info"
    assert int(m.group(2), 16) >= 0x10, "not an integrated (xAPIC) local APIC"
    assert int(m.group(4), 16) == 0xfee00000
    assert int(m.group(3)) >= 3   # timer, LINT0, LINT1, error at least


def test_info_lists_ioapic_with_24_entries(kernel):
    ioapics = re.findall(r"^ioapic: id (\d+) version 0x([0-9a-f]+) address 0x([0-9a-f]+) "
                         r"gsi_base (\d+) entries (\d+)", info(kernel), re.MULTILINE)
    assert len(ioapics) == 1, f"expected one I/O APIC on q35, got {ioapics}"
    _, version, address, gsi_base, entries = ioapics[0]
    assert int(address, 16) == 0xfec00000
    assert int(gsi_base) == 0
    assert int(entries) == 24
    assert int(version, 16) == 0x20


def test_info_shows_overrides_and_com1_route(kernel):
    out = info(kernel)
    assert re.search(r"^override: isa irq 0 -> gsi 2 edge active-high$", out, re.MULTILINE), out
    assert re.search(r"^override: isa irq 9 -> gsi 9 level active-high$", out, re.MULTILINE), out
    assert re.search(r"^com1: isa irq 4 -> gsi 4 edge active-high$", out, re.MULTILINE), out
    # COM1's redirection entry is programmed and unmasked, edge, to us.
    m = re.search(r"^  gsi 4 vector 0x([0-9a-f]+) edge active-high unmasked dest (\d+)",
                  out, re.MULTILINE)
    assert m, f"GSI 4 (COM1) is not routed: {out}"
    assert 0x30 <= int(m.group(1), 16) <= 0xdf


def test_unrouted_pins_stay_masked(kernel):
    """Only GSI 4 (COM1) may be unmasked on a NIC-less idle kernel; pin 11
    in particular (OVMF's PIRQ path) must stay masked."""
    out = info(kernel)
    unmasked = re.findall(r"^  gsi (\d+) .* unmasked", out, re.MULTILINE)
    assert "11" not in unmasked, out
    assert set(unmasked) <= {"4"} | NIC_GSIS, f"unexpected unmasked pins {unmasked}"



def test_pics_masked_and_lint_programmed(kernel):
    out = kernel.run("apic")
    m = re.search(r"^pic: masks 0x([0-9a-f]+)$", out, re.MULTILINE)
    assert m and int(m.group(1), 16) == 0xffff, f"8259s not fully masked: {out}"
    m = re.search(r"lint0 0x([0-9a-f]+) lint1 0x([0-9a-f]+)", out)
    assert m, out
    lint0, lint1 = int(m.group(1), 16), int(m.group(2), 16)
    assert lint0 & (1 << 16), "LINT0 (8259 ExtINT) must be masked"
    assert not lint1 & (1 << 16) and (lint1 >> 8) & 7 == 4, \
        f"LINT1 must be unmasked NMI delivery per the MADT, got {lint1:#x}"
    m = re.search(r"svr 0x([0-9a-f]+)", out)
    assert m and int(m.group(1), 16) & 0x1ff == 0x1ff, "APIC not software-enabled with vector 0xff"


def test_stats_apic_sane(kernel):
    a = kernel.stats()["apic"]
    lapic_id = int(re.search(r"^lapic: id (\d+)", info(kernel), re.MULTILINE).group(1))
    assert a["lapic_id"] == lapic_id
    assert a["ioapics"] == 1
    assert a["ioapic_entries"] == 24
    assert a["overrides"] >= 1
    assert a["errors"] == 0, f"LAPIC errors: ESR bits {a['esr_all']}"
    assert a["pic_masks"] == "0xffff"


def test_console_input_interrupts(kernel):
    """The shell sleeps in hlt and is woken by COM1's RX interrupt."""
    c0 = kernel.stats()["console"]
    assert c0["rx_irq"] is True
    for _ in range(5):
        kernel.run("echo hello")
    c1 = kernel.stats()["console"]
    # Each command line is at least one burst of input that found the FIFO
    # empty, so at least one rising edge each.
    assert c1["rx_irqs"] - c0["rx_irqs"] >= 5, (c0, c1)
    assert c1["sleeps"] > c0["sleeps"], "the shell never slept"


def _vcpu_cpu_seconds(kernel):
    pid = kernel.qemu.pid
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for tid, name in kernel.qemu.threads().items():
        if name.startswith("CPU "):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick   # utime, stime
    return total


def test_idle_shell_does_not_spin(kernel):
    """While the shell waits for input the vCPU thread mostly sleeps: with a
    spinning wait it would use a whole host core."""
    kernel.run("echo idle")
    cpu0, t0 = _vcpu_cpu_seconds(kernel), time.monotonic()
    kernel.console.sleep(3.0)
    cpu1, t1 = _vcpu_cpu_seconds(kernel), time.monotonic()
    share = (cpu1 - cpu0) / (t1 - t0)
    assert share < 0.5, f"idle vCPU thread used {share:.0%} of a core"


def test_nmi_from_qmp_is_delivered_and_kernel_keeps_answering(kernel):
    j0 = kernel.stats()["timer"]["ticks"]
    kernel.inject_nmi()
    kernel.console.expect(r"nmi: received", timeout=10)
    assert "info" in kernel.run("help")
    kernel.console.sleep(0.5)
    assert kernel.stats()["timer"]["ticks"] > j0, "timer stopped after the NMI"


def test_self_nmi_through_icr(kernel):
    """lapic_send_self_nmi(): ICR delivery mode NMI to our own APIC ID."""
    kernel.console.send_line("apic nmi")
    kernel.console.expect(r"nmi: received", timeout=10)
    kernel.console.expect(r"\nnapilab> ", timeout=10)
    assert kernel.stats()["apic"]["errors"] == 0


def test_bad_apic_arguments_are_errors(kernel):
    with pytest.raises(CommandError):
        kernel.run("apic ipi 0x10")
    with pytest.raises(CommandError):
        kernel.run("apic frobnicate")


def test_self_ipi_is_delivered_on_its_vector(kernel):
    """lapic_send_self_ipi(): a fixed IPI with the self shorthand arrives
    exactly once on the vector it names (0xef: test range, no handler, so
    irq_dispatch() counts it as unexpected and EOIs it)."""
    def count():
        v = kernel.stats()["irq"]["vectors"].get("0xef")
        return v["count"] if v else 0
    before = count()
    kernel.run("apic ipi 0xef")
    assert count() == before + 1
    # The EOI was sent: nothing is left in service.
    assert re.search(r"^  isr: none$", kernel.run("apic"), re.MULTILINE)
