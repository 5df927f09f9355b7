/*
 * util.h - small helpers shared by the loader's files. Boot services only.
 */
#ifndef EFI_UTIL_H
#define EFI_UTIL_H

#include <efi.h>

/* FreePool that reports (but otherwise ignores) a failure: a buffer we
 * cannot free costs memory, not correctness. @what names it in the message. */
void util_free_pool(void *p, CHAR16 *what);

/* Close a file handle the same way. */
void util_close_file(EFI_FILE_PROTOCOL *f, CHAR16 *what);

#endif
