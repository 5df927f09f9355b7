/* panic.c - panic(), warnings and frame-pointer backtraces. */
#include <stdarg.h>
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/power.h"
#include "kernel/irqflags.h"
#include "kernel/lib/printf.h"

extern char __text_start[], __text_end[];

static int in_panic;

/* Prints return addresses walking the rbp chain from the given frame
 * pointer (rip, if nonzero, first). */
static void backtrace_from(uint64_t rbp, uint64_t rip)
{
	printk(LOG_EMERG, "backtrace:");
	if (rip)
		printk(LOG_EMERG, "  [<%016lx>]", (unsigned long)rip);
	/* Bounded: 32 frames, and each frame pointer must move up the stack
	 * and stay 8-aligned, so a corrupted chain ends the walk. */
	for (int i = 0; i < 32 && rbp && !(rbp & 7); i++) {
		uint64_t *frame = (uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (ret < (uint64_t)__text_start || ret >= (uint64_t)__text_end)
			break;
		printk(LOG_EMERG, "  [<%016lx>]", (unsigned long)ret);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
}

void dump_backtrace(void)
{
	backtrace_from((uint64_t)__builtin_frame_address(0), 0);
}

void warn_slowpath(const char *file, int line, const char *cond)
{
	printk(LOG_WARN, "WARNING at %s:%d: %s", file, line, cond);
	dump_backtrace();
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	local_irq_disable();
	if (in_panic++) /* a panic while panicking: just stop */
		machine_exit(EXIT_CODE_PANIC);
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk(LOG_EMERG, "KERNEL PANIC: %s", msg);
	dump_backtrace();
	printk(LOG_EMERG, "KERNEL PANIC: end (QEMU exits with status %d)", (EXIT_CODE_PANIC << 1) | 1);
	machine_exit(EXIT_CODE_PANIC);
}
