/* printf.c - kvsnprintf(); see printf.h for what it supports. */
#include <stdint.h>
#include <stdbool.h>
#include "kernel/lib/printf.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, stored or not */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_num(struct out *o, uint64_t v, unsigned base, bool upper, bool neg,
		    int width, bool left, bool zero)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		pad(o, ' ', width - len);
	if (neg)
		put(o, '-');
	if (!left && zero)
		pad(o, '0', width - len);
	while (n)
		put(o, tmp[--n]);
	if (left)
		pad(o, ' ', width - len);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false, zero = false, alt = false;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '#')
				alt = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		int width = 0, prec = -1;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'h')
				lng--;
			else if (*fmt == 'z')
				lng = 1;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v;
			if (lng >= 1)
				v = lng == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			else
				v = va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng <= -2)
				v = (signed char)v;
			uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
			put_num(&o, u, 10, false, v < 0, width, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v;
			if (lng >= 1)
				v = lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned long long);
			else
				v = va_arg(ap, unsigned int);
			if (lng == -1)
				v = (unsigned short)v;
			else if (lng <= -2)
				v = (unsigned char)v;
			unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			if (alt && base == 16) { /* "%#x": 0x prefix, counted in the width */
				put(&o, '0');
				put(&o, *fmt == 'X' ? 'X' : 'x');
				width = width > 2 ? width - 2 : 0;
			}
			put_num(&o, v, base, *fmt == 'X', false, width, left, zero);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, false, 16, false, true);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while (s[n] && (prec < 0 || n < prec))
				n++;
			if (!left)
				pad(&o, ' ', width - n);
			for (int i = 0; i < n; i++)
				put(&o, s[i]);
			if (left)
				pad(&o, ' ', width - n);
			break;
		}
		case 'c':
			if (!left)
				pad(&o, ' ', width - 1);
			put(&o, (char)va_arg(ap, int));
			if (left)
				pad(&o, ' ', width - 1);
			break;
		case '%':
			put(&o, '%');
			break;
		case 0:
			fmt--; /* lone '%' at the end: stop */
			break;
		default: /* unknown conversion: print it as is, so the bug shows */
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
