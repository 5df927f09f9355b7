/*
 * printf.h - kernel vsnprintf. Supports %d %i %u %x %X %o %s %c %p %%, the
 * flags '-' and '0', a field width (number or '*'), a precision for %s, and
 * the length modifiers hh h l ll z. Always NUL-terminates; returns the length
 * the full output would have had (as C99 does). Pure: no locks, no I/O, so it
 * may run in any context, including NMI.
 */
#ifndef KERNEL_LIB_PRINTF_H
#define KERNEL_LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
