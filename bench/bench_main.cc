// SPDX-License-Identifier: MIT
//
// Registers the C benchmark bodies (bench_ops.c, one table per
// implementation) with Google Benchmark.  Names are "<op>/<impl>/<N>";
// every timed benchmark uses manual time (the bodies time only the work)
// and reports its operations per iteration in the counter "ops", so the
// time per operation is real_time / ops; "ns_per_op" shows it directly.
//
// Own flags, taken out before Google Benchmark sees argv:
//   --bench_n=10,30,...  slot counts (default 10,30,50,100,509,4096,32764)
//   --bench_quick        minimal times, one iteration of the slow cases and
//                        no repetitions (the ctest smoke run)
// Without --bench_quick, every benchmark but the slow writers at large N
// runs 3 times and only the aggregates (report.py uses the median) are kept.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <memslots/memslots.h>

#include "bench.h"

namespace {

bool quick = false;
std::vector<unsigned> sizes = {10, 30, 50, 100, 509, 4096, 32764};

// One populated address space per (implementation, N), built on first use
// and shared by the benchmarks that leave it as they found it.
std::map<std::pair<const bench_impl *, unsigned>, bench_fixture *> fixtures;

bench_fixture *fixture(const bench_impl *impl, unsigned n)
{
	auto key = std::make_pair(impl, n);
	auto it = fixtures.find(key);

	if (it != fixtures.end())
		return it->second;
	bench_fixture *fx = impl->fixture_new(n);
	fixtures[key] = fx;
	return fx;
}

using Body = std::function<uint64_t(const bench_impl *, unsigned n, uint64_t calls)>;

// Runs @body (returning nanoseconds for its work) once per iteration and
// reports manual time; @ops is the number of operations one call does.
void run_timed(benchmark::State &state, const bench_impl *impl, unsigned n, double ops,
	       const Body &body)
{
	double total_ns = 0;

	bench_register_thread();
	for (auto _ : state) {
		uint64_t ns = body(impl, n, 1);

		total_ns += (double)ns;
		state.SetIterationTime((double)ns * 1e-9);
	}
	state.counters["ops"] = ops;
	state.counters["N"] = n;
	state.counters["ns_per_op"] = total_ns / ((double)state.iterations() * ops);
}

struct Op {
	const char *name;
	uint64_t k; // operations per call of the body, for the reader loops
	// whether large N gets a fixed, small iteration count (slow writers)
	bool slow;
	std::function<uint64_t(const bench_impl *, unsigned n, uint64_t k)> call;
	std::function<double(unsigned n, uint64_t k)> ops;
	// the engine's alone: not registered for the array
	bool engine_only = false;
	// N plays no part: registered once, at the largest N
	bool one_n = false;
};

void register_all()
{
	const bench_impl *impls[] = {&bench_impl_array, &bench_impl_kvm, &bench_impl_btree};
	const double min_time = quick ? 0.001 : 0.1;

	auto per_call = [](unsigned, uint64_t k) { return (double)k; };
	// Static: the registered lambdas keep pointers into it.
	static const std::vector<Op> ops = {
		{"setup", 1, true,
		 [](const bench_impl *i, unsigned n, uint64_t) { return i->setup(n); },
		 [](unsigned n, uint64_t) { return (double)n; }},
		{"unmap_4k", 256, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->unmap(fixture(i, n), 4096, k);
		 },
		 per_call},
		{"unmap_2m", 256, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->unmap(fixture(i, n), 2u << 20, k);
		 },
		 per_call},
		{"gfn_random", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->gfn_random(fixture(i, n), k);
		 },
		 per_call},
		{"gfn_lru_hit", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->gfn_repeat(fixture(i, n), k);
		 },
		 per_call},
		{"gfn_cached", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->gfn_cached(fixture(i, n), k);
		 },
		 per_call},
		{"gfn_miss", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->gfn_miss(fixture(i, n), k);
		 },
		 per_call},
		{"dense_limit_random", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->dense_limit(fixture(i, n), k, 0);
		 },
		 per_call},
		{"dense_limit_miss", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->dense_limit(fixture(i, n), k, 1);
		 },
		 per_call},
		{"id_lookup", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->id_lookup(fixture(i, n), k);
		 },
		 per_call},
		{"move_inactive", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->move(fixture(i, n), k, 0);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"move_active", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->move(fixture(i, n), k, 1);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"flags_only", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->flags(fixture(i, n), k);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"batch_flags_all", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->batch_flags(fixture(i, n), k);
		 },
		 per_call},
		{"batch_create_all", 1, true,
		 [](const bench_impl *i, unsigned n, uint64_t) { return i->batch_create(n); },
		 per_call},
		// Dirty logging: marks beside gfn_lru_hit and gfn_cached, the
		// collect of a 1 GiB slot (N is ignored: one slot), and logging
		// turned on for all N in one apply, without bitmaps for reference.
		{"dirty_mark_lru_hit", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) { return i->dirty_mark(n, k, 0); },
		 per_call, true},
		{"dirty_mark_cached", 4096, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) { return i->dirty_mark(n, k, 1); },
		 per_call, true},
		{"dirty_collect_1g_clean", 1, false,
		 [](const bench_impl *i, unsigned, uint64_t k) { return i->dirty_collect_1g(k, 0); },
		 per_call, true, true},
		{"dirty_collect_1g_dirty", 1, false,
		 [](const bench_impl *i, unsigned, uint64_t k) { return i->dirty_collect_1g(k, 1); },
		 per_call, true, true},
		{"dirty_enable_all_nobitmap", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->dirty_enable_all(n, k, 0);
		 },
		 per_call, true},
		{"dirty_enable_all", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->dirty_enable_all(n, k, MEMSLOTS_DIRTY_BITMAP);
		 },
		 per_call, true},
		{"dirty_enable_all_initially_set", 1, false,
		 [](const bench_impl *i, unsigned n, uint64_t k) {
			 return i->dirty_enable_all(
				 n, k, MEMSLOTS_DIRTY_BITMAP | MEMSLOTS_DIRTY_INITIALLY_SET);
		 },
		 per_call, true},
	};

	for (const Op &op : ops) {
		for (unsigned n : sizes) {
			for (const bench_impl *impl : impls) {
				if ((op.engine_only && !impl->dirty_mark) ||
				    (op.one_n && n != sizes.back()))
					continue;
				std::string name = std::string(op.name) + "/" + impl->name + "/" +
						   std::to_string(n);
				const Op *o = &op;
				auto *b = benchmark::RegisterBenchmark(
					name.c_str(), [o, impl, n](benchmark::State &st) {
						run_timed(st, impl, n, o->ops(n, o->k),
							  [o](const bench_impl *i, unsigned nn,
							      uint64_t) { return o->call(i, nn, o->k); });
					});
				b->UseManualTime()->Unit(benchmark::kNanosecond);
				// The array's slow writers at large N take seconds per call.
				if (op.slow && n >= 4096)
					b->Iterations(std::strcmp(impl->name, "array") == 0 || quick ? 1
												      : 3);
				else if (op.slow && n >= 509 && std::strcmp(impl->name, "array") == 0)
					b->Iterations(quick ? 1 : 5);
				else
					b->MinTime(min_time);
				// The fast ones: median of 3, the machine is shared and noisy.
				if (!quick && !(op.slow && n >= 509))
					b->Repetitions(3)->ReportAggregatesOnly(true);
			}
		}
	}

	// Footprint: bytes through the config's allocator (no timing).
	for (unsigned n : sizes) {
		for (const bench_impl *impl : impls) {
			std::string name = std::string("mem_per_slot/") + impl->name + "/" +
					   std::to_string(n);
			benchmark::RegisterBenchmark(name.c_str(), [impl, n](benchmark::State &st) {
				size_t bytes = 0;

				for (auto _ : st) {
					bytes = impl->bytes(n);
					st.SetIterationTime(1e-9);
				}
				st.counters["bytes"] = (double)bytes;
				st.counters["bytes_per_slot"] = (double)bytes / n;
				st.counters["N"] = n;
			})->UseManualTime()->Iterations(1);
		}
	}
	for (const bench_impl *impl : impls) {
		std::string name = std::string("mem_sparse_2slots/") + impl->name + "/2";
		benchmark::RegisterBenchmark(name.c_str(), [impl](benchmark::State &st) {
			size_t bytes = 0;

			for (auto _ : st) {
				bytes = impl->bytes_sparse();
				st.SetIterationTime(1e-9);
			}
			st.counters["bytes"] = (double)bytes;
			st.counters["N"] = 2;
		})->UseManualTime()->Iterations(1);
	}
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<char *> rest;

	for (int i = 0; i < argc; i++) {
		if (std::strcmp(argv[i], "--bench_quick") == 0) {
			quick = true;
		} else if (std::strncmp(argv[i], "--bench_n=", 10) == 0) {
			sizes.clear();
			for (char *p = argv[i] + 10; *p;) {
				char *end;
				unsigned long v = std::strtoul(p, &end, 10);

				if (end == p || v == 0 || v > 32764) {
					std::fprintf(stderr, "bad --bench_n list: %s\n", argv[i]);
					return 2;
				}
				sizes.push_back((unsigned)v);
				p = *end == ',' ? end + 1 : end;
			}
		} else {
			rest.push_back(argv[i]);
		}
	}
	int rargc = (int)rest.size();

	register_all();
	benchmark::Initialize(&rargc, rest.data());
	if (benchmark::ReportUnrecognizedArguments(rargc, rest.data()))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	for (auto &f : fixtures)
		f.first.first->fixture_free(f.second);
	return 0;
}
