/*
 * extable.h - the exception table: kernel instructions that are allowed to
 * fault, each paired with the address where execution continues instead.
 *
 * How it works: an instruction that may fault (a read through a pointer
 * that came from outside the kernel) gets a label; _ASM_EXTABLE() records
 * (label, fixup label) in the __extable section, which kernel.ld gathers
 * between __extable_start and __extable_end. When #PF or #GP (or #SS,
 * #AC) hits in kernel mode and the demand pager does not claim it,
 * exception_handle() looks the faulting RIP up here; on a match it sets
 * the saved RIP to the fixup and returns, so the iretq resumes at the
 * fixup, which typically loads -EFAULT and jumps back past the access.
 * This is the x86 Linux mechanism (arch/x86/mm/extable.c) in its simplest
 * form: absolute addresses (the kernel is not relocated) and a linear
 * search (a handful of entries; sort and bisect if it grows).
 *
 * Users: probe_read_u64()/probe_write_u64() below, copy_from_user() and
 * copy_to_user() (kernel/user/uaccess.c), and memtest's NX check
 * (kernel/mm/memtest.c).
 */
#ifndef KERNEL_EXTABLE_H
#define KERNEL_EXTABLE_H

#include <stdint.h>
#include <stddef.h>
#include "kernel/errno.h"

struct extable_entry {
	uint64_t insn;   /* address of the instruction that may fault */
	uint64_t fixup;  /* where to continue if it does */
};

/* In an asm statement: record (from, to), both local labels such as 1b. */
#define _ASM_EXTABLE(from, to) \
	".pushsection __extable, \"a\"\n\t" \
	".balign 8\n\t" \
	".quad " #from ", " #to "\n\t" \
	".popsection\n\t"

/*
 * In an asm statement: the out-of-line fixup, at local label 3, that runs
 * `extra` (asm text ending in "\n\t", or "" for none), sets the operand
 * named [err] to the one named [efault] (the constant -EFAULT) and jumps
 * back to local label 2, just past the guarded access. Pair it with
 * _ASM_EXTABLE(<the access>, 3b).
 */
#define _ASM_FIXUP_EFAULT(extra) \
	".pushsection .text.fixup, \"ax\"\n" \
	"3:	" extra \
	"	movl %[efault], %[err]\n\t" \
	"	jmp 2b\n\t" \
	".popsection\n\t"

extern const struct extable_entry __extable_start[], __extable_end[];

/* The entry for a faulting rip, or NULL. Any context (exception handlers). */
static inline const struct extable_entry *extable_search(uint64_t rip)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++)
		if (e->insn == rip)
			return e;
	return NULL;
}

/*
 * Reads 8 bytes at addr without crashing: returns 0 and the value, or
 * -EFAULT (and *out = 0) if the read faulted (#PF: not mapped; #GP:
 * non-canonical). Any context that may take an exception (not with a
 * broken stack). A not-present page in the demand area is mapped first,
 * as for any kernel access.
 */
static inline int probe_read_u64(const void *addr, uint64_t *out)
{
	int err = 0;
	uint64_t v;

	__asm__ volatile(
		"1:	movq (%[addr]), %[v]\n"
		"2:\n\t"
		_ASM_FIXUP_EFAULT("xorl %k[v], %k[v]\n\t")
		_ASM_EXTABLE(1b, 3b)
		: [err] "+r"(err), [v] "=r"(v)
		: [addr] "r"(addr), [efault] "i"(-EFAULT)
		: "memory");
	*out = v;
	return err;
}

/* Writes 8 bytes at addr without crashing: 0 or -EFAULT. Same rules. */
static inline int probe_write_u64(void *addr, uint64_t val)
{
	int err = 0;

	__asm__ volatile(
		"1:	movq %[val], (%[addr])\n"
		"2:\n\t"
		_ASM_FIXUP_EFAULT("")
		_ASM_EXTABLE(1b, 3b)
		: [err] "+r"(err)
		: [addr] "r"(addr), [val] "r"(val), [efault] "i"(-EFAULT)
		: "memory");
	return err;
}

#endif
