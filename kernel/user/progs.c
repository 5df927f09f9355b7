/* progs.c - the table of built-in user programs (progs.h). */
#include "kernel/user/progs.h"
#include "kernel/user/user.h"
#include "kernel/user/syscall.h"
#include "kernel/lib/string.h"

/* progs.asm's %defines must match the C side. */
_Static_assert(USER_BASE == 0x0000040000000000ull, "progs.asm: USER_BASE");
_Static_assert(USER_SHARED == USER_BASE + 0x600000, "progs.asm: USER_SHARED");
_Static_assert(USER_HOLE == USER_BASE + 0x700000, "progs.asm: USER_HOLE");
_Static_assert(SYS_WRITE == 0 && SYS_GETPID == 1 && SYS_YIELD == 2 && SYS_SLEEP == 3 &&
	       SYS_EXIT == 4 && SYS_CLOCK == 5, "progs.asm: SYS_* numbers");

#define PROG(n) extern const unsigned char user_prog_##n[], user_prog_##n##_end[]
PROG(hello);
PROG(spin);
PROG(badptr);
PROG(crash);
PROG(sleeper);
PROG(yielder);

static const struct user_prog progs[] = {
	{ "hello", user_prog_hello, user_prog_hello_end,
	  "both syscall paths, prints their return values" },
	{ "spin", user_prog_spin, user_prog_spin_end,
	  "busy loop counting progress; arg = ms to run (0 = until killed)" },
	{ "badptr", user_prog_badptr, user_prog_badptr_end,
	  "write() with bad pointers on both paths: expects -EFAULT (-14)" },
	{ "crash", user_prog_crash, user_prog_crash_end,
	  "faults on purpose: arg 0 ud2, 1 null read, 2 kernel write, 3 cli, 4 div0, 5 int3, 6 stack overflow" },
	{ "sleeper", user_prog_sleeper, user_prog_sleeper_end,
	  "sleeps 20 ms arg times (default 3), printing the clock" },
	{ "yielder", user_prog_yielder, user_prog_yielder_end,
	  "calls yield() arg times (default 100)" },
};

const struct user_prog *user_prog_find(const char *name)
{
	for (unsigned i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (!strcmp(progs[i].name, name))
			return &progs[i];
	return NULL;
}

const struct user_prog *user_prog_table(unsigned *n)
{
	*n = sizeof(progs) / sizeof(progs[0]);
	return progs;
}
