/*
 * nmi.c - the NMI handler (vector 2).
 *
 * An NMI is delivered whatever RFLAGS.IF says (SDM vol 3A 6.7.1), and the
 * CPU blocks further NMIs until the next iretq (6.7.1 too). It arrives on
 * the IST1 stack (gdt.h), so it works even when the interrupted stack is
 * unusable. Caveat of that design, as in every kernel using IST for NMI:
 * if this handler took an exception, that exception's iretq would unblock
 * NMIs, and a second NMI would restart on the top of IST1, over this one's
 * frame. So nothing here may fault: no probe_read, no demand area, no
 * backtrace walk - just counters and one printk (which only writes the
 * UART and a static ring; it may interleave with a line the interrupted
 * code was printing, it cannot deadlock: there are no locks in it).
 *
 * Sources: LAPIC self-NMI (`fault nmi`), QMP inject-nmi from the harness,
 * later perhaps a watchdog. Subsystems that want to look at NMIs register
 * nothing yet; when one does, this is where the chain goes.
 */
#include "kernel/trap.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/cpu.h"
#include "kernel/registry.h"
#include "kernel/lib/json.h"

static struct {
	volatile uint64_t count;
	uint64_t last_rip;            /* where the NMI interrupted */
	unsigned last_preempt_count;  /* context it interrupted */
	unsigned last_in_nmi_count;   /* preempt_count inside the handler */
	uint64_t last_if;             /* RFLAGS.IF of the interrupted code */
	uint64_t while_irqs_off;      /* NMIs that interrupted IF=0 code */
	uint64_t last_tsc;
} nmi;

uint64_t nmi_count(void)
{
	return nmi.count;
}

void nmi_handle(struct trap_frame *tf)
{
	unsigned pc_before = preempt_count();

	nmi_enter();
	nmi.count++;
	nmi.last_tsc = rdtsc();
	nmi.last_rip = tf->rip;
	nmi.last_preempt_count = pc_before;
	nmi.last_in_nmi_count = preempt_count();
	nmi.last_if = (tf->rflags & RFLAGS_IF) ? 1 : 0;
	if (!nmi.last_if)
		nmi.while_irqs_off++;
	printk(LOG_NOTICE, "nmi: received (#%lu) rip=0x%lx cs=0x%lx IF=%lu interrupted "
	       "preempt_count=0x%x (%s), in handler 0x%x in_nmi=%d",
	       nmi.count, tf->rip, tf->cs, nmi.last_if, pc_before,
	       pc_context_name(pc_before), preempt_count(), in_nmi() ? 1 : 0);
	nmi_exit();
}

static void nmi_stats_json(struct json *j)
{
	json_u64(j, "count", nmi.count);
	json_u64(j, "while_irqs_off", nmi.while_irqs_off);
	json_hex(j, "last_rip", nmi.last_rip);
	json_u64(j, "last_preempt_count", nmi.last_preempt_count);
	json_u64(j, "last_in_nmi_count", nmi.last_in_nmi_count);
	json_u64(j, "last_if", nmi.last_if);
}
STATS_SECTION("nmi", nmi_stats_json);
