/*
 * fs.c - reading whole files from the boot volume (see fs.h).
 */
#include <efi.h>
#include <efilib.h>

#include "fs.h"
#include "util.h"

/* FAT on a small ESP returns everything at once; this only bounds a
 * misbehaving driver that keeps returning short reads. */
#define FS_MAX_READ_CALLS 4096

EFI_STATUS fs_open_boot_volume(EFI_HANDLE image, EFI_FILE_PROTOCOL **root)
{
	EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID sfs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *li;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *sfs;
	EFI_STATUS st;

	st = BS->HandleProtocol(image, &loaded_image_guid, (void **)&li);
	if (EFI_ERROR(st)) {
		Print(L"efi: cannot get the LoadedImage protocol of the loader (%r)\n", st);
		return st;
	}
	st = BS->HandleProtocol(li->DeviceHandle, &sfs_guid, (void **)&sfs);
	if (EFI_ERROR(st)) {
		Print(L"efi: the boot device has no SimpleFileSystem (%r)\n", st);
		return st;
	}
	st = sfs->OpenVolume(sfs, root);
	if (EFI_ERROR(st)) {
		Print(L"efi: cannot open the boot volume (%r)\n", st);
		return st;
	}
	return EFI_SUCCESS;
}

/* Size of an open file, from EFI_FILE_INFO (whose size depends on the name). */
static EFI_STATUS fs_file_size(EFI_FILE_PROTOCOL *f, CHAR16 *path, UINT64 *size)
{
	EFI_GUID info_guid = EFI_FILE_INFO_ID;
	EFI_FILE_INFO *info = NULL;
	UINTN info_len = 0;
	EFI_STATUS st;

	st = f->GetInfo(f, &info_guid, &info_len, NULL);
	if (st == EFI_BUFFER_TOO_SMALL) {
		st = BS->AllocatePool(EfiLoaderData, info_len, (void **)&info);
		if (EFI_ERROR(st)) {
			Print(L"efi: %s: no memory for file info (%r)\n", path, st);
			return st;
		}
		st = f->GetInfo(f, &info_guid, &info_len, info);
	}
	if (EFI_ERROR(st)) {
		Print(L"efi: %s: cannot get file info (%r)\n", path, st);
		util_free_pool(info, L"file info");
		return st;
	}
	if (info->Attribute & EFI_FILE_DIRECTORY) {
		Print(L"efi: %s is a directory, not a file\n", path);
		util_free_pool(info, L"file info");
		return EFI_INVALID_PARAMETER;
	}
	*size = info->FileSize;
	util_free_pool(info, L"file info");
	return EFI_SUCCESS;
}

/* Read exactly len bytes from the start of f into buf. */
static EFI_STATUS fs_read_all(EFI_FILE_PROTOCOL *f, CHAR16 *path, UINT8 *buf, UINTN len)
{
	UINTN done = 0, chunk;
	EFI_STATUS st;
	int calls;

	for (calls = 0; done < len && calls < FS_MAX_READ_CALLS; calls++) {
		chunk = len - done;
		st = f->Read(f, &chunk, buf + done);
		if (EFI_ERROR(st)) {
			Print(L"efi: %s: read failed after %ld of %ld bytes (%r)\n",
			      path, (UINT64)done, (UINT64)len, st);
			return st;
		}
		if (chunk == 0) {
			Print(L"efi: %s: file ended after %ld of %ld bytes\n",
			      path, (UINT64)done, (UINT64)len);
			return EFI_END_OF_FILE;
		}
		done += chunk;
	}
	if (done < len) {
		Print(L"efi: %s: gave up after %d short reads\n", path, calls);
		return EFI_DEVICE_ERROR;
	}
	return EFI_SUCCESS;
}

EFI_STATUS fs_read_file(EFI_FILE_PROTOCOL *root, CHAR16 *path, UINT64 max_bytes,
			unsigned flags, void **buf, UINTN *len, UINT64 *file_size)
{
	EFI_FILE_PROTOCOL *f;
	EFI_STATUS st;
	UINT64 size;
	UINTN want;
	void *data = NULL;

	*buf = NULL;
	*len = 0;
	*file_size = 0;

	st = root->Open(root, &f, path, EFI_FILE_MODE_READ, 0);
	if (st == EFI_NOT_FOUND) {
		if (!(flags & FS_OPTIONAL))
			Print(L"efi: %s not found on the boot volume (%r)\n", path, st);
		return st;
	}
	if (EFI_ERROR(st)) {
		Print(L"efi: cannot open %s (%r)\n", path, st);
		return st;
	}

	st = fs_file_size(f, path, &size);
	if (EFI_ERROR(st))
		goto out_close;
	if (size > max_bytes && !(flags & FS_TRUNCATE)) {
		Print(L"efi: %s is %ld bytes, more than the %ld this loader accepts\n",
		      path, size, max_bytes);
		st = EFI_BAD_BUFFER_SIZE;
		goto out_close;
	}
	want = size < max_bytes ? size : max_bytes;
	if (want > 0) {
		st = BS->AllocatePool(EfiLoaderData, want, &data);
		if (EFI_ERROR(st)) {
			Print(L"efi: %s: no memory for %ld bytes (%r)\n", path, (UINT64)want, st);
			goto out_close;
		}
		st = fs_read_all(f, path, data, want);
		if (EFI_ERROR(st))
			goto out_free;
	}
	*buf = data;
	*len = want;
	*file_size = size;
	goto out_close;

out_free:
	util_free_pool(data, path);
out_close:
	util_close_file(f, path);
	return st;
}
