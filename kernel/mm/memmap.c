/*
 * memmap.c - UEFI memory map -> usable/RAM/ACPI ranges. See memmap.h for
 * the rules. Pure code, also compiled by tests/unit/test_memmap.c.
 *
 * Tables are fixed arrays (there is no allocator yet when this runs); a
 * range that does not fit is counted in nr_overflow and dropped, which is
 * safe for usable/deferred (memory simply goes unused).
 */
#include "kernel/mm/memmap.h"
#include "kernel/errno.h"
#include "boot/bootinfo.h"

#define PG 4096ull

static uint64_t up(uint64_t x)   { return (x + PG - 1) & ~(PG - 1); }
static uint64_t down(uint64_t x) { return x & ~(PG - 1); }

/* Inserts [s, e) keeping the table sorted by start, merging ranges that
 * overlap or touch. */
static void range_add(struct mem_range *t, unsigned *n, unsigned *overflow,
		      uint64_t s, uint64_t e)
{
	unsigned i, j;

	if (s >= e)
		return;
	/* first range that ends at or after s can merge or follows us */
	for (i = 0; i < *n && t[i].end < s; i++)
		;
	if (i < *n && t[i].start <= e) {
		/* merge with t[i] and any later ones we now reach */
		if (s < t[i].start)
			t[i].start = s;
		if (e > t[i].end)
			t[i].end = e;
		for (j = i + 1; j < *n && t[j].start <= t[i].end; j++)
			if (t[j].end > t[i].end)
				t[i].end = t[j].end;
		/* drop the ranges i+1 .. j-1 that were swallowed */
		unsigned gone = j - (i + 1);
		if (gone) {
			for (unsigned k = j; k < *n; k++)
				t[k - gone] = t[k];
			*n -= gone;
		}
		return;
	}
	if (*n == MEMMAP_MAX_RANGES) {
		(*overflow)++;
		return;
	}
	for (j = *n; j > i; j--)
		t[j] = t[j - 1];
	t[i].start = s;
	t[i].end = e;
	(*n)++;
}

/* Removes [s, e) from a sorted table (may split one range in two). */
static void range_sub(struct mem_range *t, unsigned *n, unsigned *overflow,
		      uint64_t s, uint64_t e)
{
	if (s >= e)
		return;
	for (unsigned i = 0; i < *n; i++) {
		if (t[i].end <= s || t[i].start >= e)
			continue;
		if (t[i].start < s && t[i].end > e) {
			/* split: keep [start, s), then add [e, end) */
			uint64_t tail_end = t[i].end;
			t[i].end = s;
			range_add(t, n, overflow, e, tail_end);
			return;
		}
		if (t[i].start < s) {
			t[i].end = s;
		} else if (t[i].end > e) {
			t[i].start = e;
		} else {
			for (unsigned k = i + 1; k < *n; k++)
				t[k - 1] = t[k];
			(*n)--;
			i--;
		}
	}
}

static bool type_is_ram(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_LOADER_CODE:
	case BOOT_MEM_LOADER_DATA:
	case BOOT_MEM_BOOT_SERVICES_CODE:
	case BOOT_MEM_BOOT_SERVICES_DATA:
	case BOOT_MEM_RUNTIME_SERVICES_CODE:
	case BOOT_MEM_RUNTIME_SERVICES_DATA:
	case BOOT_MEM_CONVENTIONAL:
	case BOOT_MEM_ACPI_RECLAIM:
	case BOOT_MEM_ACPI_NVS:
	case BOOT_MEM_PERSISTENT:
		return true;
	default:
		return false;
	}
}

static uint64_t sum(const struct mem_range *t, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += t[i].end - t[i].start;
	return s;
}

int memmap_build(struct memmap *out, const void *map, uint64_t map_size,
		 uint64_t desc_size, uint64_t kernel_start, uint64_t kernel_end)
{
	const unsigned char *p = map;

	*out = (struct memmap){0};
	if (desc_size < sizeof(struct boot_mmap_desc))
		return -EINVAL;

	for (uint64_t off = 0; off + desc_size <= map_size; off += desc_size) {
		const struct boot_mmap_desc *d = (const void *)(p + off);
		uint64_t s = d->phys_start;
		uint64_t len = d->num_pages * PG;

		out->nr_desc++;
		/* A descriptor whose size wraps the address space is corrupt. */
		if (d->num_pages == 0 || d->num_pages > (UINT64_MAX - s) / PG)
			continue;
		uint64_t e = s + len;

		if (type_is_ram(d->type)) {
			out->total_bytes += len;
			if (e > out->ram_top)
				out->ram_top = e;
			/* ACPI tables get their own read-only mapping */
			if (d->type == BOOT_MEM_ACPI_RECLAIM || d->type == BOOT_MEM_ACPI_NVS)
				range_add(out->acpi, &out->nr_acpi, &out->nr_overflow,
					  down(s), up(e));
			else
				range_add(out->ram, &out->nr_ram, &out->nr_overflow,
					  down(s), up(e));
		}
		if (d->type == BOOT_MEM_CONVENTIONAL ||
		    d->type == BOOT_MEM_BOOT_SERVICES_CODE ||
		    d->type == BOOT_MEM_BOOT_SERVICES_DATA)
			range_add(out->usable, &out->nr_usable, &out->nr_overflow,
				  up(s), down(e));
		if (d->type == BOOT_MEM_BOOT_SERVICES_CODE ||
		    d->type == BOOT_MEM_BOOT_SERVICES_DATA)
			range_add(out->deferred, &out->nr_deferred, &out->nr_overflow,
				  up(s), down(e));
	}

	/*
	 * Carve out what must never be handed out. The kernel image is taken
	 * out in whole pages covering it (rounded outward).
	 */
	range_sub(out->usable, &out->nr_usable, &out->nr_overflow, 0, MEMMAP_LOW_RESERVED);
	range_sub(out->deferred, &out->nr_deferred, &out->nr_overflow, 0, MEMMAP_LOW_RESERVED);
	if (kernel_end > kernel_start) {
		range_sub(out->usable, &out->nr_usable, &out->nr_overflow,
			  down(kernel_start), up(kernel_end));
		range_sub(out->deferred, &out->nr_deferred, &out->nr_overflow,
			  down(kernel_start), up(kernel_end));
	}
	/*
	 * A buggy map could list ACPI memory overlapping RAM; the read-only
	 * ACPI mapping must not be given out, so the ACPI ranges win.
	 */
	for (unsigned i = 0; i < out->nr_acpi; i++) {
		range_sub(out->usable, &out->nr_usable, &out->nr_overflow,
			  out->acpi[i].start, out->acpi[i].end);
		range_sub(out->deferred, &out->nr_deferred, &out->nr_overflow,
			  out->acpi[i].start, out->acpi[i].end);
		range_sub(out->ram, &out->nr_ram, &out->nr_overflow,
			  out->acpi[i].start, out->acpi[i].end);
	}
	out->usable_bytes = sum(out->usable, out->nr_usable);
	out->deferred_bytes = sum(out->deferred, out->nr_deferred);
	return 0;
}

const char *memmap_type_name(uint32_t type)
{
	static const char *const names[] = {
		[BOOT_MEM_RESERVED] = "Reserved",
		[BOOT_MEM_LOADER_CODE] = "LoaderCode",
		[BOOT_MEM_LOADER_DATA] = "LoaderData",
		[BOOT_MEM_BOOT_SERVICES_CODE] = "BootServicesCode",
		[BOOT_MEM_BOOT_SERVICES_DATA] = "BootServicesData",
		[BOOT_MEM_RUNTIME_SERVICES_CODE] = "RuntimeServicesCode",
		[BOOT_MEM_RUNTIME_SERVICES_DATA] = "RuntimeServicesData",
		[BOOT_MEM_CONVENTIONAL] = "Conventional",
		[BOOT_MEM_UNUSABLE] = "Unusable",
		[BOOT_MEM_ACPI_RECLAIM] = "ACPIReclaim",
		[BOOT_MEM_ACPI_NVS] = "ACPINVS",
		[BOOT_MEM_MMIO] = "MMIO",
		[BOOT_MEM_MMIO_PORT] = "MMIOPort",
		[BOOT_MEM_PAL_CODE] = "PalCode",
		[BOOT_MEM_PERSISTENT] = "Persistent",
	};
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "Unknown";
}
