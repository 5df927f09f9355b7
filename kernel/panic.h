/*
 * panic.h - fatal error reporting. panic() is for broken invariants only:
 * it prints "KERNEL PANIC: <message>", a backtrace from the frame pointers,
 * and ends QEMU with status 33. BUG_ON(cond) panics with file and line.
 * WARN_ON(cond) prints a warning with a backtrace and continues.
 * Any context.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
void dump_backtrace(void);

#define BUG_ON(cond) \
	do { if (__builtin_expect(!!(cond), 0)) panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); } while (0)
#define WARN_ON(cond) ({ \
	int __w = !!(cond); \
	if (__builtin_expect(__w, 0)) warn_slowpath(__FILE__, __LINE__, #cond); \
	__w; })

void warn_slowpath(const char *file, int line, const char *cond);

#endif
