/*
 * vmm.c - the kernel's own 4-level page tables (see vmm.h for the layout).
 *
 * Entry formats: Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level
 * Paging", the tables "Format of a PML4 Entry", "... a Page-Directory
 * Entry that Maps a 2-MByte Page" and "... a Page-Table Entry that Maps a
 * 4-KByte Page". Permissions combine across levels (4.6 "Access Rights"):
 * a page is writable only if R/W is set at every level and executable only
 * if XD is clear at every level, so upper-level entries are left
 * permissive (P|RW) and each leaf carries the restriction.
 *
 * vmm_init() builds the tables while UEFI's identity map is still loaded:
 * every page-table page comes from the pmm, which hands out identity-mapped
 * RAM, so the new tables can be written through their physical addresses
 * both before and after the switch.
 */
#include "kernel/mm/vmm.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/memmap.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/lib/string.h"
#include "boot/bootinfo.h"

extern struct bootinfo boot_info; /* kernel/main.c */
/* kernel.ld: page-aligned section boundaries of the image */
extern char __kernel_start[], __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_end[], __kernel_end[];

/* Entry bits, SDM Vol. 3A 4.5 (tables cited above). */
#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)   /* set by the CPU on access */
#define PTE_D    (1ull << 6)   /* set by the CPU on write (leaves only) */
#define PTE_PS   (1ull << 7)   /* in a PDE/PDPTE: maps a 2 MiB/1 GiB page */
#define PTE_G    (1ull << 8)   /* global: survives CR3 loads when CR4.PGE=1 */
#define PTE_NX   (1ull << 63)  /* XD: honoured only when EFER.NXE=1 */
#define PTE_ADDR     0x000ffffffffff000ull /* bits 51:12 */
#define PTE_ADDR_2M  0x000fffffffe00000ull /* bits 51:21 of a 2 MiB leaf */
#define PTE_ADDR_1G  0x000fffffc0000000ull

#define CR0_WP   (1ull << 16) /* SDM Vol. 3A 2.5: supervisor writes obey R/W */
#define CR4_PGE  (1ull << 7)
#define SZ_2M    0x200000ull

static uint64_t *pml4;
static uint64_t pml4_phys;
static uint64_t nx_bit;      /* PTE_NX if the CPU has NX, else 0 */
static uint64_t g_bit;       /* PTE_G if the CPU has PGE, else 0 */
static uint64_t table_pages;
static uint64_t stack_next = VMM_STACK_BASE;

struct mmio_window {
	uint64_t pa, size, va;
};
#define MAX_MMIO_WINDOWS 64
static struct mmio_window windows[MAX_MMIO_WINDOWS];
static unsigned nr_windows;
static uint64_t mmio_next = VMM_MMIO_BASE;

static inline unsigned idx_at(uint64_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

static inline bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* VMM_* flags -> leaf entry bits. */
static uint64_t leaf_bits(uint64_t flags)
{
	uint64_t e = PTE_P;

	if (flags & VMM_WRITE)
		e |= PTE_W;
	if (flags & VMM_USER)
		e |= PTE_U;
	else
		e |= g_bit; /* kernel mappings are the same in every address space */
	if (flags & VMM_UC)
		e |= PTE_PCD | PTE_PWT; /* PAT entry 3 = UC at power-up (SDM Vol. 3A, PAT) */
	if (!(flags & VMM_EXEC))
		e |= nx_bit;
	return e;
}

/*
 * Returns a pointer to the entry for va at `leaf_level` (1 = PTE,
 * 2 = PDE), creating missing tables if `alloc`. NULL with *err = -ENOENT
 * (not mapped), -EINVAL (a larger page is in the way) or -ENOMEM.
 * Called with interrupts off (or at init).
 */
static uint64_t *walk(uint64_t va, int leaf_level, bool alloc, bool user, int *err)
{
	uint64_t *t = pml4;

	for (int level = 4; level > leaf_level; level--) {
		uint64_t *e = &t[idx_at(va, level)];
		if (!(*e & PTE_P)) {
			if (!alloc) {
				*err = -ENOENT;
				return NULL;
			}
			uint64_t pa = phys_alloc_page(); /* zeroed: all entries not present */
			if (!pa) {
				*err = -ENOMEM;
				return NULL;
			}
			table_pages++;
			*e = pa | PTE_P | PTE_W | (user ? PTE_U : 0);
		} else if (*e & PTE_PS) {
			*err = -EINVAL;
			return NULL;
		} else if (user && !(*e & PTE_U)) {
			*e |= PTE_U;
		}
		t = phys_to_virt(*e & PTE_ADDR);
	}
	return &t[idx_at(va, leaf_level)];
}

int vmm_map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pte, e, f;
	int err = 0;

	if ((va | pa) & (PAGE_SIZE - 1) || !canonical(va) || pa & ~PTE_ADDR)
		return -EINVAL;
	if ((flags & VMM_WRITE) && (flags & VMM_EXEC))
		return -EINVAL; /* W^X */
	if (!pml4)
		return -EINVAL; /* before vmm_init() */
	e = pa | leaf_bits(flags);
	f = local_irq_save();
	pte = walk(va, 1, true, flags & VMM_USER, &err);
	if (pte) {
		if (!(*pte & PTE_P))
			*pte = e;
		else if ((*pte & ~(PTE_A | PTE_D)) != e)
			err = -EEXIST; /* the same mapping again is fine */
	}
	local_irq_restore(f);
	if (!err)
		invlpg(va);
	return err;
}

/* Maps one 2 MiB page va -> pa (both 2 MiB aligned). 0, -EEXIST if
 * anything is mapped there, -ENOMEM. For ioremap(); task context. */
static int map_large(uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pde, f;
	int err = 0;

	f = local_irq_save();
	pde = walk(va, 2, true, false, &err);
	if (pde && (*pde & PTE_P))
		err = -EEXIST;
	else if (pde)
		*pde = pa | leaf_bits(flags) | PTE_PS; /* PAT (bit 12) left 0 */
	local_irq_restore(f);
	if (!err)
		invlpg(va);
	return err;
}

int vmm_unmap_page(uint64_t va)
{
	uint64_t *pte, f;
	int err = 0;

	if (va & (PAGE_SIZE - 1) || !canonical(va) || !pml4)
		return -EINVAL;
	f = local_irq_save();
	pte = walk(va, 1, false, false, &err);
	if (pte && !(*pte & PTE_P))
		err = -ENOENT;
	if (pte && !err)
		*pte = 0;
	local_irq_restore(f);
	if (!err)
		invlpg(va); /* a global entry is flushed by INVLPG too (SDM 4.10.4.1) */
	return err;
}

bool vmm_lookup(uint64_t va, uint64_t *pte, int *level)
{
	uint64_t *t = pml4;

	if (!pml4 || !canonical(va))
		return false;
	for (int l = 4; l >= 1; l--) {
		uint64_t e = t[idx_at(va, l)];
		if (!(e & PTE_P))
			return false;
		if (l == 1 || (l <= 3 && (e & PTE_PS))) {
			if (pte)
				*pte = e;
			if (level)
				*level = l;
			return true;
		}
		t = phys_to_virt(e & PTE_ADDR);
	}
	return false;
}

static void walk_table(uint64_t *t, int level, uint64_t va_base, bool w, bool x,
		       void (*fn)(uint64_t, uint64_t, int, bool, bool, void *), void *arg)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		uint64_t va = va_base + ((uint64_t)i << (12 + 9 * (level - 1)));
		if (!(e & PTE_P))
			continue;
		bool ew = w && (e & PTE_W);
		bool ex = x && !(nx_bit && (e & PTE_NX));
		if (level == 1 || (level <= 3 && (e & PTE_PS)))
			fn(va, e, level, ew, ex, arg);
		else
			walk_table(phys_to_virt(e & PTE_ADDR), level - 1, va, ew, ex, fn, arg);
	}
}

void vmm_walk(void (*fn)(uint64_t, uint64_t, int, bool, bool, void *), void *arg)
{
	uint64_t f = local_irq_save();
	/* Bounded: 256 PML4 slots x 512^3 entries at most, in practice a few
	 * thousand present ones. The lower half only: nothing maps above. */
	for (unsigned i = 0; i < 256; i++) {
		uint64_t e = pml4[i];
		if (e & PTE_P)
			walk_table(phys_to_virt(e & PTE_ADDR), 3, (uint64_t)i << 39,
				   e & PTE_W, !(nx_bit && (e & PTE_NX)), fn, arg);
	}
	local_irq_restore(f);
}

uint64_t vmm_table_pages(void)
{
	return table_pages;
}

/* ---------------------------------------------------------------- boot */

/*
 * Identity-maps [s, e) with leaf bits `bits`, using 2 MiB pages for every
 * 2 MiB-aligned chunk wholly inside the range and 4 KiB pages elsewhere.
 * Boot only; a failure here is fatal (no memory for tables, or two map
 * entries that overlap in conflicting ways).
 */
static void map_identity(uint64_t s, uint64_t e, uint64_t bits, const char *what)
{
	int err = 0;

	if (s < PAGE_SIZE)
		s = PAGE_SIZE; /* page 0 stays unmapped: NULL dereferences fault */
	for (uint64_t va = s; va < e;) {
		uint64_t *pte;
		if (!(va & (SZ_2M - 1)) && va + SZ_2M <= e) {
			pte = walk(va, 2, true, false, &err);
			if (pte && !(*pte & PTE_P)) {
				*pte = va | bits | PTE_PS;
				va += SZ_2M;
				continue;
			}
			/* a page table is already there (a neighbour used 4 KiB
			 * pages in this chunk): fall through to 4 KiB pages */
			err = 0;
		}
		pte = walk(va, 1, true, false, &err);
		if (!pte)
			panic("vmm: cannot map %s page 0x%lx: %d", what, (unsigned long)va, err);
		if ((*pte & PTE_P) && (*pte & PTE_ADDR) != va)
			panic("vmm: %s page 0x%lx already mapped elsewhere", what, (unsigned long)va);
		*pte = va | bits;
		va += PAGE_SIZE;
	}
}

/* Identity-maps the RAM part [s, e) minus the kernel image [ks, ke). */
static void map_ram_around(uint64_t s, uint64_t e, uint64_t ks, uint64_t ke, uint64_t bits)
{
	if (s < ks)
		map_identity(s, e < ks ? e : ks, bits, "RAM");
	if (e > ke)
		map_identity(s > ke ? s : ke, e, bits, "RAM");
}

static void cpu_features(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		if (d & (1u << 20)) /* CPUID.80000001H:EDX.NX [bit 20] */
			nx_bit = PTE_NX;
	}
	cpuid(1, 0, &a, &b, &c, &d);
	if (d & (1u << 13))         /* CPUID.01H:EDX.PGE [bit 13] */
		g_bit = PTE_G;
	if (!nx_bit)
		pr_warn("vmm: CPU has no NX: data pages stay executable, W^X holds only for writes");
}

void vmm_init(void)
{
	const struct memmap *mm = pmm_memmap();
	uint64_t ks = (uint64_t)__kernel_start, ke = (uint64_t)__kernel_end;
	uint64_t ram_rw = PTE_P | PTE_W | PTE_G, ro = PTE_P | PTE_G;

	cpu_features();
	if (!g_bit)
		ram_rw &= ~PTE_G, ro &= ~PTE_G;
	pml4_phys = phys_alloc_page();
	if (!pml4_phys)
		panic("vmm: no page for the PML4");
	table_pages = 1;
	pml4 = phys_to_virt(pml4_phys);

	/* All RAM: read-write, never executable. Nothing at or above
	 * PMM_PHYS_LIMIT (1 TiB), where the other regions start. */
	for (unsigned i = 0; i < mm->nr_ram; i++) {
		uint64_t e = mm->ram[i].end < PMM_PHYS_LIMIT ? mm->ram[i].end : PMM_PHYS_LIMIT;
		if (mm->ram[i].start < e)
			map_ram_around(mm->ram[i].start, e, ks, ke, ram_rw | nx_bit);
	}
	_Static_assert(PMM_PHYS_LIMIT <= VMM_MMIO_BASE, "identity map below the other regions");
	if (mm->ram_top > PMM_PHYS_LIMIT)
		pr_warn("vmm: RAM above 1 TiB is not mapped");
	/* ACPI tables (reclaim and NVS): read-only, never executable. */
	for (unsigned i = 0; i < mm->nr_acpi; i++)
		map_ram_around(mm->acpi[i].start, mm->acpi[i].end, ks, ke, ro | nx_bit);
	/* The RSDP may sit outside any ACPI range (e.g. in reserved memory
	 * below 1 MiB on some firmware): make sure its page is reachable. */
	if (boot_info.acpi_rsdp_phys && !vmm_lookup(boot_info.acpi_rsdp_phys, NULL, NULL)) {
		uint64_t p = PAGE_ALIGN_DOWN(boot_info.acpi_rsdp_phys);
		map_identity(p, p + 2 * PAGE_SIZE, ro | nx_bit, "RSDP");
	}

	/* The kernel image, 4 KiB pages, W^X from the linker's boundaries. */
	map_identity((uint64_t)__text_start, (uint64_t)__text_end, PTE_P | g_bit, "text");
	map_identity((uint64_t)__rodata_start, (uint64_t)__rodata_end,
		     PTE_P | g_bit | nx_bit, "rodata");
	map_identity((uint64_t)__data_start, (uint64_t)__bss_end,
		     PTE_P | PTE_W | g_bit | nx_bit, "data");

	/*
	 * Switch. EFER.NXE first: with NXE=0, bit 63 of an entry is reserved
	 * and any walk through our tables would #PF (SDM Vol. 3A 4.5, and
	 * 2.2.1 for EFER). CR4.PGE after the CR3 load (setting it flushes the
	 * whole TLB, globals included: SDM 4.10.4.1). CR0.WP last, so that
	 * read-only pages bind the kernel too (SDM 2.5, 4.6.1).
	 */
	if (nx_bit)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr3(pml4_phys);
	if (g_bit)
		write_cr4(read_cr4() | CR4_PGE);
	write_cr0(read_cr0() | CR0_WP);

	pr_info("vmm: kernel page tables at 0x%lx: %lu table pages, RAM to 0x%lx, text 0x%lx-0x%lx R-X, rodata R--, data/bss 0x%lx-0x%lx RW-, NX %s, PGE %s",
		(unsigned long)pml4_phys, (unsigned long)table_pages,
		(unsigned long)mm->ram_top, (unsigned long)__text_start,
		(unsigned long)__text_end, (unsigned long)__data_start,
		(unsigned long)__bss_end, nx_bit ? "on" : "off", g_bit ? "on" : "off");
}

/* ---------------------------------------------------------------- MMIO */

void *ioremap(uint64_t phys, size_t size)
{
	uint64_t ps, pe, va = 0, f;

	if (!pml4) {
		pr_err("vmm: ioremap(0x%lx) before vmm_init()", (unsigned long)phys);
		return NULL;
	}
	if (!size)
		size = 1;
	ps = PAGE_ALIGN_DOWN(phys);
	pe = PAGE_ALIGN_UP(phys + size);
	if (pe <= ps || pe & ~PTE_ADDR) {
		pr_err("vmm: ioremap(0x%lx, %zu): bad range", (unsigned long)phys, size);
		return NULL;
	}
	f = local_irq_save();
	/* Already covered by a window: hand out the same mapping. */
	for (unsigned i = 0; i < nr_windows; i++) {
		struct mmio_window *w = &windows[i];
		if (ps >= w->pa && pe <= w->pa + w->size) {
			va = w->va + (phys - w->pa);
			goto out;
		}
	}
	/* Partial overlap: map the union in a new window and let it replace
	 * the old record (the old window stays mapped, so pointers into it
	 * remain valid; both are UC, so the alias is harmless). */
	int slot = -1;
	for (unsigned i = 0; i < nr_windows; i++) {
		struct mmio_window *w = &windows[i];
		if (ps < w->pa + w->size && pe > w->pa) {
			if (w->pa < ps)
				ps = w->pa;
			if (w->pa + w->size > pe)
				pe = w->pa + w->size;
			slot = i;
		}
	}
	if (slot < 0) {
		if (nr_windows == MAX_MMIO_WINDOWS) {
			pr_err("vmm: ioremap(0x%lx, %zu): all %d windows used",
			       (unsigned long)phys, size, MAX_MMIO_WINDOWS);
			goto out;
		}
		slot = nr_windows++;
	}
	/*
	 * Windows of 2 MiB or more get a virtual start congruent to the
	 * physical one modulo 2 MiB, so that every 2 MiB-aligned stretch
	 * inside (a PCIe ECAM, a large BAR) is one PDE instead of 512 PTEs.
	 */
	uint64_t len = pe - ps, va0 = mmio_next;
	if (len >= SZ_2M)
		va0 = ((mmio_next + SZ_2M - 1) & ~(SZ_2M - 1)) + (ps & (SZ_2M - 1));
	if (va0 + len + PAGE_SIZE > VMM_MMIO_BASE + VMM_MMIO_SIZE) {
		pr_err("vmm: ioremap(0x%lx, %zu): MMIO region full", (unsigned long)phys, size);
		goto out;
	}
	for (uint64_t off = 0; off < len;) {
		bool large = !((ps + off) & (SZ_2M - 1)) && off + SZ_2M <= len;
		int err = large ? map_large(va0 + off, ps + off, VMM_WRITE | VMM_UC)
				: vmm_map_page(va0 + off, ps + off, VMM_WRITE | VMM_UC);
		if (err) {
			pr_err("vmm: ioremap(0x%lx, %zu): map failed: %d",
			       (unsigned long)phys, size, err);
			goto out; /* the partial window is leaked: boot-time only */
		}
		off += large ? SZ_2M : PAGE_SIZE;
	}
	windows[slot] = (struct mmio_window){ .pa = ps, .size = len, .va = va0 };
	va = va0 + (phys - ps);
	/* one unmapped page between windows catches a driver running off
	 * the end of its registers */
	mmio_next = va0 + len + PAGE_SIZE;
out:
	local_irq_restore(f);
	return (void *)va;
}

/* ---------------------------------------------------------------- stacks */

void *kstack_alloc(size_t bytes)
{
	uint64_t pages = PAGE_ALIGN_UP(bytes ? bytes : 1) / PAGE_SIZE;
	uint64_t f = local_irq_save();
	uint64_t guard = stack_next;
	uint64_t base = guard + PAGE_SIZE;

	if (!pml4)
		panic("vmm: kstack_alloc() before vmm_init()");

	if (base + pages * PAGE_SIZE > VMM_STACK_BASE + VMM_STACK_SIZE)
		panic("vmm: kernel stack region exhausted");
	stack_next = base + pages * PAGE_SIZE;
	local_irq_restore(f);

	/* The guard page is simply never mapped. */
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pa = phys_alloc_page();
		if (!pa)
			panic("vmm: out of memory for a %zu-byte kernel stack", bytes);
		int err = vmm_map_page(base + i * PAGE_SIZE, pa, VMM_WRITE);
		if (err)
			panic("vmm: cannot map kernel stack page 0x%lx: %d",
			      (unsigned long)(base + i * PAGE_SIZE), err);
	}
	return (void *)(base + pages * PAGE_SIZE); /* page aligned, so 16-aligned */
}

void kstack_free(void *top, size_t bytes)
{
	uint64_t pages = PAGE_ALIGN_UP(bytes ? bytes : 1) / PAGE_SIZE;
	uint64_t base = (uint64_t)top - pages * PAGE_SIZE;

	bool bad = (uint64_t)top & (PAGE_SIZE - 1) || base < VMM_STACK_BASE + PAGE_SIZE ||
		   (uint64_t)top > stack_next;
	if (WARN_ON(bad)) {
		pr_warn("vmm: kstack_free(%p, %zu): not a kernel stack", top, bytes);
		return;
	}
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pte;
		uint64_t va = base + i * PAGE_SIZE;
		if (!vmm_lookup(va, &pte, NULL)) {
			pr_warn("vmm: kstack_free: page 0x%lx not mapped", (unsigned long)va);
			continue;
		}
		vmm_unmap_page(va);
		phys_free_page(pte & PTE_ADDR);
	}
}

bool vmm_is_guard_page(uint64_t va)
{
	/* In the stack region every page that belongs to a stack is mapped;
	 * the unmapped ones below stack_next are guards (or freed stacks,
	 * which are just as much an overflow when touched). */
	return va >= VMM_STACK_BASE && va < stack_next && !vmm_lookup(va, NULL, NULL);
}
