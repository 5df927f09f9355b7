/*
 * cmdline.c - normalization of \cmdline.txt (see cmdline.h).
 */
#include "cmdline.h"

static char cmdline_char(unsigned char c)
{
	return (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
}

size_t cmdline_normalize(char *dst, size_t dst_size, const char *src, size_t src_len,
			 int *truncated)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t cap, pos = 0, keep = 0, i = 0;
	char c;

	*truncated = 0;
	if (dst_size == 0)
		return 0;
	cap = dst_size - 1;

	if (src_len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		i = 3;
	/* pos counts the whole normalized text, even past cap, so that we know
	 * whether what is cut off is more than trailing whitespace. */
	for (; i < src_len; i++, pos++) {
		c = cmdline_char(s[i]);
		if (pos < cap)
			dst[pos] = c;
		if (c != ' ')
			keep = pos + 1;
	}
	if (keep > cap) {
		*truncated = 1;
		keep = cap;
	}
	while (keep > 0 && dst[keep - 1] == ' ')
		keep--;
	dst[keep] = '\0';
	return keep;
}
