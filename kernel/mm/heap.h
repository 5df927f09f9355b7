/*
 * heap.h - kernel heap: kmalloc/kfree of any size over pages from the pmm.
 *
 * Blocks are 16-byte aligned. Freeing a pointer the heap did not hand out,
 * or freeing twice, is detected, reported with WARN and ignored.
 *
 * Context: any, including hard IRQ (the heap lock disables interrupts);
 * never sleeps; returns NULL when memory runs out, never panics.
 */
#ifndef KERNEL_MM_HEAP_H
#define KERNEL_MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define KMALLOC_ALIGN 16

void *kmalloc(size_t size);
void *kzalloc(size_t size);
/* align: a power of two; up to PAGE_SIZE. Free with kfree(). */
void *kmalloc_aligned(size_t size, size_t align);
void kfree(void *p);   /* NULL is allowed and ignored */

struct heap_stats {
	uint64_t bytes_in_use;   /* payload bytes of live blocks */
	uint64_t bytes_reserved; /* bytes obtained from the pmm */
	uint64_t allocs, frees, failures, bad_frees;
};
void heap_get_stats(struct heap_stats *out);
/* Checks every block header and the free list; returns the number of
 * inconsistencies (0 = healthy). Any context; O(heap size). */
unsigned heap_check(void);

/* Boot: after vmm_init(). Task context, once. */
void heap_init(void);

#endif
