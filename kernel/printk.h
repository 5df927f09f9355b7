/*
 * printk.h - kernel log. Every line gets a timestamp "[    s.uuuuuu]" from
 * the TSC and goes to the serial console if its level is at or below
 * console_loglevel (cmdline `loglevel=`), and always into a ring buffer the
 * shell's `dmesg` prints.
 *
 * Context: any, including hard IRQ and NMI. Output is done with interrupts
 * off so that lines from an interrupt handler do not split a line of the
 * code it interrupted (an NMI still can: it is not maskable).
 *
 * Convention: messages start with their subsystem, "apic: ...".
 */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_EMERG = 0,
	LOG_ERR = 3,
	LOG_WARN = 4,
	LOG_NOTICE = 5,
	LOG_INFO = 6,
	LOG_DEBUG = 7,
};

extern int console_loglevel;

void printk(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vprintk(int level, const char *fmt, va_list ap);
/* Raw console output with no timestamp or newline handling (the shell). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kputs(const char *s);
/* Copies the log ring into buf (oldest first); returns bytes stored. */
size_t printk_dump(char *buf, size_t size);

#define pr_err(...)    printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)   printk(LOG_WARN, __VA_ARGS__)
#define pr_notice(...) printk(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...)   printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)  printk(LOG_DEBUG, __VA_ARGS__)

#endif
