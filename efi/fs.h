/*
 * fs.h - reading whole files from the volume the loader was started from.
 *
 * Boot services only: call before ExitBootServices.
 */
#ifndef EFI_FS_H
#define EFI_FS_H

#include <efi.h>

/*
 * fs_open_boot_volume - open the root directory of the loader's own volume
 * (LoadedImage->DeviceHandle, through SimpleFileSystem). Prints the reason
 * on failure. The caller closes *root.
 */
EFI_STATUS fs_open_boot_volume(EFI_HANDLE image, EFI_FILE_PROTOCOL **root);

/* fs_read_file() flags */
#define FS_OPTIONAL 0x1 /* a missing file is not reported (EFI_NOT_FOUND still returned) */
#define FS_TRUNCATE 0x2 /* a file over max_bytes is read in part, not refused */

/*
 * fs_read_file - read @path, at most @max_bytes of it, into EfiLoaderData pool.
 * @buf, @len:   the data and its length; *buf is NULL when *len is 0,
 *               otherwise the caller frees it with FreePool
 * @file_size:   the file's full size, which exceeds *len when FS_TRUNCATE
 *               let a bigger file through
 *
 * A file over @max_bytes without FS_TRUNCATE fails with EFI_BAD_BUFFER_SIZE
 * before anything is read. Prints `efi: ` messages for every failure it
 * reports.
 */
EFI_STATUS fs_read_file(EFI_FILE_PROTOCOL *root, CHAR16 *path, UINT64 max_bytes,
			unsigned flags, void **buf, UINTN *len, UINT64 *file_size);

#endif
