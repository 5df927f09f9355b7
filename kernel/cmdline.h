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

/* The line as given, and how many words were rejected (for `info` and
 * `stats`). Written by cmdline_parse() only. */
extern char kernel_cmdline[];
extern unsigned int cmdline_errors;

/* Applies every `key=value` word of line. kmain, once, IF=0, before
 * mm_init() and the initcalls. */
void cmdline_parse(const char *line);

/* Helper for setters: parse an unsigned value in [min, max]; -EINVAL
 * else. Pure: any context. */
int kparam_uint(const char *value, unsigned long min, unsigned long max, unsigned long *out);

#endif
