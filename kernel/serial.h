/*
 * serial.h - the 16550 UART on COM1 (port 0x3F8): console output and shell
 * input. Output is polled (waits for THR empty), so it works in any context
 * including NMI and panic; input is read without blocking.
 */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stdbool.h>

#define COM1_PORT 0x3f8
#define COM1_IRQ  4   /* ISA IRQ of COM1 (before MADT overrides) */

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, unsigned long n);
/* Returns the next received byte, or -1 if none is waiting. Any context. */
int serial_getc(void);
/* Turns on the "received data available" interrupt in the UART (IER bit 0). */
void serial_enable_rx_irq(void);

#endif
