"""The e1000 driver's probe and bring-up, for both QEMU models.

Each guest gets a tap in its own namespace (net=True): that is also what
keeps q35 from adding its default e1000e beside the NIC under test.
Checked from what the kernel reports: the PCI binding (`lspci`), the MAC
QEMU was given, link up, the INTx routing the driver derived (slot 3 on
q35 -> PIRQH -> GSI 23, hw/isa/lpc_ich9.c), the command-line keys, and
that MSI/MSI-X are refused on the 82540EM with a clear error.
"""
import re

import pytest

from harness import CommandError
from harness.qemu import GUEST_MAC

MODELS = {"e1000": ("82540EM", "8086:100e"), "e1000e": ("82574L", "8086:10d3")}


def nic_stats(guest):
    return guest.stats()["e1000"]


@pytest.mark.parametrize("nic", sorted(MODELS))
def test_probe_binds_reports_mac_link_and_routing(boot, nic):
    g = boot(nic=nic, net=True)
    model, ids = MODELS[nic]
    s = nic_stats(g)
    assert s["present"] is True
    assert s["model"] == model
    assert s["mac"] == GUEST_MAC
    assert s["link"] is True
    assert s["mode"] == "level" and s["napi"] is True
    assert s["rxring"] == 256 and s["txring"] == 256
    # QEMU's slot 3 (harness default addr=0x3) on q35: INTA -> PIRQH -> GSI 23.
    assert s["gsi"] == 23 and s["gsi_source"] == "q35 PIRQ swizzle"

    lspci = g.run("lspci")
    line = next(l for l in lspci.splitlines() if ids in l)
    assert line.startswith("00:03.0"), line
    assert "driver e1000" in line
    # memory decoding and bus mastering on (COMMAND bits 1 and 2)
    cmd = int(re.search(r"cmd ([0-9a-f]{4})", line).group(1), 16)
    assert cmd & 0x6 == 0x6, line
    if nic == "e1000e":
        assert "msi" in line and "msix" in line

    log = g.run("dmesg")
    assert re.search(rf"e1000: 00:03\.0 {model} mac {GUEST_MAC} \(RAL0/RAH0\), link up", log)
    assert "e1000: INTx pin A -> GSI 23 (q35 PIRQ swizzle)" in log
    # RCTL is written once; the harness can see when QEMU's 1 s window ends.
    assert isinstance(s["rctl_age_ms"], int)
    regs = g.run("e1000 regs")
    rctl = int(re.search(r"^RCTL\s+([0-9a-f]{8})$", regs, re.M).group(1), 16)
    assert rctl & 0x2, "RCTL.EN"
    assert rctl & (1 << 15), "RCTL.BAM (broadcast)"
    assert rctl & (1 << 26), "RCTL.SECRC"
    assert (rctl >> 16) & 3 == 0, "BSIZE 2048"
    rah = int(re.search(r"^RAH0\s+([0-9a-f]{8})$", regs, re.M).group(1), 16)
    assert rah & (1 << 31), "RAH0.AV"


def test_msi_modes_refused_on_82540em(boot):
    g = boot(nic="e1000", net=True)
    for mode in ("msi", "msix"):
        with pytest.raises(CommandError, match="needs the 82574L"):
            g.run(f"e1000 irq {mode}")
    assert nic_stats(g)["mode"] == "level"
    # an unknown mode is a usage error, and nothing changes
    with pytest.raises(CommandError):
        g.run("e1000 irq bogus")
    assert nic_stats(g)["mode"] == "level"


def test_cmdline_keys_take_effect(boot):
    g = boot(nic="e1000e", net=True,
             cmdline="irq=msix rxring=64 txring=128 itr=200 napi=off nic_gsi=23")
    s = g.stats()
    assert s["cmdline_errors"] == 0
    e = s["e1000"]
    assert (e["mode"], e["rxring"], e["txring"], e["itr"], e["napi"]) == \
        ("msix", 64, 128, 200, False)
    assert e["rx_batch"] == 16         # a quarter of the ring
    assert e["gsi_source"] == "command line"


def test_bad_ring_size_rejected(boot):
    # RDLEN must be a multiple of 128 bytes: 100 descriptors is not.
    g = boot(nic="e1000", net=True, cmdline="rxring=100 irq=sideways")
    s = g.stats()
    assert s["cmdline_errors"] == 2
    assert s["e1000"]["rxring"] == 256 and s["e1000"]["mode"] == "level"
