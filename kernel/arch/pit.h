/*
 * pit.h - the 8254 programmable interval timer, used only as a reference
 * clock for calibrating the TSC and the LAPIC timer (kernel/timer.c), and
 * silenced otherwise.
 *
 * Intel 82C54 datasheet: control word (port 0x43) and counter modes; the
 * PC wiring: channel 0 -> ISA IRQ 0, channel 2 gated by port 0x61 bit 0,
 * its output readable at port 0x61 bit 5 (no interrupt).
 *
 * Context: boot only, interrupts disabled (the command/data port sequences
 * must not be interleaved).
 */
#ifndef KERNEL_ARCH_PIT_H
#define KERNEL_ARCH_PIT_H

#include <stdint.h>
#include <stdbool.h>

#define PIT_HZ 1193182u   /* input clock: 14.31818 MHz / 12 */

/* Programs channel 2 for a one-shot countdown (mode 0) and writes the low
 * byte of `count`; nothing counts until pit_ch2_go(). Opens the gate and
 * keeps the speaker off. */
void pit_ch2_load(uint16_t count);
/* Writes the high byte: the countdown starts at this port write (one
 * instruction, so a caller can bracket it tightly with TSC reads), and
 * OUT goes high `count` PIT ticks later. */
void pit_ch2_go(uint16_t count);
/* True once the channel 2 countdown has reached zero. */
bool pit_ch2_done(void);
/* Puts channel 0 in one-shot mode so that it stops raising IRQ 0 (and
 * stops costing QEMU a timer event every 55 ms); the kernel's tick is the
 * LAPIC timer. */
void pit_ch0_stop(void);

#endif
