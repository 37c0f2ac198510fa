#!/usr/bin/env bash
# Benchmarks three implementations in one binary and one run: the array
# baseline (the pre-2021 KVM memslot scheme, bench/baseline/), the engine on
# KVM's index (kvm: gfn red-black tree, id hash) and on its default, the
# B+tree (btree): builds the release preset, runs memslots_bench for N in
# {10, 30, 50, 100, 509, 4096, 32764}, prints the table "Test / N / array /
# kvm / btree / kvm/array / btree/kvm" (each improvement the first one's
# time over the second one's) and writes results.json, results.csv,
# table.{txt,md} and one log-log PNG per operation (gnuplot).
#
# usage: scripts/bench.sh [OUTDIR] [memslots_bench arguments...]
#   OUTDIR defaults to build/release/bench-results; extra arguments go to
#   the benchmark binary, e.g. --bench_n=10,100 or --benchmark_filter=gfn_.
# A full run takes a few minutes on 2 cores.
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
