/* power.c - QEMU exit and halt; see power.h. */
#include "kernel/power.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"

void machine_exit(unsigned int code)
{
	local_irq_disable();
	outl(QEMU_EXIT_PORT, code);
	/* No debug-exit device: q35's ICH9 PM1a control at 0x604 (QEMU's
	 * ACPI PM base), SLP_TYP=S5 | SLP_EN, ends QEMU with status 0. */
	outw(0x604, 0x2000);
	for (;;)
		hlt();
}
