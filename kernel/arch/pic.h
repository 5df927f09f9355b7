/*
 * pic.h - the two legacy 8259A interrupt controllers. The kernel delivers
 * every device interrupt through the I/O APIC, so the 8259s are only moved
 * out of the exception vectors (master 0x20-0x27, slave 0x28-0x2F) and
 * fully masked; LINT0, where their output arrives, is masked in the local
 * APIC too (kernel/arch/lapic.c). Should an 8259 still signal something
 * (the spurious IRQ 7/15 of a request that went away before INTA), the
 * vectors 0x20-0x2F are recognised, counted and acknowledged by the
 * 8259A's rules in irq_dispatch() (kernel/irq.c).
 */
#ifndef KERNEL_ARCH_PIC_H
#define KERNEL_ARCH_PIC_H

#include <stdint.h>

#define PIC_VECTOR_BASE 0x20     /* IRQ n -> vector 0x20 + n */

/* Remaps and masks both 8259s. Boot, IF=0, before lapic_init(). */
void pic_init(void);
/* The interrupt mask registers, slave << 8 | master (0xffff after init).
 * Task context. */
uint16_t pic_get_masks(void);

#endif
