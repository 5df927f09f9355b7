"""Fixed places of the build, as the Makefile lays them out."""
from __future__ import annotations

from pathlib import Path

from .errors import BuildMissing

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
ESP = BUILD / "esp"              # directory QEMU serves as a FAT disk
KERNEL_ELF = BUILD / "kernel.elf"  # with symbols, for gdb
LOGS = BUILD / "logs"            # one console log per boot
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
GDB_SCRIPT = REPO / "harness" / "gdb" / "napilab.py"

# What must be in the ESP for a boot to make sense.
ESP_REQUIRED = ("EFI/BOOT/BOOTX64.EFI", "kernel.elf")


def check_build(esp: Path = ESP) -> None:
    """Raise BuildMissing naming every file a boot needs that is absent."""
    missing = [str(esp / f) for f in ESP_REQUIRED if not (esp / f).is_file()]
    if not OVMF_CODE.is_file():
        missing.append(f"{OVMF_CODE} (Debian package ovmf)")
    if missing:
        raise BuildMissing("napilab build is missing: " + ", ".join(missing)
                           + " -- run `make` in the repository root first")
