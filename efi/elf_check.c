/*
 * elf_check.c - validation of the kernel's ELF image (see elf_check.h).
 *
 * Every size comparison is written as "a <= size - b" after checking
 * b <= size, never "a + b <= size", so that a hostile 64-bit field cannot
 * wrap the sum and slip past the check.
 */
#include "elf_check.h"

static const char *const elf_check_reasons[ELF_ERR_COUNT] = {
	[ELF_OK]                     = "ok",
	[ELF_ERR_TOO_SMALL]          = "file smaller than an ELF header",
	[ELF_ERR_MAGIC]              = "bad magic (not an ELF file)",
	[ELF_ERR_CLASS]              = "wrong class (not ELF64)",
	[ELF_ERR_ENDIAN]             = "wrong byte order (not little endian)",
	[ELF_ERR_VERSION]            = "unknown ELF version",
	[ELF_ERR_MACHINE]            = "wrong machine (not x86-64)",
	[ELF_ERR_TYPE]               = "wrong type (not ET_EXEC)",
	[ELF_ERR_PHENTSIZE]          = "unexpected program header size",
	[ELF_ERR_TOO_MANY_PHDRS]     = "too many program headers",
	[ELF_ERR_PHDRS_OUT_OF_FILE]  = "program headers outside the file",
	[ELF_ERR_PHDRS_MISALIGNED]   = "program headers misaligned",
	[ELF_ERR_FILESZ_GT_MEMSZ]    = "segment filesz larger than memsz",
	[ELF_ERR_SEGMENT_OUT_OF_FILE] = "segment data outside the file",
	[ELF_ERR_SEGMENT_WRAPS]      = "segment wraps around the address space",
	[ELF_ERR_NOT_IDENTITY]       = "segment virtual address differs from physical",
	[ELF_ERR_SEGMENT_ORDER]      = "segments overlap or are not in address order",
	[ELF_ERR_NO_LOAD]            = "no loadable segment",
	[ELF_ERR_ENTRY_OUTSIDE]      = "entry point outside the loadable segments",
};

const char *elf_check_strerror(enum elf_check_result r)
{
	if ((unsigned)r >= ELF_ERR_COUNT || !elf_check_reasons[r])
		return "unknown error";
	return elf_check_reasons[r];
}

const struct elf64_phdr *elf_phdrs(const void *file)
{
	const struct elf64_ehdr *eh = file;

	return (const struct elf64_phdr *)((const unsigned char *)file + eh->e_phoff);
}

static enum elf_check_result elf_check_header(const struct elf64_ehdr *eh, size_t size)
{
	if (eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' ||
	    eh->e_ident[2] != 'L' || eh->e_ident[3] != 'F')
		return ELF_ERR_MAGIC;
	if (eh->e_ident[ELF_EI_CLASS] != ELF_CLASS64)
		return ELF_ERR_CLASS;
	if (eh->e_ident[ELF_EI_DATA] != ELF_DATA2LSB)
		return ELF_ERR_ENDIAN;
	if (eh->e_ident[ELF_EI_VERSION] != ELF_EV_CURRENT || eh->e_version != ELF_EV_CURRENT)
		return ELF_ERR_VERSION;
	if (eh->e_machine != ELF_EM_X86_64)
		return ELF_ERR_MACHINE;
	if (eh->e_type != ELF_ET_EXEC)
		return ELF_ERR_TYPE;
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return ELF_ERR_PHENTSIZE;
	if (eh->e_phnum > ELF_MAX_PHDRS)
		return ELF_ERR_TOO_MANY_PHDRS;
	if (eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr) > size - eh->e_phoff)
		return ELF_ERR_PHDRS_OUT_OF_FILE;
	/* We read the table in place; x86 would cope, but a sanitizer would not. */
	if (eh->e_phoff % 8 != 0)
		return ELF_ERR_PHDRS_MISALIGNED;
	return ELF_OK;
}

/* Checks one PT_LOAD with p_memsz > 0; prev_end is where the previous one ended. */
static enum elf_check_result elf_check_load(const struct elf64_phdr *ph, size_t size,
					    uint64_t prev_end)
{
	if (ph->p_filesz > ph->p_memsz)
		return ELF_ERR_FILESZ_GT_MEMSZ;
	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return ELF_ERR_SEGMENT_OUT_OF_FILE;
	/* Room for p_memsz bytes and the round-up to a page boundary. */
	if (ph->p_memsz > UINT64_MAX - (ELF_PAGE_SIZE - 1) ||
	    ph->p_paddr > UINT64_MAX - (ELF_PAGE_SIZE - 1) - ph->p_memsz)
		return ELF_ERR_SEGMENT_WRAPS;
	/* The loader jumps to e_entry on firmware's identity map. */
	if (ph->p_vaddr != ph->p_paddr)
		return ELF_ERR_NOT_IDENTITY;
	/* The gABI requires PT_LOADs sorted by address; the loader relies on it
	 * to share at most one page between neighbours. */
	if (ph->p_paddr < prev_end)
		return ELF_ERR_SEGMENT_ORDER;
	return ELF_OK;
}

enum elf_check_result elf_check(const void *file, size_t size,
				struct elf_image_info *info, unsigned *bad_phdr)
{
	const struct elf64_ehdr *eh = file;
	const struct elf64_phdr *ph;
	struct elf_image_info out = { 0 };
	enum elf_check_result r;
	uint64_t prev_end = 0;
	int entry_found = 0;
	unsigned i;

	if (size < sizeof(*eh))
		return ELF_ERR_TOO_SMALL;
	r = elf_check_header(eh, size);
	if (r != ELF_OK)
		return r;

	ph = elf_phdrs(file);
	for (i = 0; i < eh->e_phnum; i++, ph++) {
		if (ph->p_type != ELF_PT_LOAD)
			continue;
		if (ph->p_memsz == 0) {
			/* Nothing to load, but its file range must still be sane. */
			if (ph->p_filesz != 0)
				r = ELF_ERR_FILESZ_GT_MEMSZ;
			else if (ph->p_offset > size)
				r = ELF_ERR_SEGMENT_OUT_OF_FILE;
		} else {
			r = elf_check_load(ph, size, prev_end);
		}
		if (r != ELF_OK) {
			if (bad_phdr)
				*bad_phdr = i;
			return r;
		}
		if (ph->p_memsz == 0)
			continue;

		if (out.nload == 0)
			out.phys_start = ph->p_paddr & ~(ELF_PAGE_SIZE - 1);
		prev_end = ph->p_paddr + ph->p_memsz;
		out.phys_end = (prev_end + ELF_PAGE_SIZE - 1) & ~(ELF_PAGE_SIZE - 1);
		out.nload++;
		if (eh->e_entry >= ph->p_vaddr && eh->e_entry - ph->p_vaddr < ph->p_memsz)
			entry_found = 1;
	}
	if (out.nload == 0)
		return ELF_ERR_NO_LOAD;
	if (!entry_found)
		return ELF_ERR_ENTRY_OUTSIDE;

	out.entry = eh->e_entry;
	if (info)
		*info = out;
	return ELF_OK;
}
