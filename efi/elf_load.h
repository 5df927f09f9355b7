/*
 * elf_load.h - put a validated kernel image at the physical addresses it was
 * linked for.
 *
 * Normally every page the kernel needs is free RAM and is allocated with
 * AllocatePages(AllocateAddress, EfiLoaderData): the image is copied in
 * place before ExitBootServices and elf_place_after_ebs() has nothing to do.
 *
 * Some firmware keeps its own data where the kernel wants to live. Debian's
 * OVMF, for one, decompresses its DXE firmware volume to 0x900000-0x14fffff
 * and lists that as EfiBootServicesData: that covers 16 MiB, which is why
 * kernel/kernel.ld links the kernel at 32 MiB instead.
 * Boot-services memory is ours once ExitBootServices has returned, so for
 * such pages the image is built in a staging buffer and copied into place
 * by elf_place_after_ebs(), after checking that nothing still in use at
 * that point (our stack, the page tables, GDT, IDT) lives there.
 */
#ifndef EFI_ELF_LOAD_H
#define EFI_ELF_LOAD_H

#include <efi.h>

#include "elf_check.h"

/* Free pages we reserve in place, at most; each span may cross a few
 * memory map descriptors. */
#define ELF_LOAD_MAX_RESV (2 * ELF_MAX_PHDRS)

/* Everything elf_load() did, so it can be finished or undone. */
struct elf_loaded {
	/* The kernel's memory as page-aligned, ascending, disjoint ranges:
	 * one per PT_LOAD, merged where neighbours share a page. */
	struct {
		EFI_PHYSICAL_ADDRESS start, end;
		UINTN staging_off; /* where the span's bytes are in staging */
	} span[ELF_MAX_PHDRS];
	unsigned nspans;

	/* Pages allocated at the kernel's own addresses (EfiLoaderData). */
	struct {
		EFI_PHYSICAL_ADDRESS start;
		UINTN pages;
	} resv[ELF_LOAD_MAX_RESV];
	unsigned nresv;

	/* NULL if the image was loaded in place; otherwise the full image,
	 * span after span, to be copied by elf_place_after_ebs(). */
	UINT8 *staging;
	UINTN staging_pages;
};

/*
 * elf_load - claim the kernel's memory and fill it (or staging) with the
 * PT_LOAD segments of @file, which must have passed elf_check(). Bytes past
 * p_filesz, and the rest of every page touched, are zeroed.
 *
 * Before ExitBootServices. On failure prints what was in the way and gives
 * back what it had allocated, so the caller can return to the firmware.
 */
EFI_STATUS elf_load(const void *file, const struct elf_image_info *info,
		    struct elf_loaded *loaded);

/* Give back what elf_load() allocated (for a failure after it). */
void elf_unload(struct elf_loaded *loaded);

/*
 * elf_place_after_ebs - after ExitBootServices, with interrupts off: copy
 * the staged image into place, if it was staged. Makes no EFI call.
 * Returns 1 if it copied (the caller should then mark the spans
 * EfiLoaderData in the memory map), 0 if there was nothing to do.
 */
int elf_place_after_ebs(const struct elf_loaded *loaded);

#endif
