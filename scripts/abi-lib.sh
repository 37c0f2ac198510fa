# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared by scripts/abi-baseline.sh and scripts/test.d/abi.sh (sourced, not
# run): builds the shared library the way its ABI is recorded, and writes
# that ABI as libabigail XML.  Both must describe the library identically,
# or a baseline and a check would differ by more than the code.

# shellcheck disable=SC2034 # used by the scripts that source this file
abi_dir=abi

# abi_build <build-dir> [cmake-args...]: the shared library alone, with
# debug info (abidw reads the types from DWARF).
abi_build() {
	local dir=$1
	shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMSLOTS_BUILD_TESTS=OFF \
		-DMEMSLOTS_BUILD_EXAMPLES=OFF -DMEMSLOTS_BUILD_BENCH=OFF -DMEMSLOTS_BUILD_FUZZ=OFF \
		-DMEMSLOTS_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$(nproc)" --target memslots >/dev/null
}

# abi_library <build-dir>: the path of the real file (libmemslots.so.X.Y.Z).
abi_library() {
	readlink -f "$1/libmemslots.so"
}

# abi_soname <library>: its DT_SONAME.
abi_soname() {
	readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'
}

# abi_dump <build-dir> <library> <out.abi>: the ABI of the public headers
# only (private types dropped), without paths or line numbers, so that
# neither the checkout's place nor a comment edit changes the file.
abi_dump() {
	local root=$PWD
	abidw --headers-dir include/memslots --header-file "$1/include/memslots/version.h" \
		--drop-private-types --drop-undefined-syms --no-corpus-path --no-comp-dir-path \
		--no-show-locs --type-id-style hash --out-file "$3.tmp" "$2"
	# Translation units are named by absolute path in DWARF.
	sed "s|path='$root/|path='|" "$3.tmp" >"$3"
	rm -f "$3.tmp"
}
