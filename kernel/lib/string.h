/*
 * string.h - the freestanding subset of <string.h> the kernel uses
 * (string.c), and the parsers of command words and numbers (parse.c).
 * All pure: any context.
 */
#ifndef KERNEL_LIB_STRING_H
#define KERNEL_LIB_STRING_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strchr(const char *s, int c);
/* Copies at most size-1 bytes and always NUL-terminates; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);

/*
 * Parses an unsigned integer in base 10, or base 16 with a 0x prefix, that
 * fills the whole of s (no trailing junk, no sign, no overflow). Returns
 * true and stores it in *out on success.
 */
bool parse_u64(const char *s, uint64_t *out);

/*
 * Splits a line into words in place: skips blanks (spaces, tabs) at *s,
 * NUL-terminates the word found there, leaves *s just past it and returns
 * it; NULL when only blanks are left. For the command line and the shell.
 */
char *next_word(char **s);

#endif
