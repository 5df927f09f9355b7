/*
 * elf_load.c - placing the kernel's PT_LOAD segments in memory (see elf_load.h).
 */
#include <efi.h>
#include <efilib.h>

#include "elf_load.h"
#include "util.h"

#define PAGE ELF_PAGE_SIZE

/* ---------------------------------------------------------------- memory map snapshot */

struct map_snapshot {
	UINT8 *buf;
	UINTN size;
	UINTN desc_size;
};

static EFI_STATUS map_snapshot_get(struct map_snapshot *s)
{
	UINTN key, cap;
	UINT32 ver;
	EFI_STATUS st;

	s->buf = NULL;
	s->size = 0;
	st = BS->GetMemoryMap(&s->size, NULL, &key, &s->desc_size, &ver);
	if (st != EFI_BUFFER_TOO_SMALL)
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	cap = s->size + 4 * s->desc_size; /* our own pool allocation may split a descriptor */
	st = BS->AllocatePool(EfiLoaderData, cap, (void **)&s->buf);
	if (EFI_ERROR(st))
		return st;
	s->size = cap;
	st = BS->GetMemoryMap(&s->size, (EFI_MEMORY_DESCRIPTOR *)s->buf, &key,
			      &s->desc_size, &ver);
	if (EFI_ERROR(st)) {
		util_free_pool(s->buf, L"memory map copy");
		s->buf = NULL;
	}
	return st;
}

static EFI_MEMORY_DESCRIPTOR *map_snapshot_find(const struct map_snapshot *s,
						EFI_PHYSICAL_ADDRESS addr)
{
	EFI_MEMORY_DESCRIPTOR *d;
	UINTN off;

	for (off = 0; off + s->desc_size <= s->size; off += s->desc_size) {
		d = (EFI_MEMORY_DESCRIPTOR *)(s->buf + off);
		if (addr >= d->PhysicalStart &&
		    addr - d->PhysicalStart < d->NumberOfPages * PAGE)
			return d;
	}
	return NULL;
}

static EFI_PHYSICAL_ADDRESS desc_end(const EFI_MEMORY_DESCRIPTOR *d)
{
	return d->PhysicalStart + d->NumberOfPages * PAGE;
}

static const CHAR16 *mem_type_name(UINT32 type)
{
	static const CHAR16 *const names[] = {
		L"Reserved", L"LoaderCode", L"LoaderData", L"BootServicesCode",
		L"BootServicesData", L"RuntimeServicesCode", L"RuntimeServicesData",
		L"Conventional", L"Unusable", L"ACPIReclaim", L"ACPINVS", L"MMIO",
		L"MMIOPortSpace", L"PalCode", L"Persistent",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : L"unknown";
}

/* ---------------------------------------------------------------- what must survive the copy */

static inline UINT64 read_cr3(void)
{
	UINT64 v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline UINT64 read_cr4(void)
{
	UINT64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

#define PTE_PRESENT   (1ull << 0)
#define PTE_PS        (1ull << 7)              /* 1 GiB / 2 MiB page (SDM 3A, 4.5) */
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define CR4_LA57      (1ull << 12)

/*
 * The first page-table page (the firmware's identity map, which we keep
 * using until the kernel loads its own CR3) inside [start, end), or 0.
 * @level: 5 or 4 for the root, 1 for a page table. Bounded by the size of
 * the firmware's tables: each table is visited once.
 */
static UINT64 page_table_in(UINT64 table, int level, UINT64 start, UINT64 end)
{
	const UINT64 *e = (const UINT64 *)(UINTN)table;
	UINT64 hit;

	if (table >= start && table < end)
		return table;
	if (level == 1)
		return 0;
	for (int i = 0; i < 512; i++) {
		if (!(e[i] & PTE_PRESENT))
			continue;
		/* PS is a large page in a PDPT (level 3) or PD (level 2). */
		if ((level == 3 || level == 2) && (e[i] & PTE_PS))
			continue;
		hit = page_table_in(e[i] & PTE_ADDR_MASK, level - 1, start, end);
		if (hit)
			return hit;
	}
	return 0;
}

/*
 * Check that boot-services memory [start, end), which we will overwrite
 * after ExitBootServices, holds nothing we still use then: the stack we
 * are running on (the whole map region around it, since we do not know its
 * extent), the GDT, the IDT and the page tables. Prints the conflict.
 */
static EFI_STATUS check_overwritable(const struct map_snapshot *s,
				     EFI_PHYSICAL_ADDRESS start, EFI_PHYSICAL_ADDRESS end)
{
	struct __attribute__((packed)) { UINT16 limit; UINT64 base; } gdtr, idtr;
	const EFI_MEMORY_DESCRIPTOR *d;
	UINT64 rsp, pt;
	const CHAR16 *what = NULL;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));

	d = map_snapshot_find(s, rsp);
	if (!d || (desc_end(d) > start && d->PhysicalStart < end))
		what = L"the loader's stack";
	else if (gdtr.base + gdtr.limit >= start && gdtr.base < end)
		what = L"the GDT";
	else if (idtr.base + idtr.limit >= start && idtr.base < end)
		what = L"the IDT";
	if (what) {
		Print(L"efi: kernel.elf: 0x%lx-0x%lx holds %s; cannot load the kernel there\n",
		      start, end - 1, what);
		return EFI_ACCESS_DENIED;
	}
	pt = page_table_in(read_cr3() & PTE_ADDR_MASK, (read_cr4() & CR4_LA57) ? 5 : 4,
			   start, end);
	if (pt) {
		Print(L"efi: kernel.elf: 0x%lx-0x%lx holds a page table (0x%lx); "
		      L"cannot load the kernel there\n", start, end - 1, pt);
		return EFI_ACCESS_DENIED;
	}
	return EFI_SUCCESS;
}

/* ---------------------------------------------------------------- claiming the kernel's pages */

/* Merge the PT_LOAD page ranges into spans (ascending thanks to elf_check()). */
static void compute_spans(const void *file, struct elf_loaded *l)
{
	const struct elf64_ehdr *eh = file;
	const struct elf64_phdr *ph = elf_phdrs(file);
	EFI_PHYSICAL_ADDRESS start, end;
	UINTN off = 0;

	l->nspans = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++, ph++) {
		if (ph->p_type != ELF_PT_LOAD || ph->p_memsz == 0)
			continue;
		start = ph->p_paddr & ~(PAGE - 1);
		end = (ph->p_paddr + ph->p_memsz + PAGE - 1) & ~(PAGE - 1);
		if (l->nspans > 0 && start <= l->span[l->nspans - 1].end) {
			off += end - l->span[l->nspans - 1].end;
			l->span[l->nspans - 1].end = end;
			continue;
		}
		l->span[l->nspans].start = start;
		l->span[l->nspans].end = end;
		l->span[l->nspans].staging_off = off;
		off += end - start;
		l->nspans++;
	}
}

static EFI_STATUS reserve(struct elf_loaded *l, EFI_PHYSICAL_ADDRESS start,
			  EFI_PHYSICAL_ADDRESS end)
{
	EFI_PHYSICAL_ADDRESS addr = start;
	EFI_STATUS st;

	if (l->nresv == ELF_LOAD_MAX_RESV) {
		Print(L"efi: kernel.elf: its memory is split into too many pieces\n");
		return EFI_OUT_OF_RESOURCES;
	}
	st = BS->AllocatePages(AllocateAddress, EfiLoaderData, (end - start) / PAGE, &addr);
	if (EFI_ERROR(st)) {
		Print(L"efi: kernel.elf: cannot allocate 0x%lx-0x%lx (%r)\n", start, end - 1, st);
		return st;
	}
	l->resv[l->nresv].start = start;
	l->resv[l->nresv].pages = (end - start) / PAGE;
	l->nresv++;
	return EFI_SUCCESS;
}

/*
 * Walk span [start, end) through the memory map: allocate its free pieces,
 * accept boot-services pieces for a copy after ExitBootServices (*deferred
 * is set), refuse anything else with a message naming what is there.
 */
static EFI_STATUS claim_span(const struct map_snapshot *s, struct elf_loaded *l,
			     EFI_PHYSICAL_ADDRESS start, EFI_PHYSICAL_ADDRESS end, int *deferred)
{
	EFI_PHYSICAL_ADDRESS cur = start, piece_end;
	const EFI_MEMORY_DESCRIPTOR *d;
	EFI_STATUS st;

	/* Each round moves cur to the end of a descriptor or of the span. */
	while (cur < end) {
		d = map_snapshot_find(s, cur);
		if (!d) {
			Print(L"efi: kernel.elf: no RAM at 0x%lx (linked for an address this "
			      L"machine lacks?)\n", cur);
			return EFI_NOT_FOUND;
		}
		piece_end = desc_end(d) < end ? desc_end(d) : end;
		switch (d->Type) {
		case EfiConventionalMemory:
			st = reserve(l, cur, piece_end);
			if (EFI_ERROR(st))
				return st;
			break;
		case EfiBootServicesCode:
		case EfiBootServicesData:
			st = check_overwritable(s, cur, piece_end);
			if (EFI_ERROR(st))
				return st;
			Print(L"efi: kernel.elf: 0x%lx-0x%lx is firmware %s; the kernel "
			      L"goes there after ExitBootServices\n", cur, piece_end - 1,
			      mem_type_name(d->Type));
			*deferred = 1;
			break;
		default:
			Print(L"efi: kernel.elf: cannot load at 0x%lx-0x%lx: it is %s memory\n",
			      cur, piece_end - 1, mem_type_name(d->Type));
			return EFI_ACCESS_DENIED;
		}
		cur = piece_end;
	}
	return EFI_SUCCESS;
}

/* ---------------------------------------------------------------- the interface */

void elf_unload(struct elf_loaded *l)
{
	EFI_STATUS st;

	if (l->staging) {
		st = BS->FreePages((EFI_PHYSICAL_ADDRESS)(UINTN)l->staging, l->staging_pages);
		if (EFI_ERROR(st))
			Print(L"efi: warning: cannot free the kernel staging buffer (%r)\n", st);
		l->staging = NULL;
	}
	while (l->nresv > 0) {
		l->nresv--;
		st = BS->FreePages(l->resv[l->nresv].start, l->resv[l->nresv].pages);
		if (EFI_ERROR(st))
			Print(L"efi: warning: cannot free kernel pages at 0x%lx (%r)\n",
			      l->resv[l->nresv].start, st);
	}
}

/* Where the bytes for physical address addr go now: in place, or in staging. */
static UINT8 *load_dest(const struct elf_loaded *l, EFI_PHYSICAL_ADDRESS addr)
{
	unsigned i;

	if (!l->staging)
		return (UINT8 *)(UINTN)addr;
	for (i = 0; i + 1 < l->nspans && addr >= l->span[i + 1].start; i++)
		;
	return l->staging + l->span[i].staging_off + (addr - l->span[i].start);
}

EFI_STATUS elf_load(const void *file, const struct elf_image_info *info,
		    struct elf_loaded *l)
{
	const struct elf64_ehdr *eh = file;
	const struct elf64_phdr *ph;
	struct map_snapshot snap;
	EFI_PHYSICAL_ADDRESS staging_addr;
	UINTN total = 0;
	int deferred = 0;
	unsigned i;
	EFI_STATUS st;

	l->nresv = 0;
	l->staging = NULL;
	compute_spans(file, l);

	st = map_snapshot_get(&snap);
	if (EFI_ERROR(st)) {
		Print(L"efi: cannot read the memory map (%r)\n", st);
		return st;
	}
	for (i = 0; i < l->nspans; i++) {
		st = claim_span(&snap, l, l->span[i].start, l->span[i].end, &deferred);
		if (EFI_ERROR(st))
			break;
		total += l->span[i].end - l->span[i].start;
	}
	util_free_pool(snap.buf, L"memory map copy");
	if (EFI_ERROR(st))
		goto fail;

	if (deferred) {
		l->staging_pages = total / PAGE;
		st = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, l->staging_pages,
				       &staging_addr);
		if (EFI_ERROR(st)) {
			Print(L"efi: kernel.elf: no memory for a %ld-byte staging buffer (%r)\n",
			      (UINT64)total, st);
			goto fail;
		}
		l->staging = (UINT8 *)(UINTN)staging_addr;
	}

	/* Whole spans first, so .bss tails and the slack around segments are zero. */
	for (i = 0; i < l->nspans; i++)
		SetMem(load_dest(l, l->span[i].start), l->span[i].end - l->span[i].start, 0);
	ph = elf_phdrs(file);
	for (i = 0; i < eh->e_phnum; i++, ph++) {
		if (ph->p_type == ELF_PT_LOAD && ph->p_memsz != 0)
			CopyMem(load_dest(l, ph->p_paddr), (const UINT8 *)file + ph->p_offset,
				ph->p_filesz);
	}

	Print(L"efi: kernel.elf: %d segment(s) at 0x%lx-0x%lx, entry 0x%lx%s\n",
	      info->nload, info->phys_start, info->phys_end - 1, info->entry,
	      l->staging ? L" (staged)" : L"");
	return EFI_SUCCESS;

fail:
	elf_unload(l);
	return st;
}

int elf_place_after_ebs(const struct elf_loaded *l)
{
	UINT8 *dst;
	const UINT8 *src;
	UINTN len;

	if (!l->staging)
		return 0;
	/* Staging came from free memory, while the spans are pages we had
	 * allocated or boot-services memory, so they cannot overlap and a
	 * forward copy is right. Inline, to keep this path visibly free of
	 * anything that might reach into the firmware. */
	for (unsigned i = 0; i < l->nspans; i++) {
		dst = (UINT8 *)(UINTN)l->span[i].start;
		src = l->staging + l->span[i].staging_off;
		len = l->span[i].end - l->span[i].start;
		__asm__ volatile("cld; rep movsb"
				 : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
	}
	return 1;
}
