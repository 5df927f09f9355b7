/* printk.c - timestamped kernel log to COM1 and a ring buffer; see printk.h. */
#include "kernel/printk.h"
#include "kernel/serial.h"
#include "kernel/time.h"
#include "kernel/irqflags.h"
#include "kernel/lib/printf.h"
#include "kernel/lib/string.h"

int console_loglevel = LOG_INFO;

#define LOG_RING_SIZE 32768
static char log_ring[LOG_RING_SIZE];
static size_t log_head; /* total bytes ever written; index = head % size */

static void ring_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_ring[(log_head + i) % LOG_RING_SIZE] = s[i];
	log_head += n;
}

size_t printk_dump(char *buf, size_t size)
{
	uint64_t flags = local_irq_save();
	size_t avail = log_head < LOG_RING_SIZE ? log_head : LOG_RING_SIZE;
	size_t n = avail < size ? avail : size;
	size_t start = log_head - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = log_ring[(start + i) % LOG_RING_SIZE];
	local_irq_restore(flags);
	return n;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[512];
	uint64_t ns = uptime_ns();
	int n = ksnprintf(line, sizeof(line), "[%5lu.%06lu] ",
			  (unsigned long)(ns / 1000000000ull),
			  (unsigned long)(ns / 1000ull % 1000000ull));
	n += kvsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (n == 0 || line[n - 1] != '\n') {
		line[n++] = '\n';
		line[n] = 0;
	}

	uint64_t flags = local_irq_save();
	ring_write(line, n);
	if (level <= console_loglevel)
		serial_write(line, n);
	local_irq_restore(flags);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

/*
 * Shell output can be kilobytes (`stats`); each byte is a trip into QEMU.
 * Interrupts are kept off only per 64-byte chunk, so a long reply costs
 * the timer a few microseconds of latency instead of lost ticks.
 */
static void console_write_chunked(const char *s, size_t n)
{
	while (n) {
		size_t c = n < 64 ? n : 64;
		uint64_t flags = local_irq_save();
		serial_write(s, c);
		local_irq_restore(flags);
		s += c;
		n -= c;
	}
}

void kprintf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	console_write_chunked(buf, n);
}

void kputs(const char *s)
{
	console_write_chunked(s, strlen(s));
}
