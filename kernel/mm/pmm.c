/*
 * pmm.c - physical page allocator: one bitmap per usable RAM range.
 *
 * Each usable range from memmap.c becomes a zone with one bit per 4 KiB
 * page (1 = allocated or unavailable). The bitmaps are carved out of the
 * first usable range that is not boot-services memory, so the allocator
 * needs nothing but the map itself.
 *
 * Boot-services ranges are usable only once the kernel runs on its own page
 * tables, GDT and IDT (the firmware's are in them until then): pmm_init()
 * marks them allocated and pmm_release_deferred() frees them later.
 *
 * The bitmap logic never dereferences a physical address except through
 * phys_to_virt(), and the kernel-only glue (boot_info, locking) is under
 * #ifndef HOST_TEST, so tests/unit/test_pmm.c runs all of it over a host
 * arena whose addresses play the role of physical ones.
 *
 * Locking: one lock for all zones. The kernel is uniprocessor, so the
 * "lock" is interrupts off (local_irq_save); an allocation from hard IRQ
 * context therefore cannot interleave with one it interrupted.
 */
#include "kernel/mm/pmm.h"
#include "kernel/mm/memmap.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/lib/string.h"

#ifdef HOST_TEST
static inline uint64_t pmm_lock(void) { return 0; }
static inline void pmm_unlock(uint64_t f) { (void)f; }
#else
#include "kernel/irqflags.h"
#include "boot/bootinfo.h"
extern struct bootinfo boot_info; /* kernel/main.c */
static inline uint64_t pmm_lock(void) { return local_irq_save(); }
static inline void pmm_unlock(uint64_t f) { local_irq_restore(f); }
#endif

struct pmm_zone {
	uint64_t base;    /* physical address of page 0 of the zone */
	uint64_t pages;
	uint64_t *bits;   /* pages bits, 1 = in use */
	uint64_t free;
	uint64_t hint;    /* page index to start the next single-page search */
};

static struct pmm_zone zones[MEMMAP_MAX_RANGES];
static unsigned nr_zones;
static uint64_t bitmap_start, bitmap_end; /* physical, page aligned */
static struct pmm_stats st;

/* Deferred (boot-services) ranges, kept until pmm_release_deferred(). */
static struct mem_range deferred[MEMMAP_MAX_RANGES];
static unsigned nr_deferred;
static uint64_t deferred_pages;

static inline bool bit_test(const uint64_t *b, uint64_t i) { return b[i / 64] >> (i % 64) & 1; }
static inline void bit_set(uint64_t *b, uint64_t i)   { b[i / 64] |= 1ull << (i % 64); }
static inline void bit_clear(uint64_t *b, uint64_t i) { b[i / 64] &= ~(1ull << (i % 64)); }

static struct pmm_zone *zone_of(uint64_t pa)
{
	for (unsigned i = 0; i < nr_zones; i++)
		if (pa >= zones[i].base && pa - zones[i].base < zones[i].pages * PAGE_SIZE)
			return &zones[i];
	return NULL;
}

/* Marks [s, e) in use in whichever zones it overlaps; returns pages newly
 * marked. Lock held (or init). */
static uint64_t mark_range(uint64_t s, uint64_t e)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < nr_zones; i++) {
		struct pmm_zone *z = &zones[i];
		uint64_t zs = z->base, ze = z->base + z->pages * PAGE_SIZE;
		uint64_t a = s > zs ? s : zs, b = e < ze ? e : ze;
		for (uint64_t pa = a; pa < b; pa += PAGE_SIZE) {
			uint64_t idx = (pa - zs) / PAGE_SIZE;
			if (!bit_test(z->bits, idx)) {
				bit_set(z->bits, idx);
				z->free--;
				n++;
			}
		}
	}
	return n;
}

static bool overlaps_deferred(uint64_t s, uint64_t e)
{
	for (unsigned i = 0; i < nr_deferred; i++)
		if (s < deferred[i].end && e > deferred[i].start)
			return true;
	return false;
}

/*
 * Builds the zones over mm->usable. Returns 0, or -1 if there is no RAM or
 * nowhere to put the bitmaps. Called once, before any allocation.
 */
int pmm_init_ranges(const struct memmap *mm)
{
	uint64_t words = 0, need;

	nr_zones = 0;
	nr_deferred = 0;
	deferred_pages = 0;
	st = (struct pmm_stats){0};
	for (unsigned i = 0; i < mm->nr_usable; i++)
		words += (((mm->usable[i].end - mm->usable[i].start) / PAGE_SIZE) + 63) / 64;
	if (!words)
		return -1;
	need = PAGE_ALIGN_UP(words * 8);

	for (unsigned i = 0; i < mm->nr_deferred; i++)
		deferred[nr_deferred++] = mm->deferred[i];

	/* Bitmap home: the lowest stretch of non-deferred usable RAM that fits.
	 * Within a range, try the start, then the end of each deferred range
	 * inside it, so a mixed range still works. */
	bitmap_start = bitmap_end = 0;
	for (unsigned i = 0; i < mm->nr_usable && !bitmap_end; i++) {
		const struct mem_range *r = &mm->usable[i];
		uint64_t cand = r->start;
		for (unsigned k = 0; k <= nr_deferred && !bitmap_end; k++) {
			if (cand + need <= r->end && cand + need > cand &&
			    !overlaps_deferred(cand, cand + need)) {
				bitmap_start = cand;
				bitmap_end = cand + need;
			} else if (k < nr_deferred) {
				cand = deferred[k].end;
				if (cand < r->start)
					cand = r->start;
			}
		}
	}
	if (!bitmap_end)
		return -1;

	uint64_t *bits = phys_to_virt(bitmap_start);
	memset(bits, 0, need);
	for (unsigned i = 0; i < mm->nr_usable; i++) {
		struct pmm_zone *z = &zones[nr_zones++];
		z->base = mm->usable[i].start;
		z->pages = (mm->usable[i].end - mm->usable[i].start) / PAGE_SIZE;
		z->bits = bits;
		z->free = z->pages;
		z->hint = 0;
		/* bits past the end of the zone in its last word stay 0 and are
		 * never looked at: every search is bounded by z->pages */
		bits += (z->pages + 63) / 64;
		st.total_pages += z->pages;
	}
	st.reserved_pages = mark_range(bitmap_start, bitmap_end);
	for (unsigned i = 0; i < nr_deferred; i++)
		deferred_pages += mark_range(deferred[i].start, deferred[i].end);
	st.free_pages = st.total_pages - st.reserved_pages - deferred_pages;
	return 0;
}

/*
 * Frees the boot-services ranges. Call once the firmware's page tables,
 * GDT, IDT and stack are no longer in use; ranges still holding one of
 * `keep_n` addresses in `keep` stay reserved. Returns the pages freed.
 */
uint64_t pmm_release_deferred(const uint64_t *keep, unsigned keep_n)
{
	uint64_t freed = 0;
	uint64_t f = pmm_lock();

	for (unsigned i = 0; i < nr_deferred; i++) {
		struct mem_range *r = &deferred[i];
		bool held = false;
		for (unsigned k = 0; k < keep_n; k++)
			if (keep[k] >= r->start && keep[k] < r->end)
				held = true;
		if (held)
			continue;
		for (uint64_t pa = r->start; pa < r->end; pa += PAGE_SIZE) {
			struct pmm_zone *z = zone_of(pa);
			uint64_t idx;
			if (!z)
				continue;
			idx = (pa - z->base) / PAGE_SIZE;
			if (bit_test(z->bits, idx)) {
				bit_clear(z->bits, idx);
				z->free++;
				freed++;
			}
		}
		r->start = r->end = 0;
	}
	deferred_pages -= freed;
	st.free_pages += freed;
	pmm_unlock(f);
	return freed;
}

uint64_t pmm_deferred_pages(void)
{
	return deferred_pages;
}

/* First free page of z at or after `from`, or z->pages. Skips full words. */
static uint64_t zone_find_free(const struct pmm_zone *z, uint64_t from)
{
	uint64_t i = from;

	while (i < z->pages) {
		uint64_t w = z->bits[i / 64];
		if (w == ~0ull) {
			i = (i / 64 + 1) * 64;
			continue;
		}
		if (!bit_test(z->bits, i))
			return i;
		i++;
	}
	return z->pages;
}

uint64_t phys_alloc_page(void)
{
	uint64_t pa = 0;
	uint64_t f = pmm_lock();

	for (unsigned i = 0; i < nr_zones && !pa; i++) {
		struct pmm_zone *z = &zones[i];
		uint64_t idx;
		if (!z->free)
			continue;
		idx = zone_find_free(z, z->hint);
		if (idx == z->pages)
			idx = zone_find_free(z, 0);
		if (idx == z->pages)
			continue;
		bit_set(z->bits, idx);
		z->free--;
		z->hint = idx + 1;
		pa = z->base + idx * PAGE_SIZE;
	}
	if (pa) {
		st.allocs++;
		st.free_pages--;
	} else {
		st.failures++;
	}
	pmm_unlock(f);
	/* Zeroed outside the lock: the page is ours now. */
	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

uint64_t phys_alloc_contig(size_t pages, size_t align)
{
	uint64_t pa = 0;
	uint64_t f;

	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	if (!pages || (align & (align - 1))) {
		f = pmm_lock();
		st.failures++;
		pmm_unlock(f);
		return 0;
	}
	f = pmm_lock();
	for (unsigned i = 0; i < nr_zones && !pa; i++) {
		struct pmm_zone *z = &zones[i];
		if (z->free < pages)
			continue;
		/* Candidate starts are page indices whose physical address is a
		 * multiple of align; zone bases are page aligned, so work in
		 * absolute page numbers and round up to a multiple of step. */
		uint64_t step = align / PAGE_SIZE;
		uint64_t base_pfn = z->base / PAGE_SIZE;
		uint64_t s = ((base_pfn + step - 1) / step) * step - base_pfn;
		while (s + pages <= z->pages) {
			uint64_t k;
			for (k = 0; k < pages && !bit_test(z->bits, s + k); k++)
				;
			if (k == pages) {
				for (k = 0; k < pages; k++)
					bit_set(z->bits, s + k);
				z->free -= pages;
				pa = z->base + s * PAGE_SIZE;
				break;
			}
			/* page s+k is taken: no run can start at or before it */
			s = ((base_pfn + s + k + 1 + step - 1) / step) * step - base_pfn;
		}
	}
	if (pa) {
		st.allocs++;
		st.free_pages -= pages;
	} else {
		st.failures++;
	}
	pmm_unlock(f);
	if (pa)
		memset(phys_to_virt(pa), 0, pages * PAGE_SIZE);
	return pa;
}

/* Frees `pages` pages at pa after checking every one of them; nothing is
 * freed if any check fails (returns false). Lock held. */
static bool free_run_locked(uint64_t pa, size_t pages)
{
	struct pmm_zone *z = zone_of(pa);
	uint64_t idx;

	if (!z || (pa & (PAGE_SIZE - 1)) || !pages)
		return false;
	idx = (pa - z->base) / PAGE_SIZE;
	if (idx + pages > z->pages)
		return false;
	if (pa < bitmap_end && pa + pages * PAGE_SIZE > bitmap_start)
		return false;
	if (overlaps_deferred(pa, pa + pages * PAGE_SIZE))
		return false; /* firmware's until pmm_release_deferred() */
	for (size_t k = 0; k < pages; k++)
		if (!bit_test(z->bits, idx + k))
			return false;
	for (size_t k = 0; k < pages; k++)
		bit_clear(z->bits, idx + k);
	z->free += pages;
	if (idx < z->hint)
		z->hint = idx;
	return true;
}

void phys_free_contig(uint64_t pa, size_t pages)
{
	uint64_t f = pmm_lock();
	bool ok = free_run_locked(pa, pages);

	if (ok) {
		st.frees++;
		st.free_pages += pages;
	} else {
		st.bad_frees++;
	}
	pmm_unlock(f);
	if (!ok) {
		pr_warn("pmm: bad free of %zu page(s) at 0x%lx (double free or not allocated RAM)",
			pages, (unsigned long)pa);
		WARN_ON(!ok); /* backtrace: who freed it */
	}
}

void phys_free_page(uint64_t pa)
{
	phys_free_contig(pa, 1);
}

void pmm_get_stats(struct pmm_stats *out)
{
	uint64_t f = pmm_lock();
	*out = st;
	pmm_unlock(f);
}

/* Number of zones and the i-th zone's range, for `mem map`. */
unsigned pmm_zone_count(void)
{
	return nr_zones;
}

bool pmm_zone_info(unsigned i, uint64_t *start, uint64_t *end, uint64_t *free)
{
	if (i >= nr_zones)
		return false;
	*start = zones[i].base;
	*end = zones[i].base + zones[i].pages * PAGE_SIZE;
	*free = zones[i].free;
	return true;
}

#ifndef HOST_TEST
/* Our own copy of the map's interpretation: the loader's map sits in
 * LoaderData memory, which stays reserved, but nothing should depend on
 * that after boot. */
static struct memmap boot_memmap;

const struct memmap *pmm_memmap(void)
{
	return &boot_memmap;
}

void pmm_init(void)
{
	int err = memmap_build(&boot_memmap, phys_to_virt(boot_info.mmap_phys),
			       boot_info.mmap_size, boot_info.mmap_desc_size,
			       boot_info.kernel_phys_start, boot_info.kernel_phys_end);
	if (err)
		panic("pmm: bad UEFI memory map (desc_size %lu): %d",
		      (unsigned long)boot_info.mmap_desc_size, err);
	/* Only what the identity map covers may be handed out. */
	for (unsigned i = 0; i < boot_memmap.nr_usable; i++)
		if (boot_memmap.usable[i].end > PMM_PHYS_LIMIT) {
			pr_warn("pmm: RAM above 1 TiB left unused");
			boot_memmap.nr_usable = i + (boot_memmap.usable[i].start < PMM_PHYS_LIMIT);
			if (boot_memmap.nr_usable > i)
				boot_memmap.usable[i].end = PMM_PHYS_LIMIT;
			break;
		}
	for (unsigned i = 0; i < boot_memmap.nr_deferred; i++)
		if (boot_memmap.deferred[i].end > PMM_PHYS_LIMIT) {
			boot_memmap.nr_deferred = i + (boot_memmap.deferred[i].start < PMM_PHYS_LIMIT);
			if (boot_memmap.nr_deferred > i)
				boot_memmap.deferred[i].end = PMM_PHYS_LIMIT;
			break;
		}
	if (boot_memmap.nr_overflow)
		pr_warn("pmm: %u memory ranges dropped (table full)", boot_memmap.nr_overflow);
	if (pmm_init_ranges(&boot_memmap))
		panic("pmm: no usable RAM in the UEFI memory map (%u descriptors)",
		      boot_memmap.nr_desc);
	pr_info("pmm: %lu KiB usable in %u ranges, %lu KiB free now, %lu KiB boot-services memory held until the switch, bitmap %lu KiB at 0x%lx",
		(unsigned long)(st.total_pages * 4), nr_zones,
		(unsigned long)(st.free_pages * 4), (unsigned long)(deferred_pages * 4),
		(unsigned long)((bitmap_end - bitmap_start) / 1024), (unsigned long)bitmap_start);
}
#endif
