"""Exceptions, as the `fault <kind>` shell command triggers them.

What is checked (SDM vol 3A chapter 6):
  - fault vs trap: after `int3` (#BP, a trap) and after a single-step #DB
    the saved RIP is the *next* instruction and execution continues; a
    page fault the kernel fixes (demand area) is retried at the *same*
    RIP; a fault the kernel cannot fix is reported and panics.
  - the report names the vector, the mnemonic, the error code (0 for a
    supervisor read of a not-present page, 0 for #GP from a non-canonical
    address, 0 for #DF), CR2 for #PF, and the RIP of the instruction the
    command says it executed; cs/ss are the kernel's selectors 0x08/0x10.
  - the exception table turns a #GP into -EFAULT at a designated load.
  - a kernel stack overflow into a guard page becomes #DF, handled on its
    IST stack.
  - an NMI is taken while IF=0 and the kernel keeps running.
Fatal kinds each get a fresh kernel and must end QEMU with status 33.
"""
import re

import pytest

from harness import EXIT_PANIC, CommandError

EXC_RE = re.compile(
    r"EXCEPTION (?P<vector>\d+) (?P<mn>\S+) \((?P<name>[^)]*), (?P<cls>\w+)\) "
    r"err=0x(?P<err>[0-9a-f]+) cr2=0x(?P<cr2>[0-9a-f]+) rip=0x(?P<rip>[0-9a-f]+) "
    r"cs=0x(?P<cs>[0-9a-f]+) rflags=0x(?P<rflags>[0-9a-f]+) rsp=0x(?P<rsp>[0-9a-f]+) "
    r"ss=0x(?P<ss>[0-9a-f]+)")
KERNEL_CS, KERNEL_SS = 0x08, 0x10
FATAL = {"de", "ud", "gp", "pf", "df"}
CONTINUES = {"bp", "db", "gp-fixup", "pf-demand", "nmi"}


def exceptions(text):
    """Every EXCEPTION report in text, fields as ints where numeric."""
    out = []
    for m in EXC_RE.finditer(text):
        d = m.groupdict()
        for k in ("err", "cr2", "rip", "cs", "rflags", "rsp", "ss"):
            d[k] = int(d[k], 16)
        d["vector"] = int(d["vector"])
        out.append(d)
    return out


def hexnum(pattern, text):
    m = re.search(pattern, text)
    assert m, f"no /{pattern}/ in:\n{text}"
    return int(m.group(1), 16)


# ------------------------------------------------------------ continuing kinds
def test_fault_list_says_which_kinds_are_fatal(kernel):
    out = kernel.run("fault list")
    kinds = dict(re.findall(r"^\s+(\S+)\s+(fatal|continues)\b", out, re.MULTILINE))
    assert {k for k, v in kinds.items() if v == "fatal"} == FATAL, out
    assert {k for k, v in kinds.items() if v == "continues"} == CONTINUES, out
    assert re.search(r"fatal.*de ud gp pf df", kernel.run("help fault")), "help omits fatal kinds"


def test_unknown_fault_kind_is_an_error(kernel):
    with pytest.raises(CommandError):
        kernel.run("fault frobnicate")
    with pytest.raises(CommandError):
        kernel.run("fault")


def test_breakpoint_is_a_trap_saved_rip_is_next_instruction(kernel):
    before = kernel.stats()["exceptions"]["count"].get("#BP", 0)
    out = kernel.run("fault bp")
    int3 = hexnum(r"fault: bp: int3 at 0x([0-9a-f]+)", out)
    after = hexnum(r"next instruction at 0x([0-9a-f]+)", out)
    assert after == int3 + 1, "int3 is one byte (0xCC)"
    (exc,) = exceptions(out)
    assert (exc["vector"], exc["mn"], exc["cls"]) == (3, "#BP", "trap"), exc
    assert exc["rip"] == after, f"saved RIP {exc['rip']:#x} is not the next instruction {after:#x}"
    assert exc["cs"] == KERNEL_CS and exc["ss"] == KERNEL_SS
    assert "backtrace:" in out and "rax=" in out, "report lacks registers/backtrace"
    m = re.search(r"fault: bp: continued; saved_rip=0x([0-9a-f]+) after_int3=0x([0-9a-f]+) "
                  r"match=yes count=1", out)
    assert m and int(m.group(1), 16) == after, out
    assert kernel.stats()["exceptions"]["count"]["#BP"] == before + 1


def test_single_step_traps_after_each_instruction(kernel):
    s0 = kernel.stats()["exceptions"]
    out = kernel.run("fault db")
    first = hexnum(r"before 4 nops at 0x([0-9a-f]+)", out)
    m = re.search(r"(\d+) single-step traps, saved rips:([ 0-9a-fx]+); expected:([ 0-9a-fx]+)", out)
    assert m, out
    got = [int(x, 16) for x in m.group(2).split()]
    want = [int(x, 16) for x in m.group(3).split()]
    # TF set by popfq takes effect from the next instruction: the first trap
    # comes after the first nop, each saved RIP is the following nop.
    assert want == [first + 1, first + 2, first + 3]
    assert got == want, f"single-step RIPs {list(map(hex, got))} != {list(map(hex, want))}"
    excs = [e for e in exceptions(out) if e["vector"] == 1]
    assert [e["rip"] for e in excs] == want
    assert all(e["mn"] == "#DB" and e["cls"] == "trap" for e in excs)
    assert all(e["rflags"] & 0x100 for e in excs), "TF must be set in the stepped code's RFLAGS"
    s1 = kernel.stats()["exceptions"]
    assert s1["single_steps"] == s0["single_steps"] + 3
    assert "uptime_ms" in kernel.stats(), "shell stopped answering after single-step"


def test_gp_via_exception_table_returns_efault(kernel):
    s0 = kernel.stats()["exceptions"]
    out = kernel.run("fault gp-fixup")
    assert re.search(r"fault: gp-fixup: result=-14 \(-EFAULT\) value=0x0: recovered", out), out
    assert re.search(r"trap: #GP at rip 0x[0-9a-f]+ .* fixed up via the exception table", out), out
    s1 = kernel.stats()["exceptions"]
    assert s1["extable_fixups"] == s0["extable_fixups"] + 1
    assert s1["count"]["#GP"] == s0["count"].get("#GP", 0) + 1


def test_demand_page_fault_is_retried_at_same_rip(kernel):
    s0 = kernel.stats()["exceptions"]
    addrs = []
    for _ in range(2):
        out = kernel.run("fault pf-demand")
        addr = hexnum(r"fault: pf-demand: reading 0x([0-9a-f]+) \(demand area", out)
        insn = hexnum(r"not yet mapped\) at rip=0x([0-9a-f]+)", out)
        m = re.search(r"value=0x([0-9a-f]+) expected=0x([0-9a-f]+) faults=(\d+) "
                      r"fault_rip=0x([0-9a-f]+) insn_rip=0x([0-9a-f]+) same_rip=yes", out)
        assert m, out
        assert m.group(1) == m.group(2), "the retried load did not read the mapped page"
        assert int(m.group(3)) == 1, "exactly one fault for the first touch"
        assert int(m.group(4), 16) == int(m.group(5), 16) == insn
        # the kernel's own line: CR2 = the address, RIP = the load, retried
        m2 = re.search(r"trap: #PF at 0x([0-9a-f]+) \(rip 0x([0-9a-f]+), err 0x0\): demand page "
                       r"mapped .* retrying the same instruction", out)
        assert m2 and int(m2.group(1), 16) == addr and int(m2.group(2), 16) == insn, out
        assert re.search(r"second read value=0x" + m.group(1) + r" new_faults=0", out), \
            "a mapped demand page faulted again"
        addrs.append(addr)
    assert addrs[0] != addrs[1], "each run must touch a fresh page"
    s1 = kernel.stats()["exceptions"]
    assert s1["demand_faults"] == s0["demand_faults"] + 2
    assert s1["demand_failures"] == s0["demand_failures"]


def test_self_nmi_is_taken_with_interrupts_disabled(kernel):
    n0 = kernel.stats()["nmi"]
    ticks0 = kernel.stats()["timer"]["ticks"]
    out = kernel.run("fault nmi")
    assert re.search(r"fault: nmi: count (\d+) -> (\d+), delivered while IF=0: yes", out), out
    m = re.search(r"nmi: received \(#(\d+)\) rip=0x[0-9a-f]+ cs=0x8 IF=0 interrupted "
                  r"preempt_count=0x([0-9a-f]+) \((\w+)\), in handler 0x([0-9a-f]+) in_nmi=1", out)
    assert m, out
    # inside the handler: NMI and hard-IRQ fields both count one level
    assert int(m.group(4), 16) - int(m.group(2), 16) == 0x110000
    n1 = kernel.stats()["nmi"]
    assert n1["count"] == n0["count"] + 1
    assert n1["while_irqs_off"] == n0["while_irqs_off"] + 1
    assert n1["last_if"] == 0
    kernel.console.sleep(0.3)
    assert kernel.stats()["timer"]["ticks"] > ticks0, "timer stopped after the NMI"


# ------------------------------------------------------------ fatal kinds
def run_fatal(guest, kind):
    """Types `fault <kind>`, waits for QEMU to end; returns (status, text
    from the command's first line on)."""
    c = guest.console
    c.send_line(f"fault {kind}")
    with c.panic_expected():
        status = c.wait_exit(timeout=60)
    text = guest.qemu.log.text()
    i = text.rfind(f"fault: {kind}:")
    assert i >= 0, f"the command never printed its first line:\n{text[-3000:]}"
    return status, text[i:]


def check_fatal_report(status, text, vector, mnemonic, cls):
    assert status == EXIT_PANIC, f"QEMU exit status {status}, expected {EXIT_PANIC}"
    excs = exceptions(text)
    assert len(excs) == 1, f"expected one EXCEPTION report, got {len(excs)}:\n{text}"
    exc = excs[0]
    assert (exc["vector"], exc["mn"], exc["cls"]) == (vector, mnemonic, cls), exc
    assert exc["cs"] == KERNEL_CS and exc["ss"] == KERNEL_SS, exc
    for what in ("rax=", "r15=", "cr3=", "backtrace:", "KERNEL PANIC"):
        assert what in text, f"report lacks {what!r}:\n{text}"
    assert text.index("EXCEPTION") < text.index("KERNEL PANIC")
    return exc


def test_divide_error_is_fatal(boot):
    g = boot()
    status, text = run_fatal(g, "de")
    rip = hexnum(r"fault: de: divl by zero at rip=0x([0-9a-f]+)", text)
    exc = check_fatal_report(status, text, 0, "#DE", "fault")
    assert exc["rip"] == rip, "a fault's saved RIP is the faulting instruction"
    assert exc["err"] == 0


def test_invalid_opcode_is_fatal(boot):
    g = boot()
    status, text = run_fatal(g, "ud")
    rip = hexnum(r"fault: ud: ud2 at rip=0x([0-9a-f]+)", text)
    exc = check_fatal_report(status, text, 6, "#UD", "fault")
    assert exc["rip"] == rip and exc["err"] == 0


def test_noncanonical_access_is_general_protection(boot):
    g = boot()
    status, text = run_fatal(g, "gp")
    rip = hexnum(r"fault: gp: reading non-canonical address 0x8000000000000000 at rip=0x([0-9a-f]+)", text)
    exc = check_fatal_report(status, text, 13, "#GP", "fault")
    assert exc["rip"] == rip
    assert exc["err"] == 0, "#GP for a non-canonical address pushes error code 0"


def test_unmapped_read_is_page_fault_with_cr2(boot):
    g = boot()
    status, text = run_fatal(g, "pf")
    addr = hexnum(r"fault: pf: reading unmapped address 0x([0-9a-f]+)", text)
    rip = hexnum(r"fault: pf: .* at rip=0x([0-9a-f]+)", text)
    exc = check_fatal_report(status, text, 14, "#PF", "fault")
    assert exc["cr2"] == addr, f"CR2 {exc['cr2']:#x} != touched address {addr:#x}"
    assert exc["rip"] == rip
    # P=0 (not present), W=0 (read), U=0 (supervisor), RSVD=0, I/D=0
    assert exc["err"] == 0, f"#PF error code {exc['err']:#x} for a kernel read of a not-present page"
    assert "#PF: read of a not-present page in supervisor mode" in text


def test_stack_overflow_is_double_fault_on_ist(boot):
    g = boot()
    status, text = run_fatal(g, "df")
    m = re.search(r"fresh stack \[0x([0-9a-f]+), 0x([0-9a-f]+)\), guard page at 0x([0-9a-f]+)", text)
    assert m, text
    bottom, top, guard = (int(x, 16) for x in m.groups())
    exc = check_fatal_report(status, text, 8, "#DF", "abort")
    assert exc["err"] == 0, "#DF always pushes error code 0"
    # the page fault that could not be delivered was in the guard page
    assert guard <= exc["cr2"] < guard + 4096, f"CR2 {exc['cr2']:#x} not in the guard page"
    assert exc["rsp"] == bottom, "the overflowing code's RSP is the bottom of its stack"
    m = re.search(r"handler running on IST2 \(double fault\) stack \[([0-9a-f]+), ([0-9a-f]+)\)", text)
    assert m, f"#DF did not run on its IST stack:\n{text}"
    assert not (int(m.group(1), 16) <= bottom < int(m.group(2), 16))
    assert "is a stack guard page" in text
