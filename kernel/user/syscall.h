/*
 * syscall.h - system call numbers and conventions. The same numbers are
 * %define'd in kernel/user/progs.asm (nasm cannot read this file): change
 * both together.
 *
 * Two entry paths, one table:
 *   syscall   (SYSCALL/SYSRETQ; MSRs STAR, LSTAR, FMASK; EFER.SCE)
 *   int 0x80  (an interrupt gate with DPL 3; returns with iretq)
 * Number in rax; arguments in rdi, rsi, rdx; result in rax (>= 0, or
 * -errno). With `syscall` the CPU overwrites rcx and r11 (return RIP and
 * RFLAGS); int 0x80 preserves every register but rax.
 *
 *   0 write(fd, buf, len)  fd 1 or 2: the console. Returns len, -EFAULT
 *                          (buf not entirely inside mapped user memory),
 *                          -EINVAL (other fd, len > SYS_WRITE_MAX)
 *   1 getpid()             the task's pid
 *   2 yield()              0; gives the CPU to the next runnable task
 *   3 sleep(ms)            0; sleeps at least ms milliseconds
 *   4 exit(code)           does not return
 *   5 clock()              nanoseconds since boot (TSC)
 * Anything else: -ENOSYS.
 */
#ifndef KERNEL_USER_SYSCALL_H
#define KERNEL_USER_SYSCALL_H

#include <stdint.h>

#define SYS_WRITE   0
#define SYS_GETPID  1
#define SYS_YIELD   2
#define SYS_SLEEP   3
#define SYS_EXIT    4
#define SYS_CLOCK   5
#define NR_SYSCALLS 6

#define SYS_WRITE_MAX 4096
#define SYSCALL_INT_VECTOR 0x80
#define SYSCALL_VECTOR     0x100    /* trap_frame.vector of a SYSCALL entry */

struct trap_frame;
/* kernel/user/entry.asm -> here. IF=0 in and out. Returns through
 * tf->error_code: 0 = SYSRETQ is safe, 1 = use iretq. */
void syscall_dispatch(struct trap_frame *tf);

#endif
