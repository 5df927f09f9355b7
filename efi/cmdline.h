/*
 * cmdline.h - turn the raw bytes of \cmdline.txt into bootinfo.cmdline.
 *
 * Pure logic (no EFI header) so a host unit test can compile cmdline.c.
 */
#ifndef EFI_CMDLINE_H
#define EFI_CMDLINE_H

#include <stddef.h>

/*
 * cmdline_normalize - copy a command line file into a NUL-terminated string.
 * @dst, @dst_size: destination buffer (dst_size includes the NUL)
 * @src, @src_len:  file contents, not NUL-terminated
 * @truncated:      set to 1 if the normalized text did not fit, else 0
 *
 * A leading UTF-8 byte order mark (as Windows editors write) is skipped.
 * Newlines, carriage returns and every other control byte (including NUL,
 * which would otherwise end the string early) become spaces; trailing
 * spaces are trimmed, before and after truncation to dst_size - 1 bytes.
 * Returns the length of the result, without the NUL.
 */
size_t cmdline_normalize(char *dst, size_t dst_size, const char *src, size_t src_len,
			 int *truncated);

#endif
