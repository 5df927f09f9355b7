/*
 * gdt.h - the kernel's GDT and its one TSS.
 *
 * In 64-bit mode segmentation is mostly off (SDM vol 3A 3.2.4): the GDT
 * still decides CPL through CS, and the TSS still supplies the stacks the
 * CPU switches to on an interrupt (RSP0 from ring 3, IST1..7 for chosen
 * vectors; SDM vol 3A 8.7 and 6.14.5).
 *
 * Selector layout (index << 3 | RPL). The order of the user entries is
 * fixed by SYSCALL/SYSRET, which derive every selector from MSR_STAR
 * (SDM vol 2B SYSCALL and SYSRET; vol 3A 5.8.8):
 *
 *   SYSCALL:      CS = STAR[47:32]          SS = STAR[47:32] + 8
 *   SYSRET (64):  CS = STAR[63:48] + 16     SS = STAR[63:48] + 8   (RPL forced to 3)
 *
 *   index  sel   descriptor
 *     0    0x00  null
 *     1    0x08  kernel code, 64-bit (L=1), DPL 0       <- STAR[47:32]
 *     2    0x10  kernel data, DPL 0                     <- SYSCALL's SS
 *     3    0x18  user code, 32-bit (compat), DPL 3      <- STAR[63:48] (0x1b)
 *     4    0x20  user data, DPL 3  (used as 0x23)       <- SYSRET's SS
 *     5    0x28  user code, 64-bit, DPL 3 (used as 0x2b) <- SYSRET's CS
 *    6-7   0x30  64-bit TSS (a 16-byte system descriptor, SDM vol 3A 8.2.3)
 *
 * The 32-bit user code entry exists only because SYSRET's base must point
 * at it; nothing runs in compatibility mode here.
 */
#ifndef KERNEL_ARCH_GDT_H
#define KERNEL_ARCH_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CS   0x08
#define GDT_KERNEL_DS   0x10
#define GDT_USER32_CS   0x1b
#define GDT_USER_DS     0x23
#define GDT_USER_CS     0x2b
#define GDT_TSS         0x30

/* MSR_STAR's selector fields for the layout above (bits 31:0, the legacy
 * SYSCALL EIP, stay 0). Whoever writes STAR for syscall/sysret uses this. */
#define GDT_STAR_VALUE  (((uint64_t)GDT_USER32_CS << 48) | ((uint64_t)GDT_KERNEL_CS << 32))

/* Interrupt stack table slots (TSS.IST1..7; 0 in a gate = no switch). */
#define IST_NMI         1
#define IST_DOUBLE_FAULT 2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE  16384

/* 64-bit TSS, SDM vol 3A 8.7, figure 8-11. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];      /* RSP0..2: stack loaded on a change to CPL 0..2 */
	uint64_t ist[8];      /* ist[1..7] = IST1..IST7; ist[0] is the reserved
	                       * quadword before IST1, so ist[n] = ISTn */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;  /* offset of the I/O bitmap; >= limit: none */
} __attribute__((packed));
_Static_assert(__builtin_offsetof(struct tss64, ist[1]) == 0x24, "IST1 at offset 0x24");
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes (SDM vol 3A figure 8-11)");

/*
 * Loads the GDT, reloads every segment register and loads the TSS, with
 * IST stacks from static arrays (no guard pages yet). Boot only, IF=0,
 * before the IDT is used.
 */
void gdt_init(void);

/* Stack the CPU switches to on an interrupt from ring 3. The scheduler sets
 * it to the top of the next user task's kernel stack, IF=0. */
void tss_set_rsp0(uint64_t rsp0);

/* [bottom, top) of the stack behind IST slot `ist` (1..7), for reports
 * ("#DF ran on its IST stack"); false if the slot is unused. Any context. */
int tss_ist_range(unsigned ist, uint64_t *bottom, uint64_t *top);

/* Whether the IST stacks have guard pages: false on the boot stacks, true
 * once ist_stacks_init() (initcall level 1) has replaced them. Any
 * context. */
int tss_ist_guarded(void);

#endif
