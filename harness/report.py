"""`make report`: run the experiments and write build/report/index.html,
which answers each question of ../shared/seeds/README.md with the numbers
measured in this run (one section per question, saying what was measured
and how), followed by the experiments' tables and plots, the newest flood
sweep (build/results/flood-latest.json) and bench (bench.json) if present.

    collect(args) -> data        boots guests, runs things (minutes)
    render(data)  -> str         pure: the HTML page
    cmd_report(args)             both, writes the page and copies the PNGs

Exit status 1 if a run did not reconcile or an experiment could not run;
checks the measurement contradicted are listed on the page and printed.
"""
from __future__ import annotations

import html
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Optional

from . import accounting as acc
from .errors import GuestError, HarnessError
from .paths import BUILD

REPORT_DIR = BUILD / "report"
NEST_MODES = ("same", "other", "other-sti")


# ------------------------------------------------------------ collecting

def _probe_nest(lab) -> dict:
    out = {}
    for m in NEST_MODES:
        reply = lab.run(f"nest {m}", check=False)
        j = None
        for line in reply.splitlines():
            if line.strip().startswith("{"):
                try:
                    j = json.loads(line)
                except json.JSONDecodeError:
                    pass
        out[m] = j if j is not None else {"error": reply.strip()[:300]}
    return out


def _probe_nmi_in_irqoff(lab, window_ms: int = 300, nmi_after: float = 0.1) -> dict:
    """`irqoff` with an NMI injected (QMP) while IF=0: does it get in?"""
    timer = threading.Timer(nmi_after, lab.guest.inject_nmi)
    timer.start()
    try:
        reply = lab.run(f"irqoff {window_ms}", timeout=30.0)
    finally:
        timer.cancel()
    for line in reply.splitlines():
        if line.strip().startswith("{"):
            return json.loads(line)["irqoff"]
    return {"error": reply}


def _probe_switches_under_load(lab, rate: int = 100_000, duration: float = 2.0) -> dict:
    """Context switches and nesting while a user task spins and a flood
    runs: sched and irq counters before and after."""
    import re
    out = lab.run("run -b spin 0", check=False)
    m = re.search(r"started task (\d+)", out)
    before = lab.stats()
    try:
        rec = lab.measure(rate, duration, label="report: switches under load")
    finally:
        if m:
            lab.run(f"kill {m.group(1)}", check=False)
    after = lab.stats()
    sb, sa = before.get("sched") or {}, after.get("sched") or {}
    keys = ("switches", "voluntary", "preempt_irq", "preempt_user",
            "preempt_enable", "sleep_bugs", "atomic_bugs")
    ib, ia = before.get("irq") or {}, after.get("irq") or {}
    nested = sum(int(v.get("nested", 0)) for v in (ia.get("vectors") or {}).values()) - \
        sum(int(v.get("nested", 0)) for v in (ib.get("vectors") or {}).values())
    return {"spin_started": bool(m), "offered_pps": rate, "duration": duration,
            "sched": {k: int(sa.get(k, 0)) - int(sb.get(k, 0)) for k in keys
                      if k in sa},
            "irqs": int(ia.get("total", 0)) - int(ib.get("total", 0)),
            "nested": nested, "max_depth": ia.get("max_depth"),
            "irqs_left_on": ia.get("irqs_left_on"),
            "record": {k: v for k, v in rec.as_dict().items() if k != "extra"}}


def collect(args) -> dict[str, Any]:
    from .lab import results
    from .lab.experiments import EXPERIMENTS, SCALES, LabPool, run_experiment
    scale = SCALES["full"]
    out_dir = Path(args.out) if getattr(args, "out", None) else results.RESULTS
    data: dict[str, Any] = {"time": time.strftime("%Y-%m-%d %H:%M:%S"),
                            "experiments": {}, "probes": {}}
    t0 = time.time()
    with LabPool(size=getattr(args, "size", 64),
                 steal_max=getattr(args, "steal_max", 10.0)) as pool:
        # Probes first, on the plain level-triggered e1000.
        try:
            lab = pool.get("e1000", "level")
            data["boot_text"] = lab.boot_text[-3000:]
            data["probes"]["nest"] = _probe_nest(lab)
            data["probes"]["nmi_in_irqoff"] = _probe_nmi_in_irqoff(lab)
            data["probes"]["switches"] = _probe_switches_under_load(lab)
        except (GuestError, HarnessError) as e:
            data["probes"]["error"] = str(e).splitlines()[0]
        for name in EXPERIMENTS:
            print(f"report: experiment {name}", flush=True)
            data["experiments"][name] = run_experiment(name, pool, scale, out_dir)
    data["wall_s"] = round(time.time() - t0, 1)
    latest = out_dir / "flood-latest.json"
    if latest.exists():
        meta, recs = results.read_json(latest)
        data["flood"] = {"meta": meta, "path": str(latest.resolve()),
                         "records": [r.as_dict() for r in recs],
                         "plots": sorted(str(p.resolve()) for p in
                                         out_dir.glob("flood-latest-*.png"))}
    bench = out_dir / "bench.json"
    if bench.exists():
        data["bench"] = json.loads(bench.read_text())
        if (out_dir / "bench.png").exists():
            data["bench"]["plot"] = str((out_dir / "bench.png").resolve())
    return data


# ------------------------------------------------------------ rendering

def esc(x: Any) -> str:
    return html.escape(str(x))


def html_table(rows: list[dict], cols: Optional[list[str]] = None) -> str:
    if not rows:
        return "<p><i>no rows</i></p>"
    cols = cols or [c for c in rows[0] if c not in ("problems", "runs", "extra")]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if isinstance(v, float):
                v = f"{v:,.3f}".rstrip("0").rstrip(".")
            elif isinstance(v, (list, dict)):
                v = json.dumps(v)
            cells.append(f"<td>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def checks_html(res: dict) -> str:
    items = []
    for c in res.get("checks", []):
        cls = "ok" if c["ok"] else "fail"
        tag = "PASS" if c["ok"] else ("INCONCLUSIVE" if c.get("inconclusive") else "FAIL")
        items.append(f"<li class='{cls}'><b>{tag}</b> "
                     f"{esc(c['name'])}: {esc(c['detail'])}</li>")
    return "<ul class='checks'>" + "".join(items) + "</ul>"


def img(path: str, alt: str) -> str:
    return f"<figure><img src='{esc(Path(path).name)}' alt='{esc(alt)}'></figure>"


def _rows(data: dict, exp: str) -> list[dict]:
    return (data.get("experiments", {}).get(exp) or {}).get("rows", [])


def _nest_summary(n: dict) -> str:
    if not isinstance(n, dict) or "events" not in n:
        return f"not available ({esc((n or {}).get('error', 'no reply'))})"
    ev = n["events"]
    order = ", ".join(f"{e['ev']} 0x{e['vector']:02x} (depth {e['depth']}, IF={e['if']})"
                      for e in ev)
    return f"runs {esc(json.dumps(n.get('runs')))}; timeline: {esc(order)}"


def q1(data: dict) -> str:
    nest = data.get("probes", {}).get("nest", {})
    irq = [r for r in _rows(data, "irqoff") if r.get("variant", "").startswith("IF=0")]
    sw = data.get("probes", {}).get("switches", {})
    parts = ["<p><b>Measured:</b> the kernel's <code>nest</code> command raises a second "
             "interrupt (a self-IPI through the LAPIC) from inside a running handler and "
             "records entry and exit of every handler with the TSC, its nesting depth "
             "and RFLAGS.IF.</p><ul>"]
    for m in NEST_MODES:
        parts.append(f"<li><code>nest {m}</code>: {_nest_summary(nest.get(m))}</li>")
    parts.append("</ul>")
    parts.append(
        "<p><b>Answer:</b> no, the new handler does not start while the first runs: our "
        "interrupt gates clear IF on entry, so a second maskable interrupt (same vector "
        "or another) waits in the LAPIC's IRR and is taken after the first handler's "
        "EOI and <code>iretq</code>. On the <i>same</i> vector, repeated requests while "
        "one is pending merge into one IRR bit (one extra run, however many were sent). "
        "A handler that sets IF itself can be interrupted only by a vector of a higher "
        "priority class (the LAPIC's PPR); same or lower class still waits.</p>")
    if sw:
        parts.append(f"<p>Under a {sw.get('offered_pps', 0) / 1000:g}k pps flood with a "
                     f"user task spinning, {sw.get('irqs')} interrupts were taken and "
                     f"{sw.get('nested')} of them arrived inside another handler "
                     f"(deepest nesting since boot: {sw.get('max_depth')}, from the "
                     "<code>nest other-sti</code> run).</p>")
    if irq:
        r = irq[0]
        parts.append(f"<p>With IF=0 for {r['window_ms']} ms during a flood the NIC's "
                     f"vector was pending ({r.get('pending_vectors')}) and was taken "
                     f"<b>{r.get('nic_irqs_after')}</b> time(s) after STI, the LAPIC timer "
                     f"{r.get('timer_ticks_after')} time(s) (instead of "
                     f"{r['window_ms'] // 10} ticks at 100 Hz).</p>")
    return "".join(parts)


def q2(data: dict) -> str:
    nest = data.get("probes", {}).get("nest", {})
    ifs = []
    for m in ("same", "other"):
        for e in (nest.get(m) or {}).get("events", []) or []:
            if e.get("ev") == "enter":
                ifs.append(e.get("if"))
    sw = data.get("probes", {}).get("switches", {})
    return (
        "<p><b>Measured:</b> RFLAGS.IF at the entry of every handler in the "
        f"<code>nest</code> runs: {esc(sorted(set(ifs)) if ifs else 'not available')} "
        "(0 = interrupts off); handlers that left IF on at exit "
        f"(<code>irq.irqs_left_on</code>): {esc(sw.get('irqs_left_on'))}.</p>"
        "<p><b>Answer:</b> the handler does not disable interrupts itself: the CPU does "
        "it when it enters through an interrupt gate (SDM vol 3A 6.12.1.3), and "
        "<code>iretq</code> restores the interrupted RFLAGS, IF included. The CPU saves "
        "SS:RSP, RFLAGS, CS:RIP (and an error code for some exceptions); every "
        "general-purpose register the C handler may clobber is saved by the common entry "
        "stub (kernel/arch/isr.asm) and restored before <code>iretq</code>, so the "
        "handler code does not save registers by hand. What the handler must do is "
        "acknowledge: read/clear the device's cause (ICR) and let the dispatcher send "
        "the LAPIC EOI, or the line/vector stays blocked. The NIC's top half only reads "
        "ICR, masks the device (IMC) and schedules NAPI; the packets are handled in the "
        "NET_RX softirq with IF=1.</p>")


def q3(data: dict) -> str:
    rows = _rows(data, "irqoff")
    if not rows:
        return "<p>The interrupts-off experiment did not run.</p>"
    lines = []
    for r in rows:
        if "unavailable" in r:
            lines.append(f"<li>{esc(r['nic'])}/{esc(r['mode'])}, {esc(r['variant'])}: "
                         f"not available in this kernel ({esc(r['unavailable'])})</li>")
            continue
        lines.append(
            f"<li>{esc(r['nic'])}/{esc(r['mode'])}, {esc(r['variant'])} for "
            f"{r['window_ms']} ms at {r['offered_pps'] / 1000:g}k pps: QEMU read "
            f"{esc(r.get('frames_before_stop'))} more frames in the first "
            f"{esc(r.get('ms_to_full'))} ms (ring of {esc(r.get('ring_size'))} "
            f"descriptors), then nothing for {esc(r.get('stall_ms'))} ms; "
            f"{r['dropped_host']} frames were dropped by the host "
            f"({esc(r['dropped_host_where'])}); NIC interrupts taken after re-enabling: "
            f"{esc(r.get('nic_irqs_after', 'not counted (irqoff counts them itself)'))}"
            + (f"; the stall lasted {r['stall_beyond_window_ms']} ms longer than the window "
               "(no interrupt came when it ended: the driver's watchdog polled)"
               if (r.get("stall_beyond_window_ms") or 0) > 10 else "")
            + f"; QEMU caught up "
            f"{esc(r.get('recovery_ms'))} ms after it resumed reading; every frame "
            f"accounted for: {'yes' if r['reconciled'] else 'NO'}.</li>")
    return (
        "<p><b>Measured:</b> a steady paced flood; during it the guest ran "
        "<code>irqoff T</code> (IF=0 for T ms, busy-waiting), and separately the NIC was "
        "masked only at the IOAPIC or only at the device (IMC). The host sampled the "
        "tap's counters every millisecond (/proc/PID/net/dev of QEMU): frames QEMU read "
        "and frames the tun driver dropped. After each run, sent = delivered + dropped "
        "(by place) + queued was checked.</p><ul>" + "".join(lines) + "</ul>"
        "<p><b>Answer:</b> the hardware keeps working: the NIC keeps writing frames into "
        "the receive ring by DMA (under TCG, QEMU's main loop does it while the vCPU "
        "spins with IF=0) until the ring is full. Then this NIC model does not drop: it "
        "stops reading its input (QEMU holds one frame), the host's tun queue "
        "(txqueuelen) fills, and after that the host drops every further frame "
        "(tap tx_dropped). Nothing is lost in the guest and the NIC's MPC stays 0. The "
        "interrupt requests raised meanwhile are not queued one by one: the LAPIC holds "
        "one pending bit per vector, so one interrupt is taken after STI for the whole "
        "window, and the timer's ticks in the window collapse into one too.</p>")


def q4(data: dict) -> str:
    sw = data.get("probes", {}).get("switches", {})
    s = sw.get("sched", {})
    return (
        "<p><b>Measured:</b> a user task spinning while a flood ran "
        f"({sw.get('offered_pps', 0) / 1000:g}k pps, {sw.get('duration')} s): "
        f"{esc(s.get('switches'))} context switches, of which "
        f"{esc(s.get('preempt_irq'))} were forced from an interrupt's exit "
        f"(preempt_irq) and {esc(s.get('preempt_user'))} preempted user mode; "
        f"{esc(sw.get('irqs'))} interrupts in the same time; sleep/atomic bugs caught: "
        f"{esc(s.get('sleep_bugs'))}/{esc(s.get('atomic_bugs'))}.</p>"
        "<p><b>Answer:</b> it is made atomic rather than being so by nature: "
        "<code>schedule()</code> disables preemption and then interrupts before it picks "
        "the next task and switches stacks and registers, and they are re-enabled only "
        "on the new task's side. No maskable interrupt can therefore see the half-switched "
        "state (the callee-saved registers of one task with the stack of the other, or a "
        "<code>current</code> that does not match the stack). An NMI still can arrive in "
        "the middle, which is why the NMI handler touches no scheduler state. If an "
        "interrupt handler could run there and call <code>schedule()</code> itself, it "
        "would save the half-built state as a task's context and that task would later "
        "resume with a wrong stack or registers.</p>")


def q5(data: dict) -> str:
    nmi = data.get("probes", {}).get("nmi_in_irqoff", {})
    return (
        "<p><b>Measured:</b> <code>irqoff 300</code> (IF=0 for 300 ms) with an NMI "
        "injected through QEMU's QMP 100 ms into the window: timer ticks counted inside "
        f"the window: {esc(nmi.get('jiffies_during'))}; NMIs taken inside the window: "
        f"<b>{esc(nmi.get('nmi_during'))}</b>; vectors pending at STI: "
        f"{esc([p.get('vector') for p in nmi.get('pending', [])])}; window "
        f"{esc(nmi.get('window_us'))} µs.</p>"
        "<p><b>Answer:</b> with interrupts off (and in any atomic section, where the "
        "scheduler is not called) the timer interrupt cannot even arrive, so the tick "
        "that would set need-resched is held and nothing can push the running code off "
        "the CPU: the task is not switched. What can still interrupt it: NMIs (not "
        "masked by IF), exceptions the code itself causes (page faults, #UD, int3), and "
        "machine checks. With preemption disabled but IF=1, interrupts and softirqs run "
        "(and return to the same code), but no other task does.</p>")


QUESTIONS = (
    ("1. A handler is running and a new interrupt arrives: does the new handler "
     "start? Does the line matter?", q1),
    ("2. Must a handler disable all other interrupts first, save the registers it uses, "
     "and restore and re-enable at the end?", q2),
    ("3. While interrupts are disabled, what happens in the hardware? Are packets "
     "dropped, and where?", q3),
    ("4. Is a context switch atomic? What breaks if it is interrupted halfway?", q4),
    ("5. In atomic context, can the kernel really not be pushed off the CPU? What can "
     "still interrupt it?", q5),
)

CSS = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}
table{border-collapse:collapse;font-size:85%;margin:1em 0}
td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}
th{background:#eee} img{max-width:100%} figure{margin:1em 0}
li.ok b{color:#080} li.fail b{color:#c00} code{background:#f4f4f4}
section{border-top:2px solid #ccc;margin-top:2em}
"""


def render(data: dict) -> str:
    h = [f"<!doctype html><html><head><meta charset='utf-8'><title>napilab report</title>"
         f"<style>{CSS}</style></head><body>",
         "<h1>napilab: what the measurements say</h1>",
         f"<p>Generated {esc(data.get('time'))} by <code>make report</code> in "
         f"{esc(data.get('wall_s'))} s. Guest: our kernel under QEMU (TCG), NIC on a tap "
         "in a private network namespace; QEMU's vCPU thread pinned to CPU 0, its main "
         "loop and the flood generator to CPU 1. Every run is reconciled: sent = "
         "delivered + dropped in the guest (by reason) + missed by the NIC + dropped on "
         "the host (tap/qdisc) + still queued.</p>"]
    fails = [(n, c) for n, r in data.get("experiments", {}).items()
             for c in r.get("checks", []) if not c["ok"]]
    if fails:
        h.append("<p><b style='color:#c00'>Failed checks:</b> " +
                 "; ".join(f"{esc(n)}: {esc(c['name'])}" for n, c in fails) + "</p>")
    if data.get("probes", {}).get("error"):
        h.append(f"<p><b>Probes failed:</b> {esc(data['probes']['error'])}</p>")
    h.append("<h2>The questions of the notes</h2>")
    for title, fn in QUESTIONS:
        h.append(f"<section><h3>{esc(title)}</h3>{fn(data)}</section>")
    h.append("<h2>Experiments</h2>")
    for name, res in data.get("experiments", {}).items():
        h.append(f"<section><h3>Experiment: {esc(name)}</h3>")
        h.append(checks_html(res))
        if res.get("error"):
            h.append(f"<p>Error: {esc(res['error'][:500])}</p>")
        h.append(html_table(res.get("rows", [])))
        for p in res.get("plots", []):
            h.append(img(p, name))
        h.append(f"<p>Raw data: <code>{esc(res.get('json'))}</code></p></section>")
    if data.get("flood"):
        f = data["flood"]
        recs = [acc.RunRecord.from_dict(r) for r in f["records"]]
        from .lab.table import format_flood_table
        h.append("<section><h2>Latest flood sweep</h2>"
                 f"<p>From <code>{esc(f['path'])}</code>.</p>"
                 f"<pre>{esc(format_flood_table(acc.summarize(recs)))}</pre>")
        for p in f.get("plots", []):
            h.append(img(p, "flood"))
        h.append("</section>")
    if data.get("bench"):
        b = data["bench"]
        rows = [{k: v for k, v in r.items() if k != "records"} for r in b.get("results", [])]
        h.append("<section><h2>Benchmark</h2>" + html_table(rows))
        if b.get("plot"):
            h.append(img(b["plot"], "bench"))
        h.append("</section>")
    h.append("</body></html>")
    return "\n".join(h)


def write(data: dict, out: Path = REPORT_DIR) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    pngs = [p for r in data.get("experiments", {}).values() for p in r.get("plots", [])]
    pngs += (data.get("flood") or {}).get("plots", [])
    if (data.get("bench") or {}).get("plot"):
        pngs.append(data["bench"]["plot"])
    for p in pngs:
        if Path(p).exists():
            shutil.copy2(p, out / Path(p).name)
    (out / "data.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    page = out / "index.html"
    page.write_text(render(data))
    return page


# Checks whose failure means the numbers cannot be trusted (as opposed to
# an expectation the measurement contradicted, which is a finding the page
# shows): these make `make report` exit non-zero.
TRUST_WORDS = ("reconcile", "accounted", "ran to the end")


def cmd_report(args) -> int:
    """Exit status 1 if a run did not reconcile or an experiment could not
    run; a contradicted expectation is printed and shown on the page (the
    pytest scenarios are what fail on those)."""
    data = collect(args)
    page = write(data)
    print(f"report: written {page}")
    broken = 0
    for r in data["experiments"].values():
        for c in r.get("checks", []):
            if c["ok"]:
                continue
            trust = any(w in c["name"] for w in TRUST_WORDS)
            broken += trust
            kind = ("ERROR" if trust else
                    "INCONCLUSIVE" if c.get("inconclusive") else "FINDING")
            print(f"report: {kind} {c['name']}: {c['detail']}")
    return 1 if broken else 0
