/*
 * mm.h - memory management as a whole: boot entry point and the summary
 * the `info` command prints. The pieces are pmm.h (physical pages),
 * vmm.h (page tables, ioremap, kernel stacks) and heap.h (kmalloc).
 */
#ifndef KERNEL_MM_MM_H
#define KERNEL_MM_MM_H

/*
 * Boot: physical allocator, kernel page tables, heap, in that order.
 * Called once from kmain right after cmdline_parse(), task context, IF=0,
 * on UEFI's page tables; returns on the kernel's own. Panics if memory
 * cannot be set up (nothing else could run).
 */
void mm_init(void);

/* Prints a few lines of memory figures (for `info`). Task context. */
void mm_info_print(void);

#endif
