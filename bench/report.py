#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns memslots_bench's Google Benchmark JSON into a table, CSV, Markdown
and gnuplot PNGs comparing three implementations: the array baseline
(pre-2021 KVM), the engine on KVM's index (kvm) and on the B+tree (btree),
with the improvements kvm/array (array time over kvm time) and btree/kvm.

usage: report.py RESULTS.json OUTDIR [--no-plots]

Benchmark names are "<op>/<impl>/<N>[/...]".  Timed benchmarks carry the
counters "ops" (operations per iteration) and "ns_per_op"; footprint ones
carry "bytes_per_slot" or "bytes".  Standard library only.
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
    ("gfn_lru_hit", "gfn lookup, repeated (LRU hit)", "time"),
    ("gfn_cached", "gfn lookup, per-thread cache hit", "time"),
    ("gfn_miss", "gfn lookup, miss in a hole", "time"),
    ("id_lookup", "id lookup", "time"),
    ("move_inactive", "move a slot (out and back; per move)", "time"),
    ("move_active", "move a slot, reader thread on it", "time"),
    ("flags_only", "flags-only toggle (per change)", "time"),
    ("batch_flags_all", "batch: dirty logging on all N (1 apply)", "time"),
    ("batch_create_all", "batch: create all N (1 apply)", "time"),
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
        if len(parts) < 3:
            continue
        op, impl, n = parts[0], parts[1], int(parts[2])
        if "ns_per_op" in b:
            val = b["ns_per_op"]
        elif "bytes_per_slot" in b:
            val = b["bytes_per_slot"]
        elif "bytes" in b:
            val = b["bytes"]
        else:
            continue
        res[(op, n, impl)] = val
    return data.get("context", {}), res


IMPLS = ("array", "kvm", "btree")


def ratio(x, y):
    return x / y if x is not None and y else None


def rows(res):
    """(op, label, kind, n, array, kvm, btree, kvm/array, btree/kvm) per row;
    an improvement is the slower one's time over the faster one's."""
    out = []
    for op, label, kind in OPS:
        ns = sorted({n for (o, n, _) in res if o == op})
        for n in ns:
            a, k, b = (res.get((op, n, impl)) for impl in IMPLS)
            out.append((op, label, kind, n, a, k, b, ratio(a, k), ratio(k, b)))
    return out


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


HEAD = ("Test", "N", "array", "kvm", "btree", "kvm/array", "btree/kvm")


def cells(r):
    op, label, kind, n, a, k, b, ka, bk = r
    f = fmt_time if kind == "time" else fmt_bytes
    return (label, str(n), f(a), f(k), f(b), fmt_ratio(ka), fmt_ratio(bk))


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


def write_csv(rs, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test", "label", "n", "array", "kvm", "btree", "unit", "kvm_over_array",
                    "btree_over_kvm"])
        for op, label, kind, n, a, k, b, ka, bk in rs:
            unit = "ns" if kind == "time" else "bytes"
            w.writerow([op, label, n] + ["" if v is None else "%.6g" % v for v in (a, k, b)] +
                       [unit] + ["" if v is None else "%.4g" % v for v in (ka, bk)])


def plots(rs, outdir):
    """One log-log PNG per operation: time (or bytes) per operation vs N."""
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plots", file=sys.stderr)
        return []
    made = []
    for op, label, kind in OPS:
        pts = [(n, a, k, b) for (o, _, _, n, a, k, b, _, _) in rs if o == op and a and k and b]
        if len(pts) < 2:
            continue
        dat = os.path.join(outdir, op + ".dat")
        with open(dat, "w") as f:
            f.write("# N array kvm btree\n")
            for n, a, k, b in pts:
                f.write("%d %.6g %.6g %.6g\n" % (n, a, k, b))
        png = os.path.join(outdir, op + ".png")
        ylabel = "ns per operation" if kind == "time" else "bytes per slot"
        script = "\n".join([
            "set terminal pngcairo size 720,480 noenhanced" if have_cairo() else
            "set terminal png size 720,480 noenhanced",
            "set output '%s'" % png,
            "set title '%s'" % label.replace("'", ""),
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
        made.append(overview(rs, outdir))
    return made


def overview(rs, outdir):
    """All operations in one multiplot PNG (4 x 4 panels), from the .dat files."""
    png = os.path.join(outdir, "overview.png")
    lines = [
        "set terminal pngcairo size 1600,1400 noenhanced font ',9'" if have_cairo() else
        "set terminal png size 1600,1400 noenhanced",
        "set output '%s'" % png,
        "set multiplot layout 4,4 title 'libmemslots: array baseline (red), kvm index "
        "(green), btree index (blue), per operation, log-log'",
        "set logscale xy", "set grid", "set key off", "set format y '%g'",
        "set xlabel 'N'",
    ]
    for op, label, kind in OPS:
        dat = os.path.join(outdir, op + ".dat")
        if not os.path.exists(dat):
            continue
        lines += [
            "set title '%s'" % label.replace("'", ""),
            "set ylabel '%s'" % ("ns" if kind == "time" else "bytes/slot"),
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
    rs = rows(res)
    table = text_table(rs)
    print(table)
    with open(os.path.join(outdir, "table.txt"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(markdown_table(rs) + "\n")
    write_csv(rs, os.path.join(outdir, "results.csv"))
    made = [] if "--no-plots" in argv else plots(rs, outdir)
    print("\nwrote %s/{results.csv,table.txt,table.md}%s" % (
        outdir, " and %d plots" % len(made) if made else ""))
    if ctx:
        print("machine: %s CPUs at %s MHz, library build: %s" % (
            ctx.get("num_cpus"), ctx.get("mhz_per_cpu"), ctx.get("library_build_type")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
