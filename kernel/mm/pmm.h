/*
 * pmm.h - the physical page allocator: 4 KiB frames of RAM taken from the
 * usable ranges of the UEFI memory map (kernel/mm/memmap.h).
 *
 * Address model: the kernel keeps physical == virtual for all RAM (its own
 * page tables identity-map every usable range, see vmm.h), so a physical
 * address of RAM can be dereferenced as is. phys_to_virt()/virt_to_phys()
 * exist so that code says which kind of address it holds and so that this
 * rule can change in one place. They are NOT valid for MMIO: map that with
 * ioremap() (vmm.h), which returns an address in a separate region.
 *
 * Context: every function here may be called from any context, including
 * hard IRQ (the allocator's lock disables interrupts); none sleeps.
 * Allocation failure returns 0, never panics: callers in the data path
 * count the failure and carry on.
 */
#ifndef KERNEL_MM_PMM_H
#define KERNEL_MM_PMM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define PAGE_SIZE  4096ull
#define PAGE_SHIFT 12
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define PAGE_ALIGN_UP(x)   (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGN_DOWN(x) ((x) & PAGE_MASK)

/* The identity map ends at 1 TiB (other regions follow, see vmm.h): RAM
 * above is left unused. */
#define PMM_PHYS_LIMIT (1ull << 40)

/* RAM is identity-mapped: physical address == kernel virtual address. */
static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint64_t virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }

/* One zeroed 4 KiB page; returns its physical address, 0 if none is free. */
uint64_t phys_alloc_page(void);
/* Returns a page from phys_alloc_page(). Freeing a page that is not
 * allocated (double free, not RAM) is reported with WARN and ignored. */
void phys_free_page(uint64_t pa);

/*
 * `pages` physically contiguous zeroed pages whose start is a multiple of
 * `align` bytes (a power of two; values below PAGE_SIZE mean PAGE_SIZE), for
 * DMA rings and buffers a device reads with one base address. Returns the
 * physical address, 0 if no such run exists. Free with the same count.
 */
uint64_t phys_alloc_contig(size_t pages, size_t align);
void phys_free_contig(uint64_t pa, size_t pages);

/* Counters, in pages unless named otherwise. Any context; a snapshot. */
struct pmm_stats {
	uint64_t total_pages;    /* pages the allocator manages (usable RAM) */
	uint64_t free_pages;
	uint64_t reserved_pages; /* taken at init for the allocator's bitmap */
	uint64_t allocs;         /* successful calls (page or contig) */
	uint64_t frees;
	uint64_t failures;       /* calls that returned 0 */
	uint64_t bad_frees;      /* double or out-of-range frees refused */
};
void pmm_get_stats(struct pmm_stats *out);

/* `mem map`: the allocator's zones (usable ranges), their free pages. */
unsigned pmm_zone_count(void);
bool pmm_zone_info(unsigned i, uint64_t *start, uint64_t *end, uint64_t *free);

/* Pages of boot-services memory not yet handed to the allocator. */
uint64_t pmm_deferred_pages(void);
/*
 * Gives the boot-services ranges to the allocator once the firmware's page
 * tables, GDT, IDT and stack are out of use; a range containing one of the
 * `keep_n` addresses in `keep` stays reserved. Returns pages freed. Task
 * context, once (mm.c does it from an initcall).
 */
uint64_t pmm_release_deferred(const uint64_t *keep, unsigned keep_n);

struct memmap;
/* Builds the zones over mm->usable (the testable core of pmm_init()).
 * Returns 0, or -1 if there is no RAM or no room for the bitmaps. */
int pmm_init_ranges(const struct memmap *mm);
/* The kernel's interpretation of the UEFI map (valid after pmm_init()). */
const struct memmap *pmm_memmap(void);

/*
 * Boot: builds the allocator over the usable ranges of boot_info's UEFI
 * map. Task context, IF=0, once, before anything allocates; panics if the
 * map holds no usable RAM (nothing else could work).
 */
void pmm_init(void);

#endif
