/*
 * json.h - a small JSON writer into a caller's buffer, for the shell's
 * one-line `stats`. Commas are inserted automatically; on overflow the
 * output is truncated and j->overflow is set (callers report it rather than
 * print broken JSON). Pure: no I/O, no allocation.
 */
#ifndef KERNEL_LIB_JSON_H
#define KERNEL_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json {
	char *buf;
	size_t size;
	size_t len;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool overflow;
};

void json_init(struct json *j, char *buf, size_t size);
void json_obj_begin(struct json *j, const char *key);   /* key NULL in arrays / top */
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_str(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, bool v);
void json_hex(struct json *j, const char *key, uint64_t v); /* as "0x..." string */

#endif
