"""Memory manager: figures that match what QEMU was given, allocators that
give back what they take, W^X over every mapping, guard pages under kernel
stacks, uncached MMIO windows, and bad frees caught.

Drives the kernel's `mem`, `memtest` and `stats` (section "mem"); see
kernel/mm/memtest.c for what each `memtest` subcommand checks inside.
"""
import re

import pytest

from harness import CommandError

MiB = 1024  # in KiB


def mem(guest) -> dict:
    return guest.stats()["mem"]


def field(out: str, name: str) -> str:
    m = re.search(rf"\b{name}=(\S+)", out)
    assert m, f"no {name}= in {out!r}"
    return m.group(1)


def test_figures_match_qemu_memory(kernel):
    m = mem(kernel)
    # QEMU is given 512 MiB; OVMF keeps a few MiB for itself (reserved, MMIO
    # holes do not count as RAM), the kernel can use nearly all the rest.
    assert 480 * MiB <= m["total_kib"] <= 512 * MiB, m
    assert 400 * MiB < m["usable_kib"] <= m["total_kib"], m
    assert 0 < m["free_kib"] <= m["usable_kib"], m
    # boot-time use is small: page tables, heap chunk, bitmap, a few stacks
    assert m["usable_kib"] - m["free_kib"] - m["held_kib"] < 16 * MiB, m
    assert 0 < m["kernel_image_kib"] < 4 * MiB, m
    # identity map of 512 MiB with 2 MiB pages + the 4 KiB kernel image
    assert 4 <= m["page_table_pages"] < 64, m
    assert m["page_failures"] == 0 and m["heap_failures"] == 0, m
    assert m["page_bad_frees"] == 0 and m["heap_bad_frees"] == 0, m


def test_usable_memory_follows_qemu_m(boot):
    small = mem(boot(memory="256M"))
    assert 200 * MiB < small["usable_kib"] < 256 * MiB, small
    assert 224 * MiB <= small["total_kib"] <= 256 * MiB, small


def test_boot_log_reports_paging(kernel):
    text = kernel.console.boot_text
    assert re.search(r"pmm: \d+ KiB usable", text), text
    m = re.search(r"vmm: .*NX (on|off)", text)
    assert m and m.group(1) == "on", "NX not enabled: W^X would not hold for reads/exec"


def test_page_allocations_are_counted_and_returned(kernel):
    before = mem(kernel)
    out = kernel.run("memtest pages 500", timeout=60)
    assert out.rstrip().endswith("ok"), out
    after = mem(kernel)
    assert after["page_allocs"] - before["page_allocs"] == 500
    assert after["page_frees"] - before["page_frees"] == 500
    assert after["free_kib"] == before["free_kib"]


def test_contiguous_allocation_is_aligned(kernel):
    out = kernel.run("memtest contig 64 65536")
    addr = int(re.search(r"at (0x[0-9a-f]+)", out).group(1), 16)
    assert addr % 65536 == 0 and addr >= 0x100000, out
    # a run bigger than all of RAM cannot exist
    with pytest.raises(CommandError):
        kernel.run("memtest contig 4096 1073741824")


def test_heap_stress_leaves_no_leak(kernel):
    before = mem(kernel)
    out = kernel.run("memtest heap 20000", timeout=120)
    assert out.rstrip().endswith("ok"), out
    after = mem(kernel)
    assert after["heap_allocs"] - before["heap_allocs"] > 5000
    assert after["heap_allocs"] - before["heap_allocs"] == \
        after["heap_frees"] - before["heap_frees"]
    assert after["heap_bytes_in_use"] == before["heap_bytes_in_use"]


def test_no_page_is_writable_and_executable(kernel):
    """W^X by walking every mapping, then by trying: a write into text and
    rodata and a call into a data page must fault (and be fixed up)."""
    out = kernel.run("memtest wx", timeout=60)
    assert field(out, "text") == "R-X", out
    assert field(out, "rodata") == "R--", out
    assert field(out, "data") == "RW-", out
    assert field(out, "nxe") == "1" and field(out, "wp") == "1", out
    assert int(field(out, "wx_pages")) == 0, out
    # and the CPU enforces it: probes through the exception table
    assert field(out, "text_write") == "fault", out
    assert field(out, "rodata_write") == "fault", out
    assert field(out, "data_write") == "ok", out
    assert field(out, "data_exec") == "fault", out
    assert field(out, "null_read") == "fault", out
    # only the kernel's text is executable, and most of RAM is mapped
    m = mem(kernel)
    assert 0 < int(field(out, "exec_pages")) * 4 < m["kernel_image_kib"], out
    assert int(field(out, "mapped_pages")) * 4 >= m["usable_kib"], out


def test_kernel_stack_has_guard_page(kernel):
    out = kernel.run("memtest stack")
    assert out.rstrip().endswith("ok"), out


def test_ioremap_is_uncached_and_idempotent(kernel):
    out = kernel.run("memtest ioremap")
    assert out.rstrip().endswith("ok"), out
    # the LAPIC version register read through the window: version 0x1x
    ver = int(re.search(r"lapic version (0x[0-9a-f]+)", out).group(1), 16)
    assert 0x10 <= (ver & 0xff) <= 0x15, out


def test_bad_frees_are_caught_and_counted(kernel):
    before = mem(kernel)
    out = kernel.run("memtest badfree")
    assert out.rstrip().endswith("ok"), out
    assert "double free" in out and "WARNING" in out, out
    after = mem(kernel)
    assert after["heap_bad_frees"] - before["heap_bad_frees"] == 2
    assert after["page_bad_frees"] - before["page_bad_frees"] == 2
    # and the allocators still work
    assert kernel.run("memtest pages 10").rstrip().endswith("ok")


def test_mem_command(kernel):
    out = kernel.run("mem")
    assert re.search(r"\d+ KiB usable", out), out
    m = mem(kernel)
    listing = kernel.run("mem map")
    zones = re.findall(r"^\s+0x([0-9a-f]+)-0x([0-9a-f]+)\s+(\d+) KiB,\s+(\d+) KiB free",
                       listing, re.MULTILINE)
    assert zones, listing
    assert sum(int(z[2]) for z in zones) == m["usable_kib"], listing
    assert all(int(z[0], 16) >= 0x100000 for z in zones), "first MiB handed out"
    with pytest.raises(CommandError):
        kernel.run("mem bogus")
    with pytest.raises(CommandError):
        kernel.run("memtest nosuch")
