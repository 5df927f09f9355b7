/*
 * gdt.c - builds and loads the GDT and the TSS (layout and SYSRET order in
 * gdt.h).
 *
 * IST stacks: gdt_init() runs from trap_init(), the second step of kmain,
 * before mm_init() - so that a fault or NMI during memory setup is
 * reported instead of triple-faulting, the NMI/#DF/#MC gates need valid
 * IST stacks before any allocator exists. Those first stacks are static
 * arrays in .bss (no guard page: an overflow of the #DF stack would go
 * unnoticed). Once memory is up, the level-1 initcall ist_stacks_init()
 * swaps them for stacks from kstack_alloc() (kernel/mm/vmm.h), which have
 * an unmapped guard page below them; the static ones are then unused.
 */
#include "kernel/arch/gdt.h"
#include "kernel/mm/vmm.h"
#include "kernel/registry.h"
#include "kernel/printk.h"
#include "kernel/irqflags.h"
#include "kernel/lib/string.h"

/*
 * Code/data descriptor (SDM vol 3A 3.4.5, figure 3-8). Base and limit are
 * ignored in 64-bit mode for CS/DS/ES/SS but we give the flat 4 GiB form
 * (limit 0xfffff, G=1) that the compatibility-mode entry needs anyway.
 *   access: P(7) DPL(6:5) S(4) type(3:0)
 *   flags:  G(3) D/B(2) L(1) AVL(0)
 */
#define SEG_P          0x80
#define SEG_DPL(n)     ((n) << 5)
#define SEG_S          0x10          /* code/data, not system */
#define SEG_CODE_RX    0x0a          /* execute/read */
#define SEG_DATA_RW    0x02          /* read/write */
#define SEG_G          0x8
#define SEG_D          0x4           /* 32-bit default operand size */
#define SEG_L          0x2           /* 64-bit code */

static inline uint64_t seg_desc(uint8_t access, uint8_t flags)
{
	return 0xffffull                      /* limit 15:0 */
	       | ((uint64_t)access << 40)
	       | (0xfull << 48)               /* limit 19:16 */
	       | ((uint64_t)flags << 52);
}

/* TSS descriptor type: 64-bit TSS, available (SDM vol 3A table 3-2). */
#define SYS_TSS64_AVAIL 0x9

static uint64_t gdt[8] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));

/* Boot IST stacks, used from trap_init() until ist_stacks_init()
 * (16-byte aligned tops: SDM vol 3A 6.14.5 aligns RSP anyway, but C
 * wants it). */
static uint8_t boot_ist[3][IST_STACK_SIZE] __attribute__((aligned(16)));
/* RSP0 until ist_stacks_init(): nothing runs in ring 3 before the
 * shell starts a user task, but a valid value keeps a stray ring-3 entry
 * from using garbage. */
static uint8_t boot_rsp0[IST_STACK_SIZE] __attribute__((aligned(16)));
static int ist_guarded;

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static void set_tss_desc(unsigned index, uint64_t base, uint32_t limit)
{
	/* 16-byte system descriptor, SDM vol 3A 8.2.3, figure 8-4. */
	gdt[index] = (limit & 0xffff)
		     | ((base & 0xffffff) << 16)
		     | ((uint64_t)(SEG_P | SYS_TSS64_AVAIL) << 40)
		     | ((uint64_t)((limit >> 16) & 0xf) << 48)
		     | (((base >> 24) & 0xff) << 56);
	gdt[index + 1] = base >> 32;
}

void gdt_init(void)
{
	gdt[0] = 0;
	gdt[GDT_KERNEL_CS >> 3] = seg_desc(SEG_P | SEG_DPL(0) | SEG_S | SEG_CODE_RX, SEG_G | SEG_L);
	gdt[GDT_KERNEL_DS >> 3] = seg_desc(SEG_P | SEG_DPL(0) | SEG_S | SEG_DATA_RW, SEG_G | SEG_D);
	gdt[GDT_USER32_CS >> 3] = seg_desc(SEG_P | SEG_DPL(3) | SEG_S | SEG_CODE_RX, SEG_G | SEG_D);
	gdt[GDT_USER_DS >> 3]   = seg_desc(SEG_P | SEG_DPL(3) | SEG_S | SEG_DATA_RW, SEG_G | SEG_D);
	gdt[GDT_USER_CS >> 3]   = seg_desc(SEG_P | SEG_DPL(3) | SEG_S | SEG_CODE_RX, SEG_G | SEG_L);

	memset(&tss, 0, sizeof(tss));
	tss.rsp[0] = (uint64_t)(boot_rsp0 + sizeof(boot_rsp0));
	tss.ist[IST_NMI] = (uint64_t)(boot_ist[0] + IST_STACK_SIZE);
	tss.ist[IST_DOUBLE_FAULT] = (uint64_t)(boot_ist[1] + IST_STACK_SIZE);
	tss.ist[IST_MACHINE_CHECK] = (uint64_t)(boot_ist[2] + IST_STACK_SIZE);
	/* I/O bitmap base beyond the limit: no bitmap, so ring 3 gets #GP on
	 * every port access (SDM vol 3A 20.5.2). */
	tss.iomap_base = sizeof(tss);
	set_tss_desc(GDT_TSS >> 3, (uint64_t)&tss, sizeof(tss) - 1);

	struct desc_ptr p = { sizeof(gdt) - 1, (uint64_t)gdt };
	/*
	 * CS can only be reloaded by a far transfer: push the new CS and the
	 * return address and do a far return. DS, ES and SS get the kernel
	 * data selector (SS is what every interrupt frame then saves and IRET
	 * reloads; UEFI's selectors index its own GDT, soon freed); FS and GS
	 * get the null selector - their bases are set through MSRs if needed.
	 */
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"ltr %w3"
		:: "m"(p), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS), "r"(GDT_TSS)
		: "rax", "memory");
}

void tss_set_rsp0(uint64_t rsp0)
{
	tss.rsp[0] = rsp0;
}

int tss_ist_range(unsigned ist, uint64_t *bottom, uint64_t *top)
{
	if (ist < 1 || ist > 7 || !tss.ist[ist])
		return 0;
	*top = tss.ist[ist];
	*bottom = *top - IST_STACK_SIZE;
	return 1;
}

int tss_ist_guarded(void)
{
	return ist_guarded;
}

/*
 * Replaces the boot IST stacks (and RSP0) with guarded ones. Initcall
 * level 1: runs after the memory manager is up, in task context.
 * kstack_alloc() panics rather than fail. Each 64-bit store to a TSS slot
 * is atomic, so an NMI arriving meanwhile uses either the old or the new
 * stack, both valid.
 */
static int ist_stacks_init(void)
{
	static const unsigned slots[] = { IST_NMI, IST_DOUBLE_FAULT, IST_MACHINE_CHECK };

	for (unsigned i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		tss.ist[slots[i]] = (uint64_t)kstack_alloc(IST_STACK_SIZE);
	tss.rsp[0] = (uint64_t)kstack_alloc(IST_STACK_SIZE);
	ist_guarded = 1;
	pr_info("gdt: IST stacks NMI=0x%lx DF=0x%lx MC=0x%lx (tops, with guard pages)",
		(unsigned long)tss.ist[IST_NMI], (unsigned long)tss.ist[IST_DOUBLE_FAULT],
		(unsigned long)tss.ist[IST_MACHINE_CHECK]);
	return 0;
}
INITCALL(1, ist_stacks_init);
