/*
 * mm.c - ties pmm, vmm and heap together: the boot step, the late release
 * of boot-services memory, the "mem" stats section and the `mem` command.
 */
#include "kernel/mm/mm.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/vmm.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/memmap.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "kernel/cpu.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"
#include "boot/bootinfo.h"

extern struct bootinfo boot_info; /* kernel/main.c */
extern char __kernel_start[], __kernel_end[];

void mm_init(void)
{
	pmm_init();   /* pages from the UEFI map (boot-services memory held back) */
	vmm_init();   /* our page tables: identity RAM, W^X image; UEFI's are dropped */
	heap_init();  /* kmalloc */
}

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/*
 * Initcall (level 1, after the kernel has loaded its own GDT, IDT and page
 * tables in kmain): boot-services memory joins the allocator. Any range
 * that still holds the live GDT, IDT, page tables, stack or the RSDP is
 * kept, so an early init order change cannot make us free what the CPU is
 * using.
 */
static int mm_release_boot_services(void)
{
	struct desc_ptr gdtr, idtr;
	uint64_t rsp;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	uint64_t keep[] = { gdtr.base, idtr.base, read_cr3() & PAGE_MASK, rsp,
			    boot_info.acpi_rsdp_phys };
	uint64_t before = pmm_deferred_pages();
	uint64_t freed = pmm_release_deferred(keep, sizeof(keep) / sizeof(keep[0]));
	pr_info("mm: %lu KiB of boot-services memory released%s", freed * 4,
		freed < before ? " (some kept: still in use by the CPU or ACPI)" : "");
	return 0;
}
INITCALL(1, mm_release_boot_services);

static uint64_t kernel_image_bytes(void)
{
	return (uint64_t)(__kernel_end - __kernel_start);
}

static void mem_stats(struct json *j)
{
	const struct memmap *mm = pmm_memmap();
	struct pmm_stats p;
	struct heap_stats h;

	pmm_get_stats(&p);
	heap_get_stats(&h);
	json_u64(j, "total_kib", mm->total_bytes / 1024);
	json_u64(j, "usable_kib", p.total_pages * 4);
	json_u64(j, "free_kib", p.free_pages * 4);
	json_u64(j, "held_kib", pmm_deferred_pages() * 4);
	json_u64(j, "page_allocs", p.allocs);
	json_u64(j, "page_frees", p.frees);
	json_u64(j, "page_failures", p.failures);
	json_u64(j, "page_bad_frees", p.bad_frees);
	json_u64(j, "heap_bytes_in_use", h.bytes_in_use);
	json_u64(j, "heap_bytes_reserved", h.bytes_reserved);
	json_u64(j, "heap_allocs", h.allocs);
	json_u64(j, "heap_frees", h.frees);
	json_u64(j, "heap_failures", h.failures);
	json_u64(j, "heap_bad_frees", h.bad_frees);
	json_u64(j, "kernel_image_kib", kernel_image_bytes() / 1024);
	json_u64(j, "page_table_pages", vmm_table_pages());
}
STATS_SECTION("mem", mem_stats);

void mm_info_print(void)
{
	const struct memmap *mm = pmm_memmap();
	struct pmm_stats p;
	struct heap_stats h;

	pmm_get_stats(&p);
	heap_get_stats(&h);
	kprintf("memory: %lu KiB RAM, %lu KiB usable, %lu KiB free, %lu KiB held (boot services)\n",
		mm->total_bytes / 1024, p.total_pages * 4, p.free_pages * 4,
		pmm_deferred_pages() * 4);
	kprintf("memory: kernel image 0x%lx-0x%lx (%lu KiB), %lu page-table pages, heap %lu bytes in use of %lu KiB\n",
		(uint64_t)__kernel_start, (uint64_t)__kernel_end, kernel_image_bytes() / 1024,
		vmm_table_pages(), h.bytes_in_use, h.bytes_reserved / 1024);
}

static void mem_map_print(void)
{
	const struct memmap *mm = pmm_memmap();
	uint64_t s, e, fr;

	kprintf("usable ranges (allocator zones):\n");
	for (unsigned i = 0; pmm_zone_info(i, &s, &e, &fr); i++)
		kprintf("  0x%010lx-0x%010lx %8lu KiB, %8lu KiB free\n", s, e, (e - s) / 1024, fr * 4);
	kprintf("RAM identity-mapped RW NX:\n");
	for (unsigned i = 0; i < mm->nr_ram; i++)
		kprintf("  0x%010lx-0x%010lx %8lu KiB\n", mm->ram[i].start, mm->ram[i].end,
			(mm->ram[i].end - mm->ram[i].start) / 1024);
	kprintf("ACPI identity-mapped R NX:\n");
	for (unsigned i = 0; i < mm->nr_acpi; i++)
		kprintf("  0x%010lx-0x%010lx %8lu KiB\n", mm->acpi[i].start, mm->acpi[i].end,
			(mm->acpi[i].end - mm->acpi[i].start) / 1024);
}

static int cmd_mem(int argc, char **argv)
{
	struct pmm_stats p;
	struct heap_stats h;

	if (argc == 2 && !strcmp(argv[1], "map")) {
		mem_map_print();
		return 0;
	}
	if (argc != 1)
		return -EINVAL;
	pmm_get_stats(&p);
	heap_get_stats(&h);
	mm_info_print();
	kprintf("pages: %lu allocs, %lu frees, %lu failures, %lu bad frees, %lu bitmap pages\n",
		p.allocs, p.frees, p.failures, p.bad_frees, p.reserved_pages);
	kprintf("heap: %lu allocs, %lu frees, %lu failures, %lu bad frees\n",
		h.allocs, h.frees, h.failures, h.bad_frees);
	return 0;
}
SHELL_CMD("mem", cmd_mem, "[map]", "memory summary; `mem map` lists usable ranges");
