/*
 * irq.c - hardware interrupt dispatch: per-vector handlers, counters, the
 * EOI, irq_enter()/irq_exit() and the reschedule check on the way out.
 *
 * Nesting policy. Every IDT gate is an interrupt gate, so a handler
 * starts with IF=0 and, unless it executes sti, nothing maskable can
 * interrupt it: a second interrupt (same vector or another) waits in the
 * LAPIC's IRR and is delivered after this handler returned, irq_dispatch()
 * EOIed, and iretq restored the interrupted code's IF=1. The same vector
 * arriving several times meanwhile leaves one IRR bit (coalesced). NMIs
 * are not maskable and do arrive (IST1 stack). Why: handlers are meant to
 * be a few hundred cycles (acknowledge, mask, raise a softirq), so the
 * latency bound for others is one handler; nesting would need a stack
 * budget per priority class and buys little here. Softirqs, which do the
 * long work, run with IF=1 after the EOI.
 * If a handler does enable interrupts (the `nest other-sti` demo), the
 * LAPIC still blocks every vector whose priority class (vector >> 4) is not
 * above the class of the in-service one (PPR, SDM vol 3A 10.8.3.1), so
 * only higher classes nest; irq_dispatch() counts those as `nested`.
 * Handlers run on the interrupted stack: depth is bounded by the 16
 * classes at worst, by 1 with the policy above.
 *
 * EOI rules: every vector delivered by the LAPIC as a fixed interrupt
 * needs one EOI, sent after the handler and before irq_exit() runs
 * softirqs with IF=1 (SDM vol 3A 10.8.5). Not EOIed: the LAPIC spurious
 * vector 0xff (SDM vol 3A 10.9: it sets no ISR bit). The PIC vectors
 * 0x20-0x2f follow the 8259A's rules; a real 8259 interrupt comes through
 * LINT0 in ExtINT mode, which needs no LAPIC EOI (10.8.5), but the same
 * vector sent as a fixed interrupt (IPI, misprogrammed MSI) sets an ISR
 * bit, so the LAPIC gets an EOI exactly when its ISR bit is set.
 */
#include "kernel/irq.h"
#include "kernel/preempt.h"
#include "kernel/trace.h"
#include "kernel/irqflags.h"
#include "kernel/cpu.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/arch/lapic.h"
#include "kernel/lib/json.h"
#include "kernel/lib/printf.h"

struct irq_desc {
	irq_handler_t fn;
	void *ctx;
	const char *name;
	bool reserved;        /* handed out by irq_alloc_vector() */
	struct irq_stat st;
};

static struct irq_desc descs[256];
static struct {
	uint64_t unexpected;      /* no handler installed */
	uint64_t spurious_pic;    /* IRQ7/IRQ15 with the PIC's ISR bit clear */
	uint64_t pic_other;       /* any other PIC vector (all PIC lines are masked) */
	uint64_t spurious_lapic;  /* vector 0xff */
	uint64_t irqs_left_on;    /* a handler returned with IF=1 */
	uint64_t resched;         /* preempt_schedule_irq() calls on the way out */
	uint64_t max_depth;
} is;

/* ---------------------------------------------------------------- API */

int irq_vector_in_use(unsigned vector)
{
	return vector < 256 && descs[vector].fn != NULL;
}

int irq_request(unsigned vector, irq_handler_t fn, void *ctx, const char *name)
{
	if (vector < IRQ_PIC_BASE || vector > 0xff || !fn || trap_vector_is_soft(vector))
		return -EINVAL;
	uint64_t flags = local_irq_save();
	struct irq_desc *d = &descs[vector];
	if (d->fn) {
		local_irq_restore(flags);
		return -EBUSY;
	}
	d->ctx = ctx;
	d->name = name ? name : "?";
	d->reserved = true;
	barrier(); /* ctx and name before fn: irq_dispatch() tests fn only */
	d->fn = fn;
	local_irq_restore(flags);
	return 0;
}

int irq_alloc_vector(void)
{
	uint64_t flags = local_irq_save();
	for (unsigned v = IRQ_ALLOC_FIRST; v <= IRQ_ALLOC_LAST; v++) {
		if (!descs[v].reserved && !descs[v].fn && !trap_vector_is_soft(v)) {
			descs[v].reserved = true;
			local_irq_restore(flags);
			return v;
		}
	}
	local_irq_restore(flags);
	return -ENOSPC;
}

void irq_free(unsigned vector)
{
	if (vector >= 256)
		return;
	uint64_t flags = local_irq_save();
	descs[vector].fn = NULL;
	descs[vector].ctx = NULL;
	descs[vector].reserved = false;
	/* name stays: the counters still describe what ran there */
	local_irq_restore(flags);
}

void irq_get_stat(unsigned vector, struct irq_stat *out)
{
	*out = vector < 256 ? descs[vector].st : (struct irq_stat){ 0 };
}

/* ---------------------------------------------------------------- dispatch */

/* 8259A ports and commands (Intel 8259A datasheet: OCW2, OCW3). */
#define PIC1_CMD   0x20
#define PIC2_CMD   0xa0
#define PIC_EOI    0x20   /* OCW2: non-specific EOI */
#define PIC_READ_ISR 0x0b /* OCW3: next read of the command port returns ISR */

static uint8_t pic_isr(uint16_t cmd_port)
{
	outb(cmd_port, PIC_READ_ISR);
	return inb(cmd_port);
}

/*
 * A vector in 0x20-0x2f. With every PIC line masked, the classic case is
 * the spurious IRQ7 (master) or IRQ15 (slave) that the 8259A signals when
 * a request went away before INTA: its ISR bit is clear. IRQ7: no EOI at
 * all. IRQ15: the master did see a real request on its cascade line 2,
 * so the master alone gets an EOI. Anything else is counted and EOIed at
 * the PIC(s) so it cannot block lower PIC lines.
 */
static void pic_vector(unsigned v)
{
	unsigned irq = v - IRQ_PIC_BASE;

	if (irq == 7 && !(pic_isr(PIC1_CMD) & 0x80)) {
		is.spurious_pic++;
	} else if (irq == 15 && !(pic_isr(PIC2_CMD) & 0x80)) {
		is.spurious_pic++;
		outb(PIC1_CMD, PIC_EOI);
	} else {
		is.pic_other++;
		if (irq >= 8)
			outb(PIC2_CMD, PIC_EOI);
		outb(PIC1_CMD, PIC_EOI);
	}
	/* Delivered by the LAPIC as a fixed interrupt rather than ExtINT:
	 * it is in service there and the highest such (IF=0 since entry). */
	if (lapic_isr_test(v))
		lapic_eoi();
}

static void unexpected_vector(unsigned v, struct trap_frame *tf)
{
	is.unexpected++;
	/* The first few are worth a line; a storm is worth a counter. */
	if (is.unexpected <= 5)
		pr_warn("irq: unexpected vector 0x%x (no handler) at rip 0x%lx; counted and EOIed",
			v, tf->rip);
}

void irq_dispatch(struct trap_frame *tf)
{
	unsigned v = tf->vector & 0xff;
	struct irq_desc *d = &descs[v];

	irq_enter();
	ctx_transition(CTX_IRQ, TC_IRQ, v);   /* context trace (kernel/trace.h) */
	unsigned depth = hardirq_depth();
	d->st.count++;
	if (depth > 1)
		d->st.nested++;
	if (depth > is.max_depth)
		is.max_depth = depth;

	if (v == IRQ_LAPIC_SPURIOUS) {
		is.spurious_lapic++;
		if (d->fn)
			d->fn(tf, d->ctx);
		/* no EOI: a spurious vector sets no ISR bit (SDM vol 3A 10.9) */
	} else if (v <= IRQ_PIC_END) {
		pic_vector(v);
	} else {
		if (d->fn) {
			uint64_t t0 = rdtsc();
			d->fn(tf, d->ctx);
			uint64_t dt = rdtsc() - t0;
			if (dt > d->st.max_cycles)
				d->st.max_cycles = dt;
		} else {
			unexpected_vector(v, tf);
		}
		if (!irqs_disabled()) {
			/* The handler enabled interrupts and did not turn them
			 * off again: the EOI below must not be interrupted. */
			is.irqs_left_on++;
			local_irq_disable();
		}
		lapic_eoi();
	}
	irq_exit();
	ctx_sync(TC_IRQ_EXIT);                /* context trace: back to what we interrupted */

	/*
	 * Preemption point on the way back to kernel code that ran with IF=1
	 * and preemption enabled (return to user mode is the syscall layer's
	 * business). IF=0 here; preempt_schedule_irq() keeps it so on return.
	 */
	if (!trap_from_user(tf) && (tf->rflags & RFLAGS_IF) && preempt_count() == 0 &&
	    need_resched()) {
		is.resched++;
		preempt_schedule_irq();
	}
}

/* ---------------------------------------------------------------- reports */

static const char *vector_name(unsigned v)
{
	if (descs[v].name)
		return descs[v].name;
	if (v >= IRQ_PIC_BASE && v <= IRQ_PIC_END)
		return "pic";
	if (v == IRQ_LAPIC_SPURIOUS)
		return "spurious";
	return "-";
}

static void irq_stats_json(struct json *j)
{
	uint64_t total = 0;

	json_obj_begin(j, "vectors");
	for (unsigned v = IRQ_PIC_BASE; v < 256; v++) {
		const struct irq_desc *d = &descs[v];
		char key[8];
		if (!d->st.count && !d->fn)
			continue;
		total += d->st.count;
		ksnprintf(key, sizeof(key), "0x%02x", v);
		json_obj_begin(j, key);
		json_str(j, "name", vector_name(v));
		json_bool(j, "active", d->fn != NULL);
		json_u64(j, "count", d->st.count);
		json_u64(j, "nested", d->st.nested);
		json_u64(j, "max_cycles", d->st.max_cycles);
		json_obj_end(j);
	}
	json_obj_end(j);
	json_u64(j, "total", total);
	json_u64(j, "unexpected", is.unexpected);
	json_u64(j, "spurious_pic", is.spurious_pic);
	json_u64(j, "pic_other", is.pic_other);
	json_u64(j, "spurious_lapic", is.spurious_lapic);
	json_u64(j, "irqs_left_on", is.irqs_left_on);
	json_u64(j, "resched", is.resched);
	json_u64(j, "max_depth", is.max_depth);
}
STATS_SECTION("irq", irq_stats_json);

static int cmd_irqs(int argc, char **argv)
{
	kprintf("vector  name              count       nested  max_cycles   max_us\n");
	for (unsigned v = IRQ_PIC_BASE; v < 256; v++) {
		const struct irq_desc *d = &descs[v];
		if (!d->st.count && !d->fn)
			continue;
		uint64_t us = tsc_to_ns(d->st.max_cycles) / 1000;
		kprintf("0x%02x    %-16s %10lu %10lu %11lu %8lu%s\n", v, vector_name(v),
			d->st.count, d->st.nested, d->st.max_cycles, us,
			d->fn ? "" : " (no handler)");
	}
	kprintf("unexpected=%lu spurious_pic=%lu pic_other=%lu spurious_lapic=%lu max_depth=%lu\n",
		is.unexpected, is.spurious_pic, is.pic_other, is.spurious_lapic, is.max_depth);
	return 0;
}
SHELL_CMD("irqs", cmd_irqs, "", "interrupt vectors: handler, count, nested, longest run");
