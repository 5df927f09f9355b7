/*
 * mmap_edit.h - retyping a range of a UEFI memory map in place.
 *
 * Used after ExitBootServices, when the loader has copied the kernel into
 * memory the firmware had listed as boot-services memory: the map handed to
 * the kernel should then say EfiLoaderData there, as it does when the kernel
 * pages could be allocated normally. Pure logic (no EFI header, no calls),
 * so it can run after ExitBootServices and be tested on the host.
 */
#ifndef EFI_MMAP_EDIT_H
#define EFI_MMAP_EDIT_H

#include <stdint.h>

/*
 * mmap_set_type - give the page-aligned range [start, end) type @type.
 * @map:       descriptors (struct boot_mmap_desc layout), @desc_size apart
 * @size:      bytes in use; grows by desc_size for every descriptor split
 * @cap:       bytes available at @map
 *
 * Descriptors straddling a boundary of the range are split, the pieces
 * keeping their attributes; bytes of a descriptor past the fields we know
 * (desc_size > 40) are copied along. Memory in the range that no descriptor
 * covers stays uncovered. Returns 0, or -1 (map untouched) if the range is
 * not page aligned, desc_size is too small, or there is no room for the
 * splits.
 */
int mmap_set_type(void *map, uint64_t *size, uint64_t cap, uint64_t desc_size,
		  uint64_t start, uint64_t end, uint32_t type);

#endif
