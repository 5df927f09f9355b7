/*
 * test_elf_check.c - host unit test of the loader's ELF validation
 * (efi/elf_check.c, compiled in as is).
 *
 * Each case starts from a good two-segment kernel image, breaks one thing,
 * and expects one result. Every image is checked from a heap buffer of
 * exactly its size, so ASan catches any read past the end. A final
 * deterministic random-mutation pass looks for crashes, not results.
 *
 * Built and run by `make unit`; prints the summary line of check.h and
 * exits non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "efi/elf_check.c"

#define BASE      0x1000000ull
#define TEXT_OFF  0x1000ull
#define TEXT_SIZE 0x800ull
#define DATA_OFF  0x2000ull
#define DATA_SIZE 0x100ull
#define FILE_SIZE (DATA_OFF + DATA_SIZE)

/* The good image: ELF header, two PT_LOADs (text, then data + bss), and a
 * PT_NOTE-like non-load header that must be ignored. */
struct image {
	union {
		unsigned char bytes[FILE_SIZE];
		struct {
			struct elf64_ehdr eh;
			struct elf64_phdr ph[3];
		};
		uint64_t align;
	};
	size_t size;
};

static void make_good(struct image *im)
{
	struct elf64_ehdr *eh = &im->eh;

	memset(im, 0, sizeof(*im));
	im->size = FILE_SIZE;
	memcpy(eh->e_ident, "\x7f" "ELF", 4);
	eh->e_ident[ELF_EI_CLASS] = ELF_CLASS64;
	eh->e_ident[ELF_EI_DATA] = ELF_DATA2LSB;
	eh->e_ident[ELF_EI_VERSION] = ELF_EV_CURRENT;
	eh->e_type = ELF_ET_EXEC;
	eh->e_machine = ELF_EM_X86_64;
	eh->e_version = ELF_EV_CURRENT;
	eh->e_entry = BASE + 0x10;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(struct elf64_phdr);
	eh->e_phnum = 3;

	im->ph[0] = (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_flags = 5,
		.p_offset = TEXT_OFF, .p_vaddr = BASE, .p_paddr = BASE,
		.p_filesz = TEXT_SIZE, .p_memsz = TEXT_SIZE, .p_align = 0x1000 };
	im->ph[1] = (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_flags = 6,
		.p_offset = DATA_OFF, .p_vaddr = BASE + 0x1000, .p_paddr = BASE + 0x1000,
		.p_filesz = DATA_SIZE, .p_memsz = 0x3000, .p_align = 0x1000 };
	im->ph[2] = (struct elf64_phdr){ .p_type = 4 /* PT_NOTE */,
		.p_offset = ~0ull, .p_filesz = ~0ull };
}

/* ---------------------------------------------------------------- mutations */

static void m_none(struct image *im) { (void)im; }
static void m_too_small(struct image *im) { im->size = sizeof(struct elf64_ehdr) - 1; }
static void m_magic(struct image *im) { im->eh.e_ident[1] = 'X'; }
static void m_class(struct image *im) { im->eh.e_ident[ELF_EI_CLASS] = 1; /* ELFCLASS32 */ }
static void m_endian(struct image *im) { im->eh.e_ident[ELF_EI_DATA] = 2; /* big */ }
static void m_version(struct image *im) { im->eh.e_version = 0; }
static void m_machine(struct image *im) { im->eh.e_machine = 3; /* EM_386 */ }
static void m_type(struct image *im) { im->eh.e_type = 3; /* ET_DYN */ }
static void m_phentsize(struct image *im) { im->eh.e_phentsize = 32; }
static void m_many_phdrs(struct image *im) { im->eh.e_phnum = ELF_MAX_PHDRS + 1; }
static void m_phoff_past_end(struct image *im) { im->eh.e_phoff = FILE_SIZE - 8; }
static void m_phoff_huge(struct image *im) { im->eh.e_phoff = ~0ull - 7; }
static void m_phdrs_cut(struct image *im) { im->size = sizeof(struct elf64_ehdr) + 100; }
static void m_phoff_odd(struct image *im) { im->eh.e_phoff = 68; }
static void m_filesz_gt_memsz(struct image *im) { im->ph[1].p_memsz = DATA_SIZE - 1; }
static void m_seg_out_of_file(struct image *im) { im->ph[1].p_filesz = 0x200; }
static void m_seg_offset_past_end(struct image *im) { im->ph[0].p_offset = FILE_SIZE + 1; }
/* offset + filesz wraps to a small number: must not pass. */
static void m_seg_offset_wraps(struct image *im)
{
	im->ph[1].p_offset = ~0ull - 0x10;
	im->ph[1].p_filesz = 0x20;
}
static void m_seg_addr_wraps(struct image *im)
{
	im->ph[1].p_vaddr = im->ph[1].p_paddr = ~0ull - 0x1000;
}
static void m_not_identity(struct image *im) { im->ph[0].p_vaddr = 0xffffffff80000000ull; }
static void m_overlap(struct image *im)
{
	im->ph[1].p_vaddr = im->ph[1].p_paddr = BASE + TEXT_SIZE - 0x10;
}
static void m_unsorted(struct image *im)
{
	struct elf64_phdr t = im->ph[0];

	im->ph[0] = im->ph[1];
	im->ph[1] = t;
}
static void m_no_load(struct image *im) { im->ph[0].p_type = im->ph[1].p_type = 6; }
static void m_no_phdrs(struct image *im) { im->eh.e_phnum = 0; }
static void m_entry_outside(struct image *im) { im->eh.e_entry = BASE + 0x4000; }
static void m_entry_below(struct image *im) { im->eh.e_entry = BASE - 1; }
/* Entry in the .bss part of a segment still counts as inside it. */
static void m_entry_in_bss(struct image *im) { im->eh.e_entry = BASE + 0x3fff; }
/* Two segments sharing a page (no overlap in bytes) are fine. */
static void m_shared_page(struct image *im)
{
	im->ph[1].p_vaddr = im->ph[1].p_paddr = BASE + TEXT_SIZE;
}
/* An empty PT_LOAD is ignored, wherever it claims to be. */
static void m_empty_load(struct image *im)
{
	im->ph[2] = (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_vaddr = 5, .p_paddr = 7 };
}
static void m_empty_load_with_data(struct image *im)
{
	im->ph[2] = (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_filesz = 1 };
}

struct elf_case {
	const char *name;
	void (*mutate)(struct image *);
	enum elf_check_result want;
	int want_bad_phdr; /* -1: do not check */
};

static const struct elf_case cases[] = {
	{ "good header",                 m_none,                ELF_OK, -1 },
	{ "file too small",              m_too_small,           ELF_ERR_TOO_SMALL, -1 },
	{ "bad magic",                   m_magic,               ELF_ERR_MAGIC, -1 },
	{ "wrong class",                 m_class,               ELF_ERR_CLASS, -1 },
	{ "big endian",                  m_endian,              ELF_ERR_ENDIAN, -1 },
	{ "bad version",                 m_version,             ELF_ERR_VERSION, -1 },
	{ "wrong machine",               m_machine,             ELF_ERR_MACHINE, -1 },
	{ "not ET_EXEC",                 m_type,                ELF_ERR_TYPE, -1 },
	{ "wrong phentsize",             m_phentsize,           ELF_ERR_PHENTSIZE, -1 },
	{ "too many phdrs",              m_many_phdrs,          ELF_ERR_TOO_MANY_PHDRS, -1 },
	{ "phdr out of file",            m_phoff_past_end,      ELF_ERR_PHDRS_OUT_OF_FILE, -1 },
	{ "phoff near 2^64",             m_phoff_huge,          ELF_ERR_PHDRS_OUT_OF_FILE, -1 },
	{ "phdr table cut short",        m_phdrs_cut,           ELF_ERR_PHDRS_OUT_OF_FILE, -1 },
	{ "phdrs misaligned",            m_phoff_odd,           ELF_ERR_PHDRS_MISALIGNED, -1 },
	{ "filesz>memsz",                m_filesz_gt_memsz,     ELF_ERR_FILESZ_GT_MEMSZ, 1 },
	{ "segment out of file",         m_seg_out_of_file,     ELF_ERR_SEGMENT_OUT_OF_FILE, 1 },
	{ "segment offset past end",     m_seg_offset_past_end, ELF_ERR_SEGMENT_OUT_OF_FILE, 0 },
	{ "segment offset+filesz wraps", m_seg_offset_wraps,    ELF_ERR_SEGMENT_OUT_OF_FILE, 1 },
	{ "segment address wraps",       m_seg_addr_wraps,      ELF_ERR_SEGMENT_WRAPS, 1 },
	{ "vaddr != paddr",              m_not_identity,        ELF_ERR_NOT_IDENTITY, 0 },
	{ "overlapping segments",        m_overlap,             ELF_ERR_SEGMENT_ORDER, 1 },
	{ "unsorted segments",           m_unsorted,            ELF_ERR_SEGMENT_ORDER, 1 },
	{ "no PT_LOAD",                  m_no_load,             ELF_ERR_NO_LOAD, -1 },
	{ "no phdrs at all",             m_no_phdrs,            ELF_ERR_NO_LOAD, -1 },
	{ "entry outside segments",      m_entry_outside,       ELF_ERR_ENTRY_OUTSIDE, -1 },
	{ "entry just below",            m_entry_below,         ELF_ERR_ENTRY_OUTSIDE, -1 },
	{ "entry in bss",                m_entry_in_bss,        ELF_OK, -1 },
	{ "segments share a page",       m_shared_page,         ELF_OK, -1 },
	{ "empty PT_LOAD ignored",       m_empty_load,          ELF_OK, -1 },
	{ "empty PT_LOAD with filesz",   m_empty_load_with_data, ELF_ERR_FILESZ_GT_MEMSZ, 2 },
};

/* Run elf_check on an exact-size heap copy, so ASan sees any overread. */
static enum elf_check_result run_check(const struct image *im, struct elf_image_info *info,
				       unsigned *bad)
{
	void *copy = malloc(im->size ? im->size : 1);
	enum elf_check_result r;

	memcpy(copy, im->bytes, im->size);
	r = elf_check(copy, im->size, info, bad);
	free(copy);
	return r;
}

static int check_good_info(const struct elf_image_info *info)
{
	return info->entry == BASE + 0x10 && info->phys_start == BASE &&
	       info->phys_end == BASE + 0x4000 && info->nload == 2;
}

/* Random byte flips in the headers: elf_check must never read out of bounds. */
static void mutation_pass(unsigned rounds)
{
	struct image im;
	struct elf_image_info info;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned bad;

	for (unsigned r = 0; r < rounds; r++) {
		make_good(&im);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			im.bytes[x % (sizeof(struct elf64_ehdr) + 3 * sizeof(struct elf64_phdr))] =
				(unsigned char)(x >> 32);
		}
		if (x & 0x100)
			im.size = (x >> 40) % FILE_SIZE;
		(void)run_check(&im, &info, &bad);
	}
}

static void case_failed(void)
{
	check_failed++;
}

int main(void)
{
	struct image im;
	struct elf_image_info info;
	enum elf_check_result r;
	unsigned n = sizeof(cases) / sizeof(cases[0]), bad;

	for (unsigned i = 0; i < n; i++) {
		make_good(&im);
		cases[i].mutate(&im);
		bad = ~0u;
		memset(&info, 0, sizeof(info));
		r = run_check(&im, &info, &bad);
		if (r != cases[i].want) {
			printf("FAIL %-28s got %d (%s), want %d (%s)\n", cases[i].name,
			       r, elf_check_strerror(r), cases[i].want,
			       elf_check_strerror(cases[i].want));
			case_failed();
			continue;
		}
		if (cases[i].want_bad_phdr >= 0 && bad != (unsigned)cases[i].want_bad_phdr) {
			printf("FAIL %-28s bad phdr %u, want %d\n", cases[i].name, bad,
			       cases[i].want_bad_phdr);
			case_failed();
			continue;
		}
		if (cases[i].mutate == m_none && !check_good_info(&info)) {
			printf("FAIL %-28s info entry %#llx span %#llx-%#llx nload %u\n",
			       cases[i].name, (unsigned long long)info.entry,
			       (unsigned long long)info.phys_start,
			       (unsigned long long)info.phys_end, info.nload);
			case_failed();
			continue;
		}
		check_passed++;
	}

	/* Every result has its own message. */
	for (int e = 0; e < ELF_ERR_COUNT; e++)
		CHECK(strcmp(elf_check_strerror(e), "unknown error") != 0);
	CHECK_STR(elf_check_strerror(ELF_ERR_COUNT), "unknown error");

	mutation_pass(20000);

	return check_summary("test_elf_check");
}
