/*
 * idt.h - the interrupt descriptor table: 256 gates, every one an
 * interrupt gate (IF cleared on entry) to the stubs in isr.asm.
 *
 * Gate format: SDM vol 3A 6.14.1, figure 6-8 (16 bytes). The IST field
 * (bits 2:0 of byte 4) makes the CPU switch to TSS.ISTn even when no
 * privilege change happens; it is set for NMI (IST1), #DF (IST2) and #MC
 * (IST3), the vectors that must run on a known-good stack (gdt.h).
 * The DPL is what `int n` from that ring needs (SDM vol 3A 6.12.1.1); it
 * is 0 everywhere except #BP and #OF (3, so `int3`/`into` work from user
 * mode as in Linux) and whatever trap_set_soft_handler() opens.
 */
#ifndef KERNEL_ARCH_IDT_H
#define KERNEL_ARCH_IDT_H

#include <stdint.h>

#define IDT_ENTRIES 256

/* Fills and loads the IDT. Boot, IF=0, after gdt_init() (gates name
 * GDT_KERNEL_CS). */
void idt_init(void);

/* Changes one gate's DPL. Boot/task context, before the vector can
 * fire. */
void idt_set_dpl(unsigned vector, unsigned dpl);

#endif
