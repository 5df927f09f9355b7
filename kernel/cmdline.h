/*
 * cmdline.h - the kernel command line: `key=value` words from
 * \cmdline.txt on the ESP (see README). Keys are declared where they are
 * used with KPARAM() (kernel/registry.h); cmdline_parse() calls each
 * key's setter once, early in boot, before any initcall, so setters must
 * only validate and store. Unknown keys and rejected values are reported on
 * the console and counted, never ignored silently.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

extern char kernel_cmdline[];
extern unsigned int cmdline_errors;

void cmdline_parse(const char *line);

/* Helpers for setters: parse an unsigned value in [min, max]; -EINVAL else. */
int kparam_uint(const char *value, unsigned long min, unsigned long max, unsigned long *out);

#endif
