#!/usr/bin/env bash
# The main job: builds libmemslots (release), runs the hello_memslots demo,
# the benchmark table against the array baseline (with JSON/CSV and PNG
# plots), and the example VMM on real KVM (the host's /dev/kvm, or a QEMU
# guest with kvm_amd when the host has none): its scenario, then
# vmm-linux booting Debian's kernel with its RAM in 64 slots.  Installs
# missing Debian packages first.
#
# usage: scripts/main.sh [--quick]
#   --quick: benchmark only N = 10, 100 and 4096 (about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
bench_args=()
if [ "${1:-}" = "--quick" ]; then
	bench_args=(--bench_n=10,100,4096)
fi

echo "==== build (release) ===="
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

echo "==== hello_memslots ===="
build/release/examples/hello_memslots

echo "==== benchmarks: array baseline vs tree ===="
scripts/bench.sh build/release/bench-results "${bench_args[@]}"

echo "==== example VMM on real KVM ===="
cmake -S . -B build/kvm -DCMAKE_BUILD_TYPE=Release -DMEMSLOTS_BUILD_TESTS=ON \
	-DMEMSLOTS_BUILD_EXAMPLES=ON -DMEMSLOTS_BUILD_BENCH=OFF >/dev/null
cmake --build build/kvm -j "$(nproc)" --target memslots_vmm memslots_vmm_linux
set +e
ctest --test-dir build/kvm -R '^kvm\.(vmm|linux)$' -V -j "$(nproc)"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	echo "example VMM: FAILED"
	exit "$rc"
fi
echo "main job: done (benchmark results in build/release/bench-results)"
