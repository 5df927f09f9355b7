/*
 * check.h - a minimal table-driven test helper for host unit tests.
 * CHECK(cond) records a failure with file:line and keeps going;
 * check_summary(name) prints "name: N passed, M failed" and returns the
 * process exit status.
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) { check_passed++; } \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ_U(a, b) do { \
	unsigned long long __a = (a), __b = (b); \
	if (__a == __b) { check_passed++; } \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s == %s (%llu != %llu)\n", \
		__FILE__, __LINE__, #a, #b, __a, __b); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *__a = (a), *__b = (b); \
	if (__a && __b && strcmp(__a, __b) == 0) { check_passed++; } \
	else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s == \"%s\" (got \"%s\")\n", \
		__FILE__, __LINE__, #a, __b ? __b : "(null)", __a ? __a : "(null)"); } \
} while (0)

static inline int check_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
