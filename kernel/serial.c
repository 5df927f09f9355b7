/*
 * serial.c - 16550 UART driver for COM1. Register map: PC16550D datasheet,
 * table 2 (offsets from the base port; DLAB = LCR bit 7 selects the divisor
 * latch at offsets 0 and 1).
 */
#include "kernel/serial.h"
#include "kernel/cpu.h"

#define UART_THR 0 /* transmit holding (write, DLAB=0) */
#define UART_RBR 0 /* receive buffer (read, DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1 /* interrupt enable (DLAB=0) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */

#define IER_RDA      0x01 /* received data available */
#define LCR_8N1      0x03
#define LCR_DLAB     0x80
#define FCR_ENABLE   0x07 /* enable and clear both FIFOs */
#define MCR_DTR_RTS  0x03
#define MCR_OUT2     0x08 /* gates the UART's IRQ line on PCs */
#define LSR_DR       0x01 /* data ready */
#define LSR_THRE     0x20 /* transmit holding register empty */

void serial_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DLL, 1); /* 115200 baud = 115200 / 1 */
	outb(COM1_PORT + UART_DLM, 0);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, FCR_ENABLE);
	outb(COM1_PORT + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
}

void serial_enable_rx_irq(void)
{
	outb(COM1_PORT + UART_IER, IER_RDA);
}

void serial_putc(char c)
{
	/* Bounded: a real UART drains THR within one character time; QEMU's
	 * is always empty. The bound keeps a broken UART from hanging panic. */
	for (int i = 0; i < 100000 && !(inb(COM1_PORT + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

int serial_getc(void)
{
	if (!(inb(COM1_PORT + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1_PORT + UART_RBR);
}
