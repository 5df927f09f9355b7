/* json.c - JSON writer; see json.h. */
#include "kernel/lib/json.h"
#include "kernel/lib/printf.h"

static void emit(struct json *j, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (j->len + 1 >= j->size) {
			j->overflow = true;
			return;
		}
		j->buf[j->len++] = s[i];
	}
	j->buf[j->len] = 0;
}

static void emit_str(struct json *j, const char *s)
{
	emit(j, "\"", 1);
	for (; *s; s++) {
		char esc[8];
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = c;
			emit(j, esc, 2);
		} else if (c < 0x20) {
			int n = ksnprintf(esc, sizeof(esc), "\\u%04x", c);
			emit(j, esc, n);
		} else {
			emit(j, (const char *)&c, 1);
		}
	}
	emit(j, "\"", 1);
}

static void member(struct json *j, const char *key)
{
	if (j->depth > 0 && j->need_comma[j->depth - 1])
		emit(j, ",", 1);
	if (j->depth > 0)
		j->need_comma[j->depth - 1] = true;
	if (key) {
		emit_str(j, key);
		emit(j, ":", 1);
	}
}

void json_init(struct json *j, char *buf, size_t size)
{
	j->buf = buf;
	j->size = size;
	j->len = 0;
	j->depth = 0;
	j->overflow = false;
	if (size)
		buf[0] = 0;
}

static void open(struct json *j, const char *key, const char *c)
{
	member(j, key);
	emit(j, c, 1);
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
	j->depth++;
}

static void close(struct json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	emit(j, c, 1);
}

void json_obj_begin(struct json *j, const char *key) { open(j, key, "{"); }
void json_obj_end(struct json *j) { close(j, "}"); }
void json_arr_begin(struct json *j, const char *key) { open(j, key, "["); }
void json_arr_end(struct json *j) { close(j, "]"); }

void json_u64(struct json *j, const char *key, uint64_t v)
{
	char tmp[24];
	member(j, key);
	emit(j, tmp, ksnprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v));
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	char tmp[24];
	member(j, key);
	emit(j, tmp, ksnprintf(tmp, sizeof(tmp), "%lld", (long long)v));
}

void json_hex(struct json *j, const char *key, uint64_t v)
{
	char tmp[24];
	member(j, key);
	emit(j, tmp, ksnprintf(tmp, sizeof(tmp), "\"0x%llx\"", (unsigned long long)v));
}

void json_str(struct json *j, const char *key, const char *s)
{
	member(j, key);
	emit_str(j, s);
}

void json_bool(struct json *j, const char *key, bool v)
{
	member(j, key);
	emit(j, v ? "true" : "false", v ? 4 : 5);
}
