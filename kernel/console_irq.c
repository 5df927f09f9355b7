/*
 * console_irq.c - COM1's receive interrupt, so that the shell sleeps in
 * `hlt` while it waits for input instead of spinning (which under TCG
 * burns a host core that QEMU's main loop and the NIC need).
 *
 * COM1 is ISA IRQ 4; the MADT's overrides give its GSI and polarity
 * (on QEMU: GSI 4, edge, active high). The UART raises its line while
 * received data is waiting and drops it when the shell has read the FIFO
 * empty (16550 IER bit 0, "received data available"), so an edge entry
 * sees one rising edge per batch of input that finds the FIFO empty.
 *
 * The handler reads nothing from the UART (the shell reads the bytes with
 * serial_getc()); it only records that input came, which is all the
 * shell's wait needs. The periodic tick also ends every `hlt`, so a missed
 * wake-up would cost at most one tick, never a hang.
 */
#include "kernel/shell.h"
#include "kernel/serial.h"
#include "kernel/acpi.h"
#include "kernel/arch/ioapic.h"
#include "kernel/irq.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/registry.h"
#include "kernel/lib/json.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/time.h"

static bool console_irq_on;
static unsigned console_gsi, console_vector, console_flags;
static volatile bool input_kick;    /* an RX interrupt since the last wait */
static uint64_t rx_irqs, sleeps;
/* The shell task sleeps here while it waits for input (scheduler). */
static struct wait_queue input_wq = WAIT_QUEUE_INIT;

/* Hard-IRQ context: note the input; the dispatcher sends the EOI. */
static void console_rx_irq(struct trap_frame *tf, void *ctx)
{
	rx_irqs++;
	input_kick = true;
	wake_up(&input_wq);
}

/*
 * Called by the shell (task context, IF=1) after serial_getc() found no
 * byte. Sleeps until the next interrupt unless an RX interrupt has come
 * since the last call. The flag is tested with IF=0, and `sti; hlt` makes
 * the test and the sleep race-free: STI delays interrupt recognition until
 * after the next instruction (SDM vol. 2B, STI), so an interrupt that
 * arrives after the test is taken only once HLT has begun, and wakes it.
 */
void shell_wait_input(void)
{
	if (!console_irq_on) {
		cpu_relax();
		return;
	}
	if (current) {
		/* The shell is a task (kernel/sched): sleep on a wait queue so
		 * other tasks have the CPU; the RX interrupt wakes us. The 1 s
		 * timeout only bounds the cost of a lost edge. */
		sleeps++;
		wait_event_timeout(&input_wq, input_kick, hz);
		input_kick = false;
		return;
	}
	local_irq_disable();
	if (input_kick) {
		input_kick = false;
		local_irq_enable();
		return;
	}
	sleeps++;
	__asm__ volatile("sti; hlt" ::: "memory");
}

static int console_irq_init(void)
{
	int vector = irq_alloc_vector();
	if (vector < 0) {
		pr_warn("console: no free vector for COM1: the shell polls");
		return vector;
	}
	console_gsi = acpi_isa_irq_to_gsi(COM1_IRQ, &console_flags);
	int err = irq_request((unsigned)vector, console_rx_irq, NULL, "com1");
	if (!err)
		err = ioapic_route_gsi(console_gsi, (unsigned)vector, console_flags);
	if (err) {
		pr_warn("console: cannot route COM1 (IRQ %u, GSI %u): %d; the shell polls",
			COM1_IRQ, console_gsi, err);
		return err;
	}
	console_vector = (unsigned)vector;
	serial_enable_rx_irq();
	console_irq_on = true;
	pr_info("console: COM1 IRQ %u -> GSI %u (%s, active %s) vector 0x%x: shell sleeps in hlt",
		COM1_IRQ, console_gsi, console_flags & IOAPIC_LEVEL ? "level" : "edge",
		console_flags & IOAPIC_ACTIVE_LOW ? "low" : "high", console_vector);
	return 0;
}
/* Level 1 (core): after the interrupt controllers and timer, before devices. */
INITCALL(1, console_irq_init);

static void console_stats(struct json *j)
{
	json_bool(j, "rx_irq", console_irq_on);
	json_u64(j, "gsi", console_gsi);
	json_u64(j, "vector", console_vector);
	json_u64(j, "rx_irqs", rx_irqs);
	json_u64(j, "sleeps", sleeps);
}
STATS_SECTION("console", console_stats);
