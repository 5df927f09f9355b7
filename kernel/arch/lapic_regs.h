/*
 * lapic_regs.h - xAPIC local APIC registers (memory-mapped, 4 KiB page at
 * IA32_APIC_BASE). Offsets and bits only, no logic.
 *
 * Intel SDM vol. 3A, chapter 10 "Advanced Programmable Interrupt
 * Controller (APIC)" (chapter 11 in editions from 2023 on; section numbers
 * below follow the older numbering, 10.x = 11.x). Register map: table 10-1.
 * Every register is 32 bits wide on a 16-byte boundary and must be accessed
 * with aligned 32-bit loads and stores (10.4.1).
 *
 * Access legend: RW read/write, RO read-only, WO write-only.
 */
#ifndef KERNEL_ARCH_LAPIC_REGS_H
#define KERNEL_ARCH_LAPIC_REGS_H

/* IA32_APIC_BASE MSR (10.4.4, figure 10-5). */
#define APIC_BASE_BSP        (1ull << 8)
#define APIC_BASE_EXTD       (1ull << 10)  /* x2APIC mode */
#define APIC_BASE_ENABLE     (1ull << 11)  /* global enable */
#define APIC_BASE_ADDR_MASK  0x000ffffffffff000ull

#define LAPIC_ID        0x020  /* RW  bits 31:24 = APIC ID (10.4.6) */
#define LAPIC_VERSION   0x030  /* RO  (10.4.8, figure 10-7) */
#define LAPIC_TPR       0x080  /* RW  task priority (10.8.3.1) */
#define LAPIC_APR       0x090  /* RO  arbitration priority */
#define LAPIC_PPR       0x0a0  /* RO  processor priority (10.8.3.1) */
#define LAPIC_EOI       0x0b0  /* WO  write 0 (10.8.5) */
#define LAPIC_LDR       0x0d0  /* RW  logical destination */
#define LAPIC_DFR       0x0e0  /* RW  destination format */
#define LAPIC_SVR       0x0f0  /* RW  spurious interrupt vector (10.9) */
#define LAPIC_ISR       0x100  /* RO  in-service, 8 x 32 bits at 0x10 steps */
#define LAPIC_TMR       0x180  /* RO  trigger mode (1 = level) */
#define LAPIC_IRR       0x200  /* RO  interrupt request */
#define LAPIC_ESR       0x280  /* RW  error status: write, then read (10.5.3) */
#define LAPIC_LVT_CMCI  0x2f0  /* RW  only if max LVT >= 6 */
#define LAPIC_ICR_LO    0x300  /* RW  interrupt command, low half sends (10.6.1) */
#define LAPIC_ICR_HI    0x310  /* RW  bits 31:24 destination */
#define LAPIC_LVT_TIMER 0x320  /* RW  (10.5.1, figure 10-8) */
#define LAPIC_LVT_THERM 0x330  /* RW  only if max LVT >= 5 */
#define LAPIC_LVT_PERF  0x340  /* RW  only if max LVT >= 4 */
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380  /* RW  initial count; writing it starts the timer */
#define LAPIC_TIMER_CCR 0x390  /* RO  current count */
#define LAPIC_TIMER_DCR 0x3e0  /* RW  divide configuration (figure 10-10) */

/* Version register. */
#define LAPIC_VERSION_VER(v)    ((v) & 0xff)
#define LAPIC_VERSION_MAXLVT(v) (((v) >> 16) & 0xff)

/* SVR (10.9, figure 10-23). */
#define LAPIC_SVR_ENABLE        (1u << 8)   /* APIC software enable */

/* LVT entries (figure 10-8). */
#define LAPIC_LVT_VECTOR_MASK   0xffu
#define LAPIC_LVT_DM_FIXED      (0u << 8)
#define LAPIC_LVT_DM_NMI        (4u << 8)
#define LAPIC_LVT_DM_EXTINT     (7u << 8)
#define LAPIC_LVT_PENDING       (1u << 12)  /* RO delivery status */
#define LAPIC_LVT_ACTIVE_LOW    (1u << 13)  /* LINT0/1 only */
#define LAPIC_LVT_LEVEL         (1u << 15)  /* LINT0/1, fixed delivery only */
#define LAPIC_LVT_MASKED        (1u << 16)
#define LAPIC_LVT_TIMER_ONESHOT  (0u << 17)
#define LAPIC_LVT_TIMER_PERIODIC (1u << 17)

/* Timer divide configuration: bits 3,1:0 (figure 10-10). */
#define LAPIC_DCR_DIV16         0x3u

/* ICR (10.6.1, figure 10-12). */
#define LAPIC_ICR_DM_FIXED      (0u << 8)
#define LAPIC_ICR_DM_NMI        (4u << 8)
#define LAPIC_ICR_DEST_PHYS     (0u << 11)
#define LAPIC_ICR_BUSY          (1u << 12)  /* RO delivery status: send pending */
#define LAPIC_ICR_ASSERT        (1u << 14)
#define LAPIC_ICR_EDGE          (0u << 15)
#define LAPIC_ICR_SH_NONE       (0u << 18)
#define LAPIC_ICR_SH_SELF       (1u << 18)
#define LAPIC_ICR_DEST_SHIFT    24          /* in ICR_HI */

/* ESR bits (10.5.3, figure 10-9). */
#define LAPIC_ESR_SEND_CS       (1u << 0)
#define LAPIC_ESR_RECV_CS       (1u << 1)
#define LAPIC_ESR_SEND_ACCEPT   (1u << 2)
#define LAPIC_ESR_RECV_ACCEPT   (1u << 3)
#define LAPIC_ESR_REDIR_IPI     (1u << 4)
#define LAPIC_ESR_SEND_ILLEGAL  (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL  (1u << 6)
#define LAPIC_ESR_ILLEGAL_REG   (1u << 7)

#endif
