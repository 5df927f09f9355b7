/*
 * util.c - small helpers shared by the loader's files (see util.h).
 */
#include <efi.h>
#include <efilib.h>

#include "util.h"

void util_free_pool(void *p, CHAR16 *what)
{
	EFI_STATUS st;

	if (!p)
		return;
	st = BS->FreePool(p);
	if (EFI_ERROR(st))
		Print(L"efi: warning: cannot free %s (%r)\n", what, st);
}

void util_close_file(EFI_FILE_PROTOCOL *f, CHAR16 *what)
{
	EFI_STATUS st;

	st = f->Close(f);
	if (EFI_ERROR(st))
		Print(L"efi: warning: cannot close %s (%r)\n", what, st);
}
