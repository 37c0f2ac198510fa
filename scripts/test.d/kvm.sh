#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test stage "kvm": builds the real-KVM programs (Release, statically linked)
# in build/kvm and runs the ctest label "kvm" through scripts/kvm-harness.sh:
# on the host's /dev/kvm when usable, else in a QEMU TCG guest with
# kvm_amd.  Prints every program's output; exits non-zero when a test
# fails (a skip, exit 77 with neither KVM nor QEMU, is not a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."

cmake -S . -B build/kvm -DCMAKE_BUILD_TYPE=Release -DMEMSLOTS_BUILD_TESTS=ON \
	-DMEMSLOTS_BUILD_EXAMPLES=ON -DMEMSLOTS_BUILD_BENCH=OFF -DMEMSLOTS_WERROR=ON >/dev/null
# Only the programs the kvm tests run: the rest of the tree is the other
# stages' business.
targets=(kvm_smoke kvm_conformance kvm_conformance2 memslots_vmm memslots_vmm_linux)
cmake --build build/kvm -j "$(nproc)" --target "${targets[@]}"
ctest --test-dir build/kvm -L kvm -V -j "$(nproc)"
