/*
 * mmap_edit.c - retyping a range of a UEFI memory map (see mmap_edit.h).
 */
#include "boot/bootinfo.h"
#include "mmap_edit.h"

#define MMAP_PAGE 4096ull

static struct boot_mmap_desc *mmap_desc(void *map, uint64_t desc_size, uint64_t i)
{
	return (struct boot_mmap_desc *)((unsigned char *)map + i * desc_size);
}

/* Open a gap of one descriptor after entry i (entries i+1.. move up). */
static void mmap_insert_after(void *map, uint64_t *size, uint64_t desc_size, uint64_t i)
{
	unsigned char *base = map;
	uint64_t from = (i + 1) * desc_size;
	uint64_t n = *size - from;

	/* Byte by byte from the top, as the ranges overlap; the volatile stops
	 * the compiler from turning this into a memmove call that the EFI
	 * build has no library for. */
	for (uint64_t k = n; k > 0; k--)
		((volatile unsigned char *)base)[from + desc_size + k - 1] = base[from + k - 1];
	*size += desc_size;
	/* The new entry starts as a copy of entry i (attributes, extra bytes). */
	for (uint64_t k = 0; k < desc_size; k++)
		((volatile unsigned char *)base)[from + k] = base[i * desc_size + k];
}

/* Splits entry i at address `at` (inside it): entry i keeps [start, at),
 * a new entry i+1 with the same type and attributes takes [at, end). */
static void mmap_split(void *map, uint64_t *size, uint64_t desc_size, uint64_t i, uint64_t at)
{
	struct boot_mmap_desc *d = mmap_desc(map, desc_size, i);
	uint64_t d_start = d->phys_start, d_end = d_start + d->num_pages * MMAP_PAGE;

	mmap_insert_after(map, size, desc_size, i);
	d->num_pages = (at - d_start) / MMAP_PAGE;
	d = mmap_desc(map, desc_size, i + 1);
	d->phys_start = at;
	d->virt_start = 0;
	d->num_pages = (d_end - at) / MMAP_PAGE;
}

int mmap_set_type(void *map, uint64_t *size, uint64_t cap, uint64_t desc_size,
		  uint64_t start, uint64_t end, uint32_t type)
{
	uint64_t n, i, extra = 0, d_start, d_end;
	struct boot_mmap_desc *d;

	if (desc_size < sizeof(struct boot_mmap_desc) || start % MMAP_PAGE ||
	    end % MMAP_PAGE || start >= end || *size > cap)
		return -1;

	/* First count the splits, so that we fail before changing anything. */
	n = *size / desc_size;
	for (i = 0; i < n; i++) {
		d = mmap_desc(map, desc_size, i);
		d_start = d->phys_start;
		d_end = d_start + d->num_pages * MMAP_PAGE;
		if (d_end <= start || d_start >= end || d->type == type)
			continue;
		extra += (d_start < start) + (d_end > end);
	}
	if (extra * desc_size > cap - *size)
		return -1;

	for (i = 0; i < *size / desc_size; i++) {
		d = mmap_desc(map, desc_size, i);
		d_start = d->phys_start;
		d_end = d_start + d->num_pages * MMAP_PAGE;
		if (d_end <= start || d_start >= end || d->type == type)
			continue;
		if (d_start < start) {
			/* Keep [d_start, start) here; the rest moves to entry i+1,
			 * which the next iteration handles. */
			mmap_split(map, size, desc_size, i, start);
			continue;
		}
		if (d_end > end) {
			/* [d_start, end) gets the type; [end, d_end) stays. */
			mmap_split(map, size, desc_size, i, end);
		}
		d->type = type;
	}
	return 0;
}
