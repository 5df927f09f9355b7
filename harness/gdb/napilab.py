"""gdb helpers for napilab: what context the CPU is in, preempt_count
decoded, the run queue and the context trace.

Loaded by `make debug` (harness/run.py passes it with -x) or by hand:
    gdb build/kernel.elf -ex 'target remote :1234' -x harness/gdb/napilab.py

Commands
  napilab-context        the current context from preempt_count and CS
                         (user / nmi / irq / softirq / atomic / task), RFLAGS.IF,
                         the context the trace last recorded, the current task
  napilab-preempt        preempt_count split into its fields, need_resched,
                         and the in_*() predicates
  napilab-runqueue       the current task, the run queue in pick order, timed
                         sleepers, and every task with its state
  napilab-trace [N]      the last N (default 20) context-trace records

They read the kernel's own variables (names below), so they work wherever
the kernel is stopped: in a hard-IRQ handler, a softirq, ring 3 (CS says so;
the kernel half is mapped in every address space), or halted in idle.
Field layouts: kernel/preempt.h, kernel/sched/task.h, kernel/trace.h.
"""
import gdb

# kernel/preempt.h
PREEMPT_MASK = 0x000000ff
SOFTIRQ_MASK = 0x0000ff00
HARDIRQ_MASK = 0x000f0000
NMI_MASK = 0x00f00000
SOFTIRQ_OFFSET = 0x100
HARDIRQ_SHIFT = 16
NMI_SHIFT = 20
RFLAGS_IF = 1 << 9

# kernel/trace.h enum ctx / enum trace_cause (same order)
CTX_NAMES = ["task", "atomic", "softirq", "irq", "nmi", "user"]
CAUSE_NAMES = ["none", "syscall", "int80", "exception", "irq", "nmi", "iret",
               "sysret", "irq_exit", "nmi_exit", "softirq_start", "softirq_end",
               "schedule", "preempt", "preempt_disable", "preempt_enable",
               "local_bh_disable"]
STATE_NAMES = {0: "running", 1: "sleeping", 2: "dead"}


def _val(expr):
    return gdb.parse_and_eval(expr)


def _int(expr):
    return int(_val(expr))


def preempt_count():
    return _int("preempt_count_word") & 0xffffffff


def decode(pc):
    """The fields and predicates of a preempt_count value (a dict)."""
    soft = pc & SOFTIRQ_MASK
    return {
        "preempt": pc & PREEMPT_MASK,
        "softirq_serving": bool(pc & SOFTIRQ_OFFSET),
        "bh_disable_depth": soft >> 9,
        "hardirq": (pc & HARDIRQ_MASK) >> HARDIRQ_SHIFT,
        "nmi": (pc & NMI_MASK) >> NMI_SHIFT,
        "in_irq": bool(pc & HARDIRQ_MASK),
        "in_softirq": bool(soft),
        "in_serving_softirq": bool(pc & SOFTIRQ_OFFSET),
        "in_interrupt": bool(pc & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK)),
        "in_nmi": bool(pc & NMI_MASK),
        "in_atomic": pc != 0,
    }


def context_of(pc, cs):
    """The same rule as kernel/trace.c's ctx_of_preempt_count(), with ring 3
    first: CS's low bits are the CPL."""
    if cs & 3:
        return "user"
    if pc & NMI_MASK:
        return "nmi"
    if pc & HARDIRQ_MASK:
        return "irq"
    if pc & SOFTIRQ_OFFSET:
        return "softirq"
    if pc:
        return "atomic"
    return "task"


def task_str(t):
    if int(t) == 0:
        return "(none)"
    return "pid %d %s" % (int(t["pid"]), t["name"].string())


class NapilabContext(gdb.Command):
    """Print the CPU's current context (user/nmi/irq/softirq/atomic/task)."""

    def __init__(self):
        super().__init__("napilab-context", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        pc = preempt_count()
        cs = _int("$cs")
        rflags = _int("$eflags")
        ctx = context_of(pc, cs)
        traced = CTX_NAMES[_int("ctx_cpus[0].cur")] if _int("ctx_cpus[0].cur") < len(CTX_NAMES) else "?"
        gdb.write("context: %s\n" % ctx)
        gdb.write("  preempt_count=0x%x cs=0x%x (ring %d) IF=%d\n"
                  % (pc, cs, cs & 3, 1 if rflags & RFLAGS_IF else 0))
        gdb.write("  trace context: %s\n" % traced)
        gdb.write("  current: %s\n" % task_str(_val("current")))


class NapilabPreempt(gdb.Command):
    """Print preempt_count decoded into its fields."""

    def __init__(self):
        super().__init__("napilab-preempt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        pc = preempt_count()
        d = decode(pc)
        gdb.write("preempt_count=0x%x\n" % pc)
        gdb.write("  preempt=%d softirq_serving=%d bh_disable_depth=%d hardirq=%d nmi=%d\n"
                  % (d["preempt"], d["softirq_serving"], d["bh_disable_depth"],
                     d["hardirq"], d["nmi"]))
        gdb.write("  in_irq=%d in_softirq=%d in_serving_softirq=%d in_interrupt=%d "
                  "in_nmi=%d in_atomic=%d\n"
                  % (d["in_irq"], d["in_softirq"], d["in_serving_softirq"],
                     d["in_interrupt"], d["in_nmi"], d["in_atomic"]))
        gdb.write("  need_resched=%d\n" % _int("need_resched_flag"))


def _offset(struct, member):
    return int(_val("(unsigned long)&((struct %s *)0)->%s" % (struct, member)))


class NapilabRunqueue(gdb.Command):
    """Print the current task, the run queue, sleepers and all tasks."""

    def __init__(self):
        super().__init__("napilab-runqueue", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        task_t = gdb.lookup_type("struct task").pointer()
        cur = _val("current")
        gdb.write("current: %s\n" % task_str(cur))
        head = _val("&'kernel/sched/sched.c'::runq.head")
        off = _offset("task", "rq")
        n = head["next"]
        order = []
        for _ in range(1024):       # bounded: a corrupt list must not hang gdb
            if int(n) == int(head):
                break
            order.append(gdb.Value(int(n) - off).cast(task_t))
            n = n["next"]
        gdb.write("run queue (%d waiting, next first): %s\n"
                  % (_int("'kernel/sched/sched.c'::runq.nr"),
                     ", ".join(task_str(t) for t in order) or "(empty)"))
        s = _val("'kernel/sched/sched.c'::sleepers.first")
        soff = _offset("task", "sleep")
        sl = []
        for _ in range(1024):
            if int(s) == 0:
                break
            t = gdb.Value(int(s) - soff).cast(task_t)
            sl.append("%s until jiffies %d" % (task_str(t), int(s["deadline"])))
            s = s["next"]
        gdb.write("timed sleepers: %s (jiffies now %d)\n"
                  % ("; ".join(sl) or "(none)", _int("jiffies")))
        t = _val("'kernel/sched/task.c'::all_tasks")
        gdb.write("tasks:\n")
        for _ in range(1024):
            if int(t) == 0:
                break
            st = int(t["state"])
            gdb.write("  %4d %-15s %-8s%s utime=%d stime=%d switches=%d\n"
                      % (int(t["pid"]), t["name"].string(), STATE_NAMES.get(st, "?"),
                         " *" if int(t) == int(cur) else "  ", int(t["utime"]),
                         int(t["stime"]), int(t["nr_switches"])))
            t = t["next_all"]


class NapilabTrace(gdb.Command):
    """napilab-trace [N]: the last N context-trace records (default 20)."""

    def __init__(self):
        super().__init__("napilab-trace", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        n = int(arg) if arg.strip() else 20
        ring = _val("ctx_cpus[0].ring")
        size = int(ring.type.sizeof // ring[0].type.sizeof)
        seq = _int("ctx_cpus[0].seq")
        rec = "recording" if _int("ctx_cpus[0].recording") else "stopped"
        n = min(n, seq, size)
        gdb.write("trace: %d records (%s), showing the last %d\n" % (seq, rec, n))
        for k in range(seq - n, seq):
            e = ring[k % size]
            f, t, c = int(e["from"]), int(e["to"]), int(e["cause"])
            gdb.write("  %d tsc=%d %s -> %s (%s) pid=%d arg=%d\n"
                      % (k, int(e["tsc"]), CTX_NAMES[f] if f < 6 else f,
                         CTX_NAMES[t] if t < 6 else t,
                         CAUSE_NAMES[c] if c < len(CAUSE_NAMES) else c,
                         int(e["pid"]), int(e["arg"])))


NapilabContext()
NapilabPreempt()
NapilabRunqueue()
NapilabTrace()
gdb.write("napilab: gdb helpers loaded (napilab-context, napilab-preempt, "
          "napilab-runqueue, napilab-trace)\n")
