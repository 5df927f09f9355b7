/*
 * elf_check.h - validation of the kernel's ELF image, before anything is
 * allocated or copied.
 *
 * Pure logic on a byte buffer: no EFI header, only <stdint.h>/<stddef.h>, so
 * tests/unit/test_elf_check.c can compile elf_check.c on the host. The ELF
 * structures are our own minimal copies of the ELF-64 ones (System V gABI,
 * "ELF Header" and "Program Header"; x86-64 psABI for EM_X86_64).
 */
#ifndef EFI_ELF_CHECK_H
#define EFI_ELF_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define ELF_EI_CLASS   4
#define ELF_EI_DATA    5
#define ELF_EI_VERSION 6
#define ELF_CLASS64    2
#define ELF_DATA2LSB   1
#define ELF_EV_CURRENT 1
#define ELF_ET_EXEC    2
#define ELF_EM_X86_64  62
#define ELF_PT_LOAD    1

/* More than a kernel needs; bounds the work done on a hostile header. */
#define ELF_MAX_PHDRS  64

#define ELF_PAGE_SIZE  4096ull

struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF-64 header layout");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF-64 program header layout");

enum elf_check_result {
	ELF_OK = 0,
	ELF_ERR_TOO_SMALL,
	ELF_ERR_MAGIC,
	ELF_ERR_CLASS,
	ELF_ERR_ENDIAN,
	ELF_ERR_VERSION,
	ELF_ERR_MACHINE,
	ELF_ERR_TYPE,
	ELF_ERR_PHENTSIZE,
	ELF_ERR_TOO_MANY_PHDRS,
	ELF_ERR_PHDRS_OUT_OF_FILE,
	ELF_ERR_PHDRS_MISALIGNED,
	ELF_ERR_FILESZ_GT_MEMSZ,
	ELF_ERR_SEGMENT_OUT_OF_FILE,
	ELF_ERR_SEGMENT_WRAPS,
	ELF_ERR_NOT_IDENTITY,
	ELF_ERR_SEGMENT_ORDER,
	ELF_ERR_NO_LOAD,
	ELF_ERR_ENTRY_OUTSIDE,
	ELF_ERR_COUNT
};

/* What the loader needs to know about a valid image. */
struct elf_image_info {
	uint64_t entry;
	uint64_t phys_start; /* lowest PT_LOAD page, 4 KiB aligned */
	uint64_t phys_end;   /* one past the highest PT_LOAD byte, rounded up to 4 KiB */
	unsigned nload;      /* PT_LOAD segments with p_memsz > 0 */
};

/*
 * elf_check - validate an ELF-64 x86-64 executable held in memory.
 * @file:    the whole file, 8-byte aligned (pool memory is)
 * @size:    its length in bytes
 * @info:    filled on ELF_OK, untouched otherwise
 * @bad_phdr: on a per-segment error, the index of the offending program
 *           header; may be NULL
 *
 * On ELF_OK the loader may trust, for every PT_LOAD with p_memsz > 0:
 * its file bytes lie inside @file, p_filesz <= p_memsz, p_vaddr == p_paddr,
 * p_paddr + p_memsz rounded up to a page does not wrap, and the segments
 * come in ascending, non-overlapping address order (so two of them can share
 * at most one page, the last of one and the first of the next). The entry
 * point lies inside one of them. PT_LOADs with p_memsz == 0 are ignored.
 */
enum elf_check_result elf_check(const void *file, size_t size,
				struct elf_image_info *info, unsigned *bad_phdr);

/* The program header table of a file that passed elf_check(). */
const struct elf64_phdr *elf_phdrs(const void *file);

/* A short lower-case English reason, e.g. "wrong machine". */
const char *elf_check_strerror(enum elf_check_result r);

#endif
