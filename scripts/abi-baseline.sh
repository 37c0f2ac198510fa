#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Records the ABI of libmemslots.so as the baseline that the "abi" test
# stage (scripts/test.d/abi.sh) compares every change against:
# abi/<SONAME>.abi, libabigail's XML of the public types and functions.
#
# Run it deliberately, in the same change as a SONAME bump (cmake/Abi.cmake,
# MEMSLOTS_SOVERSION): an incompatible change needs a new SONAME, and the new
# SONAME needs its own baseline.  It refuses to overwrite the baseline of an
# existing SONAME (that would hide a break from the check) unless given
# --force, which is only right when the recorded file itself was wrong.
# docs/abi.md says when the ABI may change and how.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/abi-lib.sh

force=0
[ "${1:-}" = --force ] && force=1
scripts/deps.sh abigail-tools

abi_build build/abi
lib=$(abi_library build/abi)
soname=$(abi_soname "$lib")
out=$abi_dir/$soname.abi
if [ -e "$out" ] && [ "$force" -eq 0 ]; then
	echo "abi-baseline: $out exists; an ABI break needs a new SONAME (docs/abi.md)," \
		"or pass --force to re-record the same SONAME" >&2
	exit 1
fi
mkdir -p "$abi_dir"
abi_dump build/abi "$lib" "$out"
echo "abi-baseline: wrote $out from $lib"
