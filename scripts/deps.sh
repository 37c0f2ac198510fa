#!/usr/bin/env bash
# Installs the Debian 12 packages libmemslots needs to build, test and
# benchmark; does nothing for packages already there.  Needs root or sudo.
set -euo pipefail

pkgs=(cmake gcc g++ clang make pkgconf check liburcu-dev libbenchmark-dev valgrind
      doxygen abigail-tools dpkg-dev
      gnuplot-nox python3 qemu-system-x86 busybox-static cpio)
[ "$#" -gt 0 ] && pkgs=("$@")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
