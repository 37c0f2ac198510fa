#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns memslots_bench's Google Benchmark JSON into tables, CSV, Markdown
and gnuplot PNGs comparing three implementations: the array baseline
(pre-2021 KVM), the engine on KVM's index (kvm) and on the B+tree (btree,
the default), with the improvements kvm/array (array time over kvm time),
btree/kvm and btree/array, one table per layout, and the issue-20 targets
of the default index checked one by one (MET / MISSED).

usage: report.py RESULTS.json OUTDIR [--no-plots]

Benchmark names are "<layout>/<op>/<impl>/<N>[/...]".  Timed benchmarks
carry the counters "ops" (operations per iteration) and "ns_per_op";
footprint ones carry "bytes_per_slot" or "bytes".  Standard library only.
"""
import csv
import json
import os
import shutil
import subprocess
import sys

# op -> (label in the table, what one operation is)
OPS = [
    ("setup", "slot setup (create 1 of N, one by one)", "time"),
    ("unmap_4k", "unmap: hva range of 4 KiB", "time"),
    ("unmap_2m", "unmap: hva range of 2 MiB", "time"),
    ("gfn_random", "gfn lookup, random (LRU miss)", "time"),
    ("gfn_random_2t", "gfn lookup, random, 2 threads (aggregate)", "time"),
    ("scaling_2t", "2 threads' rate over 1 thread's (x)", "factor"),
    ("gfn_lru_hit", "gfn lookup, repeated (LRU hit)", "time"),
    ("gfn_cached", "gfn lookup, per-thread cache hit", "time"),
    ("gfn_miss", "gfn lookup, miss in a hole", "time"),
    ("dense_limit_random", "dense-key limit, random gfns", "time"),
    ("dense_limit_miss", "dense-key limit, gfns in holes", "time"),
    ("id_lookup", "id lookup", "time"),
    ("gfn_range", "gfn range of 2 MiB, first/next", "time"),
    ("iterate", "first/next over all N (per slot)", "time"),
    ("move_inactive", "move a slot (out and back; per move)", "time"),
    ("move_active", "move a slot, reader thread on it", "time"),
    ("flags_only", "flags-only toggle (per change)", "time"),
    ("batch_flags_all", "batch: dirty logging on all N (1 apply)", "time"),
    ("batch_create_all", "batch: create all N (1 apply)", "time"),
    ("dirty_mark_lru_hit", "dirty mark, 1 page, last-used slot", "time"),
    ("dirty_mark_cached", "dirty mark, 1 page, per-thread cache", "time"),
    ("dirty_collect_1g_clean", "dirty collect, 1 GiB slot, clean", "time"),
    ("dirty_collect_1g_dirty", "dirty collect, 1 GiB slot, all dirty", "time"),
    ("dirty_enable_all_nobitmap", "dirty logging on all N, no bitmaps", "time"),
    ("dirty_enable_all", "dirty logging on all N, bitmaps", "time"),
    ("dirty_enable_all_initially_set", "dirty logging on all N, INITIALLY_SET", "time"),
    ("mem_per_slot", "memory, bytes per slot all-in", "bytes_per_slot"),
    ("mem_sparse_2slots", "memory, 2 slots (ids 0, 32763), bytes", "bytes"),
]


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div:
            return "%.3g %s" % (ns / div, unit)
    return "%.3g ns" % ns


def fmt_bytes(b):
    if b is None:
        return "-"
    if b >= 10 * 1024:
        return "%.1f KiB" % (b / 1024)
    return "%.0f B" % b


def load(path):
    with open(path) as f:
        data = json.load(f)
    res = {}
    for b in data.get("benchmarks", []):
        # single runs, or the median of repeated ones
        if b.get("error_occurred"):
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        parts = b["name"].split("/")
        if len(parts) < 4:
            continue
        layout, op, impl, n = parts[0], parts[1], parts[2], int(parts[3])
        if "ns_per_op" in b:
            val = b["ns_per_op"]
        elif "bytes_per_slot" in b:
            val = b["bytes_per_slot"]
        elif "bytes" in b:
            val = b["bytes"]
        else:
            continue
        res[(layout, op, n, impl)] = val
    # derived: how two reader threads scale (their aggregate rate over one's)
    for (layout, op, n, impl), v in list(res.items()):
        if op == "gfn_random_2t" and v and res.get((layout, "gfn_random", n, impl)):
            res[(layout, "scaling_2t", n, impl)] = res[(layout, "gfn_random", n, impl)] / v
    return data.get("context", {}), res


IMPLS = ("array", "kvm", "btree")


def ratio(x, y):
    return x / y if x is not None and y else None


LAYOUTS = ("dense", "holes", "vmm", "vmm32k", "any")


def layouts(res):
    seen = {l for (l, _, _, _) in res}
    return [l for l in LAYOUTS if l in seen] + sorted(seen - set(LAYOUTS))


def rows(res, layout):
    """(op, label, kind, n, array, kvm, btree, kvm/array, btree/kvm,
    btree/array) per row of one layout; an improvement is the slower one's
    time over the faster one's (for the scaling factor, the ratio of the
    factors)."""
    out = []
    for op, label, kind in OPS:
        ns = sorted({n for (l, o, n, _) in res if o == op and l == layout})
        for n in ns:
            a, k, b = (res.get((layout, op, n, impl)) for impl in IMPLS)
            if kind == "factor":
                out.append((op, label, kind, n, a, k, b, ratio(k, a), ratio(b, k), ratio(b, a)))
            else:
                out.append((op, label, kind, n, a, k, b, ratio(a, k), ratio(k, b), ratio(a, b)))
    return out


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


HEAD = ("Test", "N", "array", "kvm", "btree", "kvm/array", "btree/kvm", "btree/array")


def fmt_factor(x):
    return "-" if x is None else "%.2f" % x


def cells(r):
    op, label, kind, n, a, k, b, ka, bk, ba = r
    f = {"time": fmt_time, "factor": fmt_factor}.get(kind, fmt_bytes)
    return (label, str(n), f(a), f(k), f(b), fmt_ratio(ka), fmt_ratio(bk), fmt_ratio(ba))


def text_table(rs):
    lines = [cells(r) for r in rs]
    w = [max(len(r[i]) for r in lines + [HEAD]) for i in range(len(HEAD))]
    sep = "  "
    out = [sep.join(h.ljust(w[i]) if i == 0 else h.rjust(w[i]) for i, h in enumerate(HEAD))]
    out.append(sep.join("-" * x for x in w))
    prev = None
    for r in lines:
        if prev is not None and r[0] != prev:
            out.append("")
        prev = r[0]
        out.append(sep.join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)))
    return "\n".join(out)


def markdown_table(rs):
    out = ["| " + " | ".join(HEAD) + " |", "|---|" + "---:|" * (len(HEAD) - 1)]
    for r in rs:
        out.append("| " + " | ".join(cells(r)) + " |")
    return "\n".join(out)


def write_csv(by_layout, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["layout", "test", "label", "n", "array", "kvm", "btree", "unit",
                    "kvm_over_array", "btree_over_kvm", "btree_over_array"])
        for layout, rs in by_layout:
            for op, label, kind, n, a, k, b, ka, bk, ba in rs:
                unit = {"time": "ns", "factor": "x"}.get(kind, "bytes")
                w.writerow([layout, op, label, n] +
                           ["" if v is None else "%.6g" % v for v in (a, k, b)] + [unit] +
                           ["" if v is None else "%.4g" % v for v in (ka, bk, ba)])


READ_OPS = ("gfn_random", "gfn_miss", "gfn_lru_hit", "gfn_cached", "id_lookup", "unmap_4k",
            "unmap_2m", "gfn_range", "iterate")


def targets(res):
    """The issue's targets for the default index (btree), one line each:
    (met, text).  A row that did not run is not judged."""
    out = []

    def get(layout, op, n, impl):
        return res.get((layout, op, n, impl))

    def check(ok, text):
        out.append((ok, text))

    for layout in layouts(res):
        if layout == "any":
            continue
        for op in READ_OPS + ("batch_flags_all", "batch_create_all"):
            for n in sorted({n for (l, o, n, _) in res if l == layout and o == op}):
                a, b = get(layout, op, n, "array"), get(layout, op, n, "btree")
                if a and b:
                    check(a / b >= 1.0, "%s %s N=%d: btree/array %.2fx >= 1.0x" %
                          (layout, op, n, a / b))
        for op in ("gfn_random", "gfn_miss"):
            n = 32764
            a, b = get(layout, op, n, "array"), get(layout, op, n, "btree")
            lim = get(layout, "dense_limit_random" if op == "gfn_random" else
                      "dense_limit_miss", n, "btree")
            if a and b:
                check(a / b >= 2.0, "%s %s N=%d: btree/array %.2fx >= 2.0x" %
                      (layout, op, n, a / b))
            if b and lim:
                check(b / lim <= 2.0, "%s %s N=%d: btree over the dense-key limit %.2fx <= 2x"
                      % (layout, op, n, b / lim))
        b = get(layout, "batch_flags_all", 32764, "btree")
        if b:
            check(b <= 3e6, "%s batch_flags_all N=32764: %s <= 3 ms" % (layout, fmt_time(b)))
        b = get(layout, "mem_per_slot", 32764, "btree")
        if b:
            check(b <= 192, "%s mem_per_slot N=32764: %.0f B <= 192 B" % (layout, b))
        for op, want in (("setup", 200), ("move_inactive", 100)):
            a, b = get(layout, op, 32764, "array"), get(layout, op, 32764, "btree")
            if a and b:
                check(a / b >= want, "%s %s N=32764: btree/array %.0fx >= %dx" %
                      (layout, op, a / b, want))
        for n in sorted({n for (l, o, n, _) in res if l == layout and o == "scaling_2t"}):
            f = get(layout, "scaling_2t", n, "btree")
            if f:
                check(f >= 1.8, "%s two reader threads N=%d: %.2fx one thread's rate >= 1.8x"
                      % (layout, n, f))
    b = get("any", "mem_sparse_2slots", 2, "btree")
    if b:
        check(b <= 2048, "two slots (ids 0, 32763): %.0f B <= 2048 B" % b)
    return out


def plots(rs, outdir, layout):
    """One log-log PNG per operation of @layout: time (or bytes) per
    operation vs N, in OUTDIR/<layout>/, and an overview-<layout>.png."""
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plots", file=sys.stderr)
        return []
    made = []
    outdir = os.path.join(outdir, layout)
    os.makedirs(outdir, exist_ok=True)
    for op, label, kind in OPS:
        pts = [(n, a, k, b) for (o, _, _, n, a, k, b, _, _, _) in rs if o == op and a and k and b]
        if len(pts) < 2:
            continue
        dat = os.path.join(outdir, op + ".dat")
        with open(dat, "w") as f:
            f.write("# N array kvm btree\n")
            for n, a, k, b in pts:
                f.write("%d %.6g %.6g %.6g\n" % (n, a, k, b))
        png = os.path.join(outdir, op + ".png")
        ylabel = {"time": "ns per operation", "factor": "x one thread"}.get(kind,
                                                                           "bytes per slot")
        script = "\n".join([
            "set terminal pngcairo size 720,480 noenhanced" if have_cairo() else
            "set terminal png size 720,480 noenhanced",
            "set output '%s'" % png,
            "set title '%s: %s'" % (layout, label.replace("'", "")),
            "set logscale xy",
            "set xlabel 'slots (N)'",
            "set ylabel '%s'" % ylabel,
            "set grid",
            "set key top left",
            "set format y '%g'",
            "plot '%s' using 1:2 with linespoints lw 2 pt 7 title 'array (pre-2021 KVM)', \\"
            % dat,
            "     '%s' using 1:3 with linespoints lw 2 pt 9 title 'kvm (KVM 5.17+ index)', \\"
            % dat,
            "     '%s' using 1:4 with linespoints lw 2 pt 5 title 'btree (libmemslots)'" % dat,
        ])
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
        made.append(png)
    if made:
        made.append(overview(rs, outdir, layout))
    return made


def overview(rs, outdir, layout):
    """All operations in one multiplot PNG (5 x 5 panels), from the .dat files."""
    png = os.path.join(os.path.dirname(outdir), "overview-%s.png" % layout)
    lines = [
        "set terminal pngcairo size 1800,1600 noenhanced font ',9'" if have_cairo() else
        "set terminal png size 1800,1600 noenhanced",
        "set output '%s'" % png,
        "set multiplot layout 5,5 title 'libmemslots, layout %s: array baseline (red), kvm "
        "index (green), btree index (blue), per operation, log-log'" % layout,
        "set logscale xy", "set grid", "set key off", "set format y '%g'",
        "set xlabel 'N'",
    ]
    for op, label, kind in OPS:
        dat = os.path.join(outdir, op + ".dat")
        if not os.path.exists(dat):
            continue
        lines += [
            "set title '%s'" % label.replace("'", ""),
            "set ylabel '%s'" % {"time": "ns", "factor": "x"}.get(kind, "bytes/slot"),
            "plot '%s' using 1:2 with linespoints lw 2 pt 7 lc rgb '#cc3333', "
            "'' using 1:3 with linespoints lw 2 pt 9 lc rgb '#33aa55', "
            "'' using 1:4 with linespoints lw 2 pt 5 lc rgb '#3355cc'" % dat,
        ]
    lines.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(lines).encode(), check=True)
    return png


_cairo = None


def have_cairo():
    global _cairo
    if _cairo is None:
        try:
            r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
            _cairo = "pngcairo" in (r.stdout + r.stderr)
        except OSError:
            _cairo = False
    return _cairo


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    ctx, res = load(argv[1])
    outdir = argv[2]
    os.makedirs(outdir, exist_ok=True)
    by_layout = [(l, rows(res, l)) for l in layouts(res)]
    texts, mds, made = [], [], []
    for layout, rs in by_layout:
        texts.append("== layout: %s ==\n%s" % (layout, text_table(rs)))
        mds.append("### Layout: %s\n\n%s" % (layout, markdown_table(rs)))
        if "--no-plots" not in argv:
            made += plots(rs, outdir, layout)
    ts = targets(res)
    tlines = ["%s  %s" % ("MET   " if ok else "MISSED", t) for ok, t in ts]
    summary = "targets of the default index (btree): %d met, %d missed" % (
        sum(1 for ok, _ in ts if ok), sum(1 for ok, _ in ts if not ok))
    table = "\n\n".join(texts) + "\n\n" + summary + "\n" + "\n".join(tlines)
    print(table)
    with open(os.path.join(outdir, "table.txt"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("\n\n".join(mds) + "\n")
    with open(os.path.join(outdir, "targets.txt"), "w") as f:
        f.write(summary + "\n" + "\n".join(tlines) + "\n")
    write_csv(by_layout, os.path.join(outdir, "results.csv"))
    print("\nwrote %s/{results.csv,table.txt,table.md,targets.txt}%s" % (
        outdir, " and %d plots" % len(made) if made else ""))
    if ctx:
        print("machine: %s CPUs at %s MHz, library build: %s" % (
            ctx.get("num_cpus"), ctx.get("mhz_per_cpu"), ctx.get("library_build_type")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
