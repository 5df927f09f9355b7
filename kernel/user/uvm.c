/*
 * uvm.c - user address spaces (layout in user.h) and the per-switch
 * loading of CR3, TSS.RSP0 and the syscall stack.
 *
 * Page-table entries: SDM vol 3A 4.5 (4-level paging), the tables
 * "Format of a PML4 Entry" ... "Format of a Page-Table Entry that Maps a
 * 4-KByte Page". A user page needs U/S=1 at every level (4.6.1: the
 * access rights of all levels combine), so the user slot's table entries
 * carry P|RW|U and each leaf carries the real restriction (RW or not, XD
 * unless it is code). The kernel's own PML4 entries, copied in, have no
 * U bit, which is what keeps ring 3 out of the kernel.
 *
 * Every page of an address space (tables included) is recorded in a
 * small array so that user_mm_destroy() frees exactly what create took.
 */
#include "kernel/user/user.h"
#include "kernel/sched/task.h"
#include "kernel/arch/gdt.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/heap.h"
#include "kernel/cpu.h"
#include "kernel/irqflags.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/lib/string.h"

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define UMM_MAX_PAGES 64

struct user_mm {
	uint64_t pml4_pa;
	uint64_t shared_pa;
	unsigned nr_pages;
	uint64_t pages[UMM_MAX_PAGES];   /* every page owned, tables included */
};

struct cpu_area cpu_area = { .self = (uint64_t)&cpu_area };
static uint64_t kernel_cr3;      /* the kernel's PML4 (kernel threads run on it) */
static uint64_t loaded_cr3;

static uint64_t nx_bit(void)
{
	return (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
}

static uint64_t mm_page(struct user_mm *mm)
{
	if (mm->nr_pages == UMM_MAX_PAGES)
		return 0;
	uint64_t pa = phys_alloc_page();   /* zeroed */
	if (pa)
		mm->pages[mm->nr_pages++] = pa;
	return pa;
}

/* Maps va -> pa in mm with leaf bits; builds missing tables. */
static int mm_map(struct user_mm *mm, uint64_t va, uint64_t pa, uint64_t leaf)
{
	uint64_t *t = phys_to_virt(mm->pml4_pa);

	for (int level = 4; level > 1; level--) {
		uint64_t *e = &t[(va >> (12 + 9 * (level - 1))) & 511];
		if (!(*e & PTE_P)) {
			uint64_t tp = mm_page(mm);
			if (!tp)
				return -1;
			*e = tp | PTE_P | PTE_W | PTE_U;
		}
		t = phys_to_virt(*e & PTE_ADDR);
	}
	t[(va >> 12) & 511] = pa | leaf;
	return 0;
}

struct user_mm *user_mm_create(const void *code, size_t len)
{
	uint64_t nx = nx_bit();
	struct user_mm *mm;

	if (len == 0 || len > USER_CODE_MAX)
		return NULL;
	mm = kzalloc(sizeof(*mm));
	if (!mm)
		return NULL;
	mm->pml4_pa = mm_page(mm);
	if (!mm->pml4_pa)
		goto fail;

	/* code: filled through the kernel's identity map, then mapped R-X */
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t pa = mm_page(mm);
		size_t n = len - off < PAGE_SIZE ? len - off : PAGE_SIZE;
		if (!pa)
			goto fail;
		memcpy(phys_to_virt(pa), (const char *)code + off, n);
		if (mm_map(mm, USER_CODE + off, pa, PTE_P | PTE_U))
			goto fail;
	}
	mm->shared_pa = mm_page(mm);
	if (!mm->shared_pa || mm_map(mm, USER_SHARED, mm->shared_pa, PTE_P | PTE_W | PTE_U | nx))
		goto fail;
	for (unsigned i = 1; i <= USER_STACK_PAGES; i++) {
		uint64_t pa = mm_page(mm);
		if (!pa || mm_map(mm, USER_STACK_TOP - i * PAGE_SIZE, pa, PTE_P | PTE_W | PTE_U | nx))
			goto fail;
	}
	return mm;
fail:
	user_mm_destroy(mm);
	return NULL;
}

void user_mm_destroy(struct user_mm *mm)
{
	if (!mm)
		return;
	WARN_ON(mm->pml4_pa && loaded_cr3 == mm->pml4_pa);
	for (unsigned i = 0; i < mm->nr_pages; i++)
		phys_free_page(mm->pages[i]);
	kfree(mm);
}

uint64_t user_mm_cr3(const struct user_mm *mm)
{
	return mm->pml4_pa;
}

uint64_t user_progress(const struct task *t)
{
	if (!t->mm || !t->mm->shared_pa)
		return 0;
	return *(volatile uint64_t *)phys_to_virt(t->mm->shared_pa);
}

/*
 * Copies the kernel's PML4 entries (all but the user slot) into a user
 * PML4. Done at every switch to a user task rather than once at
 * creation: a kernel mapping made later in a slot that had no table yet
 * (kstack_alloc, ioremap) creates a new PML4 entry in the kernel's PML4
 * only. Deeper tables are shared, so nothing below the PML4 needs this.
 * 511 stores per switch to a user task; IF=0.
 */
static void sync_kernel_entries(uint64_t user_pml4_pa)
{
	const uint64_t *k = phys_to_virt(kernel_cr3 & PTE_ADDR);
	uint64_t *u = phys_to_virt(user_pml4_pa);

	for (unsigned i = 0; i < 512; i++)
		if (i != USER_PML4_SLOT)
			u[i] = k[i];
}

void user_switch_mm(struct task *next)
{
	uint64_t cr3;

	if (!kernel_cr3)
		kernel_cr3 = loaded_cr3 = read_cr3();
	if (next->mm) {
		cr3 = next->mm->pml4_pa;
		sync_kernel_entries(cr3);
	} else {
		cr3 = kernel_cr3;
	}
	if (cr3 != loaded_cr3) {
		write_cr3(cr3);     /* flushes the non-global (user) TLB entries */
		loaded_cr3 = cr3;
	}
	/* Where the CPU puts the frame of an interrupt from ring 3 (SDM
	 * vol 3A 6.14.2 via TSS.RSP0) and where syscall_entry moves to:
	 * the top of next's kernel stack, empty whenever next is in ring 3. */
	tss_set_rsp0((uint64_t)next->kstack_top);
	cpu_area.kernel_rsp = (uint64_t)next->kstack_top;
}
