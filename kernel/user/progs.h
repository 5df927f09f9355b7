/*
 * progs.h - the built-in user programs (kernel/user/progs.asm holds the
 * code and says why it is position-independent nasm).
 *
 *   hello    both syscall paths; prints what write/getpid/clock returned
 *   spin     busy loop bumping the shared progress counter; arg = ms (0 = forever)
 *   badptr   write() with kernel, unmapped, partial and wrapping pointers
 *   crash    faults on purpose; arg picks the exception (see progs.asm)
 *   sleeper  sleep(20 ms) arg times (default 3)
 *   yielder  yield() arg times (default 100)
 *
 * The table is read-only: any context.
 */
#ifndef KERNEL_USER_PROGS_H
#define KERNEL_USER_PROGS_H

#include <stddef.h>

struct user_prog {
	const char *name;
	const unsigned char *start, *end;
	const char *help;
};

/* The program called name, or NULL. */
const struct user_prog *user_prog_find(const char *name);
/* The table and its length, for `run` without arguments. */
const struct user_prog *user_prog_table(unsigned *n);

#endif
