/*
 * user.h - ring 3: user address spaces, entering user mode, and the
 * layout every user program sees.
 *
 * Address space. A user task gets its own PML4. Its user half is one
 * PML4 slot the kernel does not use (slot 8: [4 TiB, 4.5 TiB); the
 * kernel uses slots 0 (RAM identity map and image), 2 (MMIO), 3 (kernel
 * stacks) and 4 (demand area), kernel/mm/vmm.h). Every other slot is a
 * copy of the kernel's PML4 entry, refreshed at each switch to the task,
 * so kernel code, data and stacks are reachable during syscalls and
 * interrupts but, having no U bit, not from ring 3 (SDM vol 3A 4.6).
 * Kernel pages are global (G), so loading a user CR3 flushes only the
 * user half of the TLB.
 *
 * Program layout inside the user slot (USER_BASE = 4 TiB):
 *   USER_CODE          code of the program, copied in, R-X user
 *   USER_SHARED        one RW page, NX: word 0 is the progress counter a
 *                      program may bump (spin does); the kernel reads it
 *                      for `ps` and the stats (no syscall needed)
 *   USER_HOLE          never mapped, for tests of bad pointers
 *   USER_STACK_TOP     stack of USER_STACK_PAGES, RW NX; the page below
 *                      stays unmapped (overflow faults and kills the task)
 *
 * User programs are position-independent nasm blobs in
 * kernel/user/progs.asm, linked into the kernel's rodata and copied into
 * the task's code pages (see progs.h for why not C).
 */
#ifndef KERNEL_USER_USER_H
#define KERNEL_USER_USER_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define USER_PML4_SLOT    8
#define USER_BASE         0x0000040000000000ull
#define USER_SIZE         0x0000008000000000ull   /* one PML4 slot: 512 GiB */
#define USER_END          (USER_BASE + USER_SIZE)

#define USER_CODE         (USER_BASE + 0x400000)
#define USER_CODE_MAX     (16 * 4096)
#define USER_SHARED       (USER_BASE + 0x600000)
#define USER_HOLE         (USER_BASE + 0x700000)
#define USER_STACK_TOP    (USER_BASE + 0x800000)
#define USER_STACK_PAGES  4

struct task;
struct user_mm;

/*
 * Builds an address space holding `code` (len bytes) at USER_CODE, the
 * shared page and the stack. NULL if out of memory or len too large.
 * Task context.
 */
struct user_mm *user_mm_create(const void *code, size_t len);
/* Frees every page of it (user pages, its page tables, the PML4). Must
 * not be the loaded CR3. Any context with IF=0 or task context. */
void user_mm_destroy(struct user_mm *mm);
/* Physical address of its PML4 (the task's CR3). */
uint64_t user_mm_cr3(const struct user_mm *mm);

/*
 * Called by the scheduler right before context_switch() to next, IF=0:
 * loads next's CR3 (the kernel's for kernel threads), refreshing the
 * kernel entries of a user PML4 first, and points TSS.RSP0 and the
 * syscall entry stack at next's kernel stack top.
 */
void user_switch_mm(struct task *next);

/* The progress counter in t's shared page (0 for kernel threads). Any
 * context. */
uint64_t user_progress(const struct task *t);

/* True if [addr, addr + len) lies inside the user region. */
static inline bool user_range_ok(uint64_t addr, uint64_t len)
{
	return addr >= USER_BASE && len <= USER_SIZE && addr <= USER_END - len;
}

/*
 * Starts built-in program `name` as a new user task with argument `arg`
 * (in rdi at entry). Returns the task, or NULL with *err = -ENOENT
 * (no such program) or -ENOMEM. Task context.
 */
struct task *user_spawn(const char *name, uint64_t arg, int *err);

/* kernel/user/entry.asm */
__attribute__((noreturn)) void user_enter(uint64_t rip, uint64_t rsp, uint64_t arg);
void syscall_entry(void);

/* Per-CPU data the syscall entry reaches through GS (entry.asm offsets). */
struct cpu_area {
	uint64_t self;          /* 0: this struct's address */
	uint64_t kernel_rsp;    /* 8: top of the current task's kernel stack */
	uint64_t user_rsp;      /* 16: user RSP, saved by syscall_entry */
};
extern struct cpu_area cpu_area;

#endif
