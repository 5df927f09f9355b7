/*
 * main.c - kmain(): the boot sequence, one commented step per line.
 *
 * Entered from entry.asm on the boot stack with IF=0 and UEFI's identity
 * page tables. Nothing before serial_init() can print.
 */
#include "boot/bootinfo.h"
#include "kernel/cpu.h"
#include "kernel/serial.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/power.h"
#include "kernel/time.h"
#include "kernel/cmdline.h"
#include "kernel/shell.h"
#include "kernel/registry.h"
#include "kernel/irqflags.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"
#include "kernel/acpi.h"
#include "kernel/arch/pic.h"
#include "kernel/arch/lapic.h"
#include "kernel/arch/ioapic.h"
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "kernel/sched/sched.h"

#define NAPILAB_VERSION "0.1"

struct bootinfo boot_info; /* our copy: the loader's lives in memory we reuse */

static void run_initcalls(void)
{
	for (const struct initcall *c = __initcalls_start; c < __initcalls_end; c++) {
		int err = c->fn();
		if (err)
			pr_err("init: %s failed: %d", c->name, err);
	}
}

static int cmd_poweroff(int argc, char **argv)
{
	kputs("napilab: power off\n");
	machine_exit(EXIT_CODE_OK);
}
SHELL_CMD("poweroff", cmd_poweroff, "", "end QEMU with exit status 1");

__attribute__((noreturn)) void kmain(struct bootinfo *bi)
{
	tsc_boot = rdtsc();
	serial_init();                       /* console first: everything after may print */
	trap_init();                         /* GDT, TSS, IDT: from here a fault is reported, not a triple fault */
	if (!bi || bi->magic != BOOTINFO_MAGIC || bi->version != BOOTINFO_VERSION)
		panic("boot: bad bootinfo at %p (magic/version mismatch)", bi);
	memcpy(&boot_info, bi, sizeof(boot_info));
	pr_info("napilab " NAPILAB_VERSION ": booting");
	cmdline_parse(boot_info.cmdline);    /* settings every later step reads */
	pr_info("cmdline: '%s'", boot_info.cmdline);
	mm_init();                           /* pages, our page tables (W^X), heap */
	sched_init();                        /* boot context = task 1, idle, ksoftirqd, tick hook */
	acpi_init();                         /* RSDP, XSDT, MADT, MCFG, FADT */
	pic_init();                          /* 8259s out of the way: remapped, all masked */
	lapic_init();                        /* xAPIC on, LINT1 = NMI, error/spurious vectors */
	ioapic_init();                       /* every GSI masked until a driver routes it */
	timer_init();                        /* TSC/LAPIC calibration, periodic tick at hz */
	local_irq_enable();                  /* from here interrupts are delivered */

	run_initcalls();                     /* drivers and protocols register themselves */
	kputs("napilab: ready\n");           /* the harness waits for this line: printed at any loglevel */
	sched_start_shell(shell_run);        /* the shell becomes a task; the boot context exits */
}
