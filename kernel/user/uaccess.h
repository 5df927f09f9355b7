/*
 * uaccess.h - copying between the kernel and a user task's memory.
 *
 * Two checks guard every user pointer:
 *  1. the range [ptr, ptr + len) must lie inside the user region
 *     (user_range_ok, user.h): a kernel address, or one that wraps,
 *     is refused before anything is touched;
 *  2. the copy itself runs with an exception-table entry
 *     (kernel/extable.h): a range inside the region that is not mapped
 *     (or not writable, for copy_to_user) faults in kernel mode, and the
 *     #PF handler resumes at the fixup instead of panicking.
 * Both give -EFAULT. No partial-copy count is returned: the caller fails
 * the whole call, as write() does here.
 *
 * Context: task context of the user task whose address space is loaded
 * (a syscall). IF may be 1: a fault here is handled on this stack.
 */
#ifndef KERNEL_USER_UACCESS_H
#define KERNEL_USER_UACCESS_H

#include <stdint.h>
#include <stddef.h>

int copy_from_user(void *dst, uint64_t usrc, size_t len);
int copy_to_user(uint64_t udst, const void *src, size_t len);

/* Copies that faulted and were recovered (for stats and tests). */
extern uint64_t uaccess_faults;
extern uint64_t uaccess_rejected;

#endif
