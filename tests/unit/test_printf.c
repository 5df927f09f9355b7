/* Host test of kernel/lib/printf.c, kernel/lib/json.c and parse.c
 * (parse_u64, next_word). */
#include <string.h>
#include <stdint.h>
#include "check.h"
#include "kernel/lib/printf.c"
#include "kernel/lib/json.c"
#include "kernel/lib/parse.c"

static const char *fmt(const char *f, ...)
{
	static char buf[256];
	va_list ap;
	va_start(ap, f);
	kvsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

static void test_printf(void)
{
	CHECK_STR(fmt("%d", 0), "0");
	CHECK_STR(fmt("%d", -42), "-42");
	CHECK_STR(fmt("%5d|", 42), "   42|");
	CHECK_STR(fmt("%-5d|", 42), "42   |");
	CHECK_STR(fmt("%05d", -42), "-0042");
	CHECK_STR(fmt("%u", 4294967295u), "4294967295");
	CHECK_STR(fmt("%lu", 18446744073709551615ul), "18446744073709551615");
	CHECK_STR(fmt("%lld", (long long)INT64_MIN), "-9223372036854775808");
	CHECK_STR(fmt("%x %X", 0xbeefu, 0xbeefu), "beef BEEF");
	CHECK_STR(fmt("%08lx", 0x1234ul), "00001234");
	CHECK_STR(fmt("%p", (void *)0x1000), "0x0000000000001000");
	CHECK_STR(fmt("%s|%5s|%-5s|%.2s", "ab", "ab", "ab", "abc"), "ab|   ab|ab   |ab");
	CHECK_STR(fmt("%s", (char *)NULL), "(null)");
	CHECK_STR(fmt("%c%%", 'x'), "x%");
	CHECK_STR(fmt("%hhu", 300), "44");
	CHECK_STR(fmt("%zu", (size_t)7), "7");
	CHECK_STR(fmt("%*d", 4, 7), "   7");
	CHECK_STR(fmt("%q"), "%q");
	CHECK_STR(fmt("%#lx", 0x1f000ul), "0x1f000");
	CHECK_STR(fmt("%#010x", 0xabu), "0x000000ab");

	/* truncation: always NUL-terminated, returns the untruncated length */
	char small[5];
	int n = ksnprintf(small, sizeof(small), "%s", "abcdefgh");
	CHECK_EQ_U(n, 8);
	CHECK_STR(small, "abcd");
	CHECK_EQ_U(ksnprintf(small, 0, "xyz"), 3);
}

static void test_json(void)
{
	char buf[128];
	struct json j;
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_u64(&j, "a", 1);
	json_obj_begin(&j, "b");
	json_str(&j, "s", "q\"\\\n");
	json_bool(&j, "t", true);
	json_obj_end(&j);
	json_arr_begin(&j, "c");
	json_i64(&j, NULL, -1);
	json_u64(&j, NULL, 2);
	json_arr_end(&j);
	json_hex(&j, "h", 255);
	json_obj_end(&j);
	CHECK_STR(buf, "{\"a\":1,\"b\":{\"s\":\"q\\\"\\\\\\u000a\",\"t\":true},\"c\":[-1,2],\"h\":\"0xff\"}");
	CHECK(!j.overflow);

	json_init(&j, buf, 8);
	json_obj_begin(&j, NULL);
	json_str(&j, "long", "0123456789");
	CHECK(j.overflow);
	CHECK(strlen(buf) < 8);
}

static void test_parse_u64(void)
{
	uint64_t v = 0;
	CHECK(parse_u64("0", &v) && v == 0);
	CHECK(parse_u64("300", &v) && v == 300);
	CHECK(parse_u64("0x1F", &v) && v == 31);
	CHECK(parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
	CHECK(!parse_u64("18446744073709551616", &v));
	CHECK(!parse_u64("", &v));
	CHECK(!parse_u64("0x", &v));
	CHECK(!parse_u64("12a", &v));
	CHECK(!parse_u64("-1", &v));
	CHECK(!parse_u64(NULL, &v));
}

/* Words of a line, as the command line and the shell split it. */
static void test_next_word(void)
{
	static const struct {
		const char *line;
		const char *words[5];
	} cases[] = {
		{ "", { NULL } },
		{ " \t  ", { NULL } },
		{ "help", { "help" } },
		{ "  net   bench\t100 ", { "net", "bench", "100" } },
		{ "a\tb c\t\td", { "a", "b", "c", "d" } },
		{ "ip=10.0.0.2/24 loglevel=7", { "ip=10.0.0.2/24", "loglevel=7" } },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		char *s = buf, *w;
		unsigned n = 0;
		strcpy(buf, cases[i].line);
		while ((w = next_word(&s)) && n < 5) {
			CHECK_STR(w, cases[i].words[n]);
			n++;
		}
		CHECK(w == NULL);
		CHECK(cases[i].words[n] == NULL);   /* no word missed */
		CHECK(next_word(&s) == NULL);       /* and the end stays the end */
	}
}

int main(void)
{
	test_printf();
	test_json();
	test_parse_u64();
	test_next_word();
	return check_summary("test_printf");
}
