#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing, so a
# repeated run costs one dpkg query. Called by the Makefile before anything
# that needs them. Needs root on a machine where something is missing.
set -euo pipefail
PKGS="qemu-system-x86 ovmf gnu-efi nasm gdb binutils gcc make iproute2 \
python3 python3-pytest python3-pexpect python3-matplotlib python3-tqdm \
python3-scapy python3-pyroute2 clang-14 libclang-rt-14-dev util-linux"
missing=""
for p in $PKGS; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in *"ok installed"*) ;; *) missing="$missing $p";; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run as root (or: apt-get install$missing)" >&2
  exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
