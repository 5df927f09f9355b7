/*
 * uaccess.c - copy_from_user()/copy_to_user(); rules in uaccess.h.
 *
 * The copy is one `rep movsb` with an exception-table entry on it. If a
 * page in the range is missing, the #PF is taken in ring 0 at that
 * instruction (RCX says how far it got); exception_handle() finds the
 * entry and resumes at label 3, which returns -EFAULT. SMAP is not
 * enabled by this kernel (CR4.SMAP=0), so no stac/clac is needed; if it
 * ever is, the copy must be bracketed by them.
 */
#include "kernel/user/uaccess.h"
#include "kernel/user/user.h"
#include "kernel/extable.h"
#include "kernel/errno.h"

uint64_t uaccess_faults;
uint64_t uaccess_rejected;

static int copy_guarded(void *dst, const void *src, size_t len)
{
	int err = 0;

	__asm__ volatile(
		"1:	rep movsb\n"
		"2:\n\t"
		_ASM_FIXUP_EFAULT("")
		_ASM_EXTABLE(1b, 3b)
		: [err] "+r"(err), "+D"(dst), "+S"(src), "+c"(len)
		: [efault] "i"(-EFAULT)
		: "memory");
	if (err)
		uaccess_faults++;
	return err;
}

int copy_from_user(void *dst, uint64_t usrc, size_t len)
{
	if (!user_range_ok(usrc, len)) {
		uaccess_rejected++;
		return -EFAULT;
	}
	return copy_guarded(dst, (const void *)usrc, len);
}

int copy_to_user(uint64_t udst, const void *src, size_t len)
{
	if (!user_range_ok(udst, len)) {
		uaccess_rejected++;
		return -EFAULT;
	}
	return copy_guarded((void *)udst, src, len);
}
