/*
 * pit.c - 8254 PIT channel 2 as a calibration stopwatch; see pit.h.
 *
 * Control word (82C54 datasheet, "Control Word Format"): bits 7:6 select
 * the counter, 5:4 the access mode (11 = LSB then MSB), 3:1 the mode, 0 BCD.
 */
#include "kernel/arch/pit.h"
#include "kernel/cpu.h"

#define PIT_CH0        0x40
#define PIT_CH2        0x42
#define PIT_CMD        0x43
#define PIT_SEL_CH0    (0u << 6)
#define PIT_SEL_CH2    (2u << 6)
#define PIT_ACCESS_LOHI (3u << 4)
#define PIT_MODE0      (0u << 1)   /* interrupt on terminal count: one shot */

#define PORT_NMI_SC    0x61        /* PC "NMI status and control" (port B) */
#define NMI_SC_GATE2   0x01        /* channel 2 gate */
#define NMI_SC_SPKR    0x02        /* channel 2 output to the speaker */
#define NMI_SC_OUT2    0x20        /* channel 2 output (read only) */

void pit_ch2_load(uint16_t count)
{
	/* Gate high so the counter runs, speaker off so nothing beeps. */
	outb(PORT_NMI_SC, (inb(PORT_NMI_SC) & ~NMI_SC_SPKR) | NMI_SC_GATE2);
	outb(PIT_CMD, PIT_SEL_CH2 | PIT_ACCESS_LOHI | PIT_MODE0);
	outb(PIT_CH2, count & 0xff);
}

void pit_ch2_go(uint16_t count)
{
	/* Mode 0, LSB/MSB access: the count is loaded, and counting starts
	 * with OUT low, when the second byte is written (82C54, mode 0). */
	outb(PIT_CH2, count >> 8);
}

bool pit_ch2_done(void)
{
	return inb(PORT_NMI_SC) & NMI_SC_OUT2;
}

void pit_ch0_stop(void)
{
	/* Mode 0 with count 0 (= 65536): one last edge after 55 ms, then the
	 * output stays high and no further IRQ 0 is raised. IRQ 0 is masked
	 * in both the 8259 and the IOAPIC anyway. */
	outb(PIT_CMD, PIT_SEL_CH0 | PIT_ACCESS_LOHI | PIT_MODE0);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}
