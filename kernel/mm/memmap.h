/*
 * memmap.h - turns the UEFI memory map into the ranges the kernel uses.
 * Pure: no I/O, no allocation, no global state, so tests/unit/test_memmap.c
 * runs it on synthetic maps.
 *
 * Rules (UEFI 2.9, 7.2 GetMemoryMap and table 7-5 "Memory Type Usage after
 * ExitBootServices()"):
 *  - usable for the allocator: EfiConventionalMemory, and
 *    EfiBootServicesCode/Data, which are free once ExitBootServices() has
 *    returned. The boot-services ranges are also reported separately
 *    (`deferred`) because until the kernel has its own page tables, GDT and
 *    IDT, the firmware's versions of those live there.
 *  - never usable: page 0 and the whole first MiB (legacy areas, real-mode
 *    trampolines; simple and safe), the kernel image, EfiLoaderCode/Data
 *    (the loader, this very map and the boot-info block live there),
 *    runtime services, ACPI, MMIO, reserved, unusable.
 *  - "RAM" (what the identity map covers, the `total` figure): every type
 *    backed by ordinary memory, i.e. all but reserved, unusable, MMIO,
 *    MMIO port space and PAL code.
 * Ranges are half-open [start, end), page aligned (usable ranges shrink
 * inward to whole pages), sorted and merged where they touch.
 */
#ifndef KERNEL_MM_MEMMAP_H
#define KERNEL_MM_MEMMAP_H

#include <stdint.h>
#include <stdbool.h>

#define MEMMAP_MAX_RANGES 128
#define MEMMAP_LOW_RESERVED 0x100000ull   /* first MiB never allocated */

struct mem_range {
	uint64_t start;
	uint64_t end;
};

struct memmap {
	struct mem_range usable[MEMMAP_MAX_RANGES];   /* allocator's RAM */
	unsigned nr_usable;
	struct mem_range deferred[MEMMAP_MAX_RANGES]; /* subset of usable: boot services */
	unsigned nr_deferred;
	struct mem_range ram[MEMMAP_MAX_RANGES];      /* all RAM, to identity-map RW */
	unsigned nr_ram;
	struct mem_range acpi[MEMMAP_MAX_RANGES];     /* ACPI reclaim/NVS, map read-only */
	unsigned nr_acpi;

	uint64_t total_bytes;   /* sum of RAM descriptors as the firmware gave them */
	uint64_t usable_bytes;  /* sum of usable[] */
	uint64_t deferred_bytes;
	uint64_t ram_top;       /* one past the highest RAM byte */
	unsigned nr_desc;       /* descriptors read */
	unsigned nr_overflow;   /* ranges dropped because a table was full */
};

/*
 * Builds *out from `map_size` bytes of descriptors `desc_size` apart (the
 * UEFI stride, which may exceed sizeof(struct boot_mmap_desc)), excluding
 * the kernel image [kernel_start, kernel_end). Returns 0, or -EINVAL if
 * desc_size is smaller than a descriptor. Any context.
 */
int memmap_build(struct memmap *out, const void *map, uint64_t map_size,
		 uint64_t desc_size, uint64_t kernel_start, uint64_t kernel_end);

/* Printable name of an EFI memory type ("Conventional", ...). */
const char *memmap_type_name(uint32_t type);

#endif
