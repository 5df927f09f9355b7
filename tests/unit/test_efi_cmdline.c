/*
 * test_efi_cmdline.c - host unit test of the loader's \cmdline.txt
 * normalization (efi/cmdline.c, compiled in as is). Table-driven.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "efi/cmdline.c"

struct cmdline_case {
	const char *in;
	size_t in_len;     /* 0: strlen(in) */
	size_t dst_size;
	const char *want;
	int want_truncated;
};

static const struct cmdline_case cases[] = {
	{ "", 0, 16, "", 0 },
	{ "net=e1000", 0, 16, "net=e1000", 0 },
	{ "a=1\nb=2\n", 0, 16, "a=1 b=2", 0 },
	{ "a=1\r\nb=2\r\n", 0, 16, "a=1  b=2", 0 },
	{ "a=1 \t \n\n  ", 0, 16, "a=1", 0 },
	{ "  lead", 0, 16, "  lead", 0 },          /* only trailing space is trimmed */
	{ "\xef\xbb\xbf" "bom=1\n", 0, 16, "bom=1", 0 },
	{ "nul\0byte", 8, 16, "nul byte", 0 },     /* a NUL must not end the line early */
	{ "0123456789", 0, 11, "0123456789", 0 },  /* exactly fits */
	{ "0123456789\n\n", 0, 11, "0123456789", 0 }, /* fits once trimmed: no warning */
	{ "0123456789x", 0, 11, "0123456789", 1 },
	{ "01234 6789", 0, 6, "01234", 1 },        /* cut at a space: trimmed again */
	{ "abc", 0, 1, "", 1 },
	{ "   \n", 0, 1, "", 0 },
};

int main(void)
{
	char dst[64];
	int truncated;
	size_t len;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cmdline_case *c = &cases[i];
		size_t in_len = c->in_len ? c->in_len : strlen(c->in);
		/* Exact-size heap copies, so ASan catches overruns either side. */
		char *in = malloc(in_len ? in_len : 1);
		char *out = malloc(c->dst_size);

		memcpy(in, c->in, in_len);
		memset(out, 'X', c->dst_size);
		len = cmdline_normalize(out, c->dst_size, in, in_len, &truncated);
		memcpy(dst, out, c->dst_size);
		CHECK_STR(dst, c->want);
		CHECK_EQ_U(len, strlen(c->want));
		CHECK_EQ_U(truncated, c->want_truncated);
		free(in);
		free(out);
	}
	/* A zero-size destination writes nothing. */
	len = cmdline_normalize(NULL, 0, "x", 1, &truncated);
	CHECK_EQ_U(len, 0);
	return check_summary("test_efi_cmdline");
}
