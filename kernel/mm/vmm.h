/*
 * vmm.h - the kernel's own 4-level page tables.
 *
 * Layout (virtual addresses), all in the lower half (PML4 slots 0-4):
 *   identity (va == pa)       every RAM range of the UEFI map (RW, NX) and
 *                             the ACPI tables (R, NX); the kernel image
 *                             inside it with 4 KiB pages and W^X (text R-X,
 *                             rodata R--, data/bss RW-). Page 0 is never
 *                             mapped, so a NULL dereference faults. MMIO
 *                             is NOT identity-mapped: use ioremap().
 *   VMM_MMIO_BASE ...         ioremap() windows, uncached (PCD|PWT).
 *   VMM_STACK_BASE ...        kernel stacks, each with an unmapped guard
 *                             page below it.
 *   VMM_DEMAND_BASE ...       left empty for demand-paging tests.
 *
 * Every mapping is either writable or executable, never both.
 */
#ifndef KERNEL_MM_VMM_H
#define KERNEL_MM_VMM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Flags for vmm_map_page(). Absent VMM_EXEC the page is NX; absent
 * VMM_WRITE it is read-only (CR0.WP makes that bind the kernel too). */
#define VMM_WRITE (1u << 0)
#define VMM_EXEC  (1u << 1)
#define VMM_USER  (1u << 2)
#define VMM_UC    (1u << 3)   /* uncached: PCD|PWT, for MMIO */

/* Virtual regions above the identity map: PML4 slots 2, 3 and 4 (the
 * identity map stays below 1 TiB; vmm_init() ignores RAM above that). */
#define VMM_MMIO_BASE  0x0000010000000000ull  /* 1 TiB */
#define VMM_MMIO_SIZE  0x0000008000000000ull  /* 512 GiB */
#define VMM_STACK_BASE 0x0000018000000000ull  /* 1.5 TiB */
#define VMM_STACK_SIZE 0x0000008000000000ull
/* Left empty for demand-mapping tests (the #PF handler maps pages here
 * with vmm_map_page()); nothing else uses it. */
#define VMM_DEMAND_BASE 0x0000020000000000ull /* 2 TiB */
#define VMM_DEMAND_SIZE 0x0000008000000000ull

/*
 * Maps one 4 KiB page va -> pa with `flags`, allocating page-table pages as
 * needed. Returns 0, -EINVAL (unaligned, non-canonical, W and X together,
 * va inside a 2 MiB mapping, or before vmm_init()), -EEXIST (already
 * mapped differently; the identical mapping again returns 0),
 * -ENOMEM. Flushes the TLB entry. Task context, or the #PF handler; takes
 * the vmm lock with interrupts off.
 */
int vmm_map_page(uint64_t va, uint64_t pa, uint64_t flags);
/* Removes the 4 KiB mapping of va (the page itself is not freed). Returns
 * 0 or -ENOENT. Same context rules. */
int vmm_unmap_page(uint64_t va);

/*
 * Maps [phys, phys+size) uncached (PCD|PWT, RW, NX) in the MMIO region and
 * returns the virtual address of `phys`. Mapping a range that overlaps or
 * repeats an earlier one returns the same window (idempotent), so drivers
 * need not coordinate. Task context at boot/probe time; returns NULL (and
 * logs) if the region is exhausted.
 */
void *ioremap(uint64_t phys, size_t size);

/*
 * Returns the 16-byte-aligned TOP of a fresh zeroed kernel stack of at
 * least `bytes` (rounded up to pages), with an unmapped guard page below
 * it, so an overflow faults at once instead of corrupting memory.
 * Task context at boot or thread creation; panics on exhaustion (a stack
 * is never optional).
 */
void *kstack_alloc(size_t bytes);

/* Unmaps and frees a stack from kstack_alloc() (same `bytes`); its virtual
 * range is not reused, so a stale pointer into it faults. Task context,
 * never on the stack being freed. */
void kstack_free(void *top, size_t bytes);

/* True if va lies in a guard page of the stack region: the #PF handler
 * uses it to report "stack overflow (guard page)". Any context. */
bool vmm_is_guard_page(uint64_t va);

/*
 * Looks va up in the live tables: returns true and the leaf entry (with its
 * level, 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) if mapped. Any context.
 */
bool vmm_lookup(uint64_t va, uint64_t *pte, int *level);

/*
 * Calls fn for every present leaf mapping of the lower half, with the
 * effective permissions (writable = RW at every level, executable = NX at
 * no level); level 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB. For checks such as W^X.
 * Task context.
 */
void vmm_walk(void (*fn)(uint64_t va, uint64_t pte, int level, bool writable,
			 bool executable, void *arg), void *arg);

/* Boot: builds and loads the kernel page tables. Task context, IF=0, once,
 * after pmm_init(). */
void vmm_init(void);

/* Number of page-table pages the kernel tables use (for stats). */
uint64_t vmm_table_pages(void);

#endif
