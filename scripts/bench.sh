#!/usr/bin/env bash
# Benchmarks three implementations in one binary and one run: the array
# baseline (the pre-2021 KVM memslot scheme, bench/baseline/), the engine on
# KVM's index (kvm: gfn red-black tree, id hash) and on its default, the
# B+tree (btree): builds the release preset, runs memslots_bench for N in
# {10, 30, 50, 100, 509, 4096, 32764} on four layouts (dense, holes, vmm,
# and vmm32k at 32764 only: bench/bench.h), prints one table per layout
# "Test / N / array / kvm / btree / kvm/array / btree/kvm / btree/array"
# (each improvement the first one's time over the second one's) and the
# default index's targets, MET or MISSED, and writes results.json,
# results.csv, table.{txt,md}, targets.txt and per layout one log-log PNG
# per operation (gnuplot) in OUTDIR/<layout>/ and OUTDIR/overview-<layout>.png.
#
# usage: scripts/bench.sh [OUTDIR] [memslots_bench arguments...]
#   OUTDIR defaults to build/release/bench-results; extra arguments go to
#   the benchmark binary, e.g. --bench_n=10,100, --bench_layouts=holes,vmm,
#   --benchmark_filter=gfn_, or --bench_long (the long sweep: 0.1 s runs,
#   5 repetitions, the array's 45 s setups at 32764 in every layout).
# The default run takes about five minutes on 2 cores; --bench_long about
# fifteen.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/release/bench-results
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	out=$1
	shift
fi

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target memslots_bench
mkdir -p "$out"
build/release/bench/memslots_bench \
	--benchmark_out="$out/results.json" --benchmark_out_format=json "$@"
echo
python3 bench/report.py "$out/results.json" "$out"
