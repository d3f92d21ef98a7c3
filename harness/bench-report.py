#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Tables and the chart's data from the fio JSON of 'make bench'.

usage: bench-report.py RUN_DIR

RUN_DIR/raw holds one JSON per job, named r<rep>-<geometry>-<path>-<case>-<bs>
(r<rep>-tmpfs-<case>-<bs> for the ceiling), and for the write jobs the
kernel's counters around the job in the same name with .counters (and, in
the first repetition, .folios: bench-folios.py's view of the page cache
before and after the job).  RUN_DIR/settings.txt, when there, has lines for
the heading (a kernel other than the series').  Prints the tables (bench.sh
keeps them in build/bench/report.txt) and writes RUN_DIR/ratios.dat and
RUN_DIR/mibs.dat for gnuplot.

Each figure is the median over the repetitions with min-max; a ratio is
iomap/bh of the same repetition (the guest alternates which path goes first)
and is given as the median of those paired ratios with their min-max.
"""
import os
import re
import statistics
import sys

from benchjobs import CASES, jobs, size_key

MIB = 1 << 20
GIB = 1 << 30


def load_counters(path, gib):
    """{counter: value per GiB written} of one job, or None"""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        pairs = [line.split() for line in f if line.strip()]
    return {k: int(v) / gib for k, v in pairs}


def load(raw):
    """{(geo, path, case, bs): {rep: (MiB/s, CPU s per GiB, counters)}}"""
    data = {}
    for name, rep, key, doc, io in jobs(raw):
        job = doc["jobs"][0]
        secs = io["runtime"] / 1000
        if not io["io_bytes"] or secs <= 0:
            sys.exit(f"{name}: the job did no I/O")
        mibs = io["io_bytes"] / MIB / secs
        cpu = (job["usr_cpu"] + job["sys_cpu"]) / 100 * secs / (io["io_bytes"] / GIB)
        counters = load_counters(os.path.join(raw, name[:-len(".json")] + ".counters"),
                                 io["io_bytes"] / GIB)
        data.setdefault(key, {})[rep] = (mibs, cpu, counters)
    if not data:
        sys.exit(f"no fio results in {raw}")
    return data


def stats(vals):
    return statistics.median(vals), min(vals), max(vals)


def fig(data, key, idx=0):
    runs = data.get(key)
    return stats([v[idx] for v in runs.values()]) if runs else None


def ratio(data, geo, case, bs):
    bh, io = data.get((geo, "bh", case, bs)), data.get((geo, "iomap", case, bs))
    if not bh or not io:
        return None
    return stats([io[r][0] / bh[r][0] for r in bh if r in io])


def fmt(s, width=15):
    if s is None:
        return "-".rjust(width)
    med, lo, hi = s
    if med >= 100:
        txt = f"{med:.0f} ({lo:.0f}-{hi:.0f})"
    else:
        txt = f"{med:.1f} ({lo:.1f}-{hi:.1f})"
    return txt.rjust(width)


def fmt_ratio(s):
    if s is None:
        return "-".rjust(17)
    med, lo, hi = s
    return f"{med:.2f} ({lo:.2f}-{hi:.2f})".rjust(17)


def sizes(data):
    return sorted({k[3] for k in data}, key=size_key)


def table(out, data, geo, cases, title):
    present = [c for c in cases if any(k[0] == geo and k[2] == c[0] for k in data)]
    if not present:
        return
    out.append(f"{title} (MiB/s: median (min-max); ratio iomap/bh: median (min-max) of paired runs)")
    hdr = "bs   "
    for case, _ in present:
        hdr += f"| {case + ' bh':>15} {case + ' iomap':>15} {'ratio':>17} "
    if geo == "4k":
        hdr += "| tmpfs write     tmpfs cached"
    out.append(hdr)
    for bs in sizes(data):
        row = f"{bs:<5}"
        for case, _ in present:
            row += "| " + fmt(fig(data, (geo, "bh", case, bs))) + " " + \
                fmt(fig(data, (geo, "iomap", case, bs))) + " " + fmt_ratio(ratio(data, geo, case, bs)) + " "
        if geo == "4k":
            row += "| " + fmt(fig(data, ("tmpfs", "tmpfs", "write", bs))) + " " + \
                fmt(fig(data, ("tmpfs", "tmpfs", "cached", bs)))
        out.append(row)
    out.append("")


def cpu_table(out, data):
    out.append("CPU of the I/O thread (usr+sys), seconds per GiB moved: median bh / iomap")
    out.append("bs   " + "".join(f"| {c:>19} " for c, _ in CASES))
    for bs in sizes(data):
        row = f"{bs:<5}"
        for case, _ in CASES:
            bh, io = fig(data, ("4k", "bh", case, bs), 1), fig(data, ("4k", "iomap", case, bs), 1)
            cell = f"{bh[0]:.3f} / {io[0]:.3f}" if bh and io else "-"
            row += f"| {cell:>19} "
        out.append(row)
    out.append("")


def counter_table(out, data):
    keys = (("allocations", "mballoc requests"),
            ("ctxt", "context switches"),
            ("during_mib", "written during, MiB"),
            ("sync_ms", "sync after it, ms"),
            ("extents", "file extents"))
    rows = []
    for geo in ("4k", "1k", "bigalloc"):
        for bs in sizes(data):
            cells = []
            for key, _ in keys:
                pair = []
                for path in ("bh", "iomap"):
                    runs = data.get((geo, path, "write", bs), {})
                    vals = [v[2][key] for v in runs.values() if v[2] and key in v[2]]
                    pair.append(f"{statistics.median(vals):.0f}" if vals else "-")
                cells.append(" / ".join(pair))
            if any(c != "- / -" for c in cells):
                rows.append(f"{geo:<9}{bs:<5}" + "".join(f"| {c:>21} " for c in cells))
    if not rows:
        return
    out.append("Kernel counters of the buffered write, per GiB written: median bh / iomap")
    out.append(" " * 14 + "".join(f"| {title:>21} " for _, title in keys))
    out.extend(rows)
    out.append("")


def folio_table(out, raw):
    """The page cache after the first repetition's write jobs."""
    rows = {}
    for name in sorted(os.listdir(raw)):
        m = re.match(r"^r1-(4k|1k|bigalloc)-(bh|iomap)-write-(\w+)\.folios$", name)
        if not m:
            continue
        geo, path, bs = m.groups()
        with open(os.path.join(raw, name)) as f:
            lines = [line.split() for line in f if line.strip()]
        # "?" for a scan that failed or was cut short, rather than no report.
        cell = "?"
        if len(lines) == 2 and all(len(v) == 3 and all(x.isdigit() for x in v)
                                   for v in lines):
            (file0, large0, _), (file1, large1, kib) = [[int(x) for x in v] for v in lines]
            if file1 > file0:
                pct = min(max(round(100 * (large1 - large0) / (file1 - file0)), 0), 100)
                cell = f"{pct}% <= {kib}k" if pct else "0%"
        rows.setdefault((geo, bs), {})[path] = cell
    if not rows:
        return
    out.append("Page cache after the buffered write (repetition 1): the file's pages in folios larger than a page (roughly), largest folio in memory")
    out.append(" " * 14 + "".join(f"| {p:>15} " for p in ("bh", "iomap")))
    order = {g: i for i, g in enumerate(("4k", "1k", "bigalloc"))}
    for (geo, bs) in sorted(rows, key=lambda k: (order[k[0]], size_key(k[1]))):
        cells = rows[(geo, bs)]
        out.append(f"{geo:<9}{bs:<5}" + "".join(f"| {cells.get(p, '-'):>15} "
                                                for p in ("bh", "iomap")))
    out.append("")


def verdict(out, data):
    out.append("Goals: iomap/bh >= 1.3 for the 64k and 1M buffered write (4k blocks); >= 1.0 for every case at 64k and above")
    for geo in ("4k", "1k", "bigalloc"):
        for case, _ in CASES:
            for bs in sizes(data):
                r = ratio(data, geo, case, bs)
                if r is None or bs.lower() not in ("64k", "1m"):
                    continue
                goal = 1.3 if (case == "write" and geo == "4k") else 1.0
                mark = "ok" if r[0] >= goal else ("BELOW 0.95" if r[0] < 0.95 else "below goal")
                out.append(f"  {geo:<9} {case:<10} {bs:<4} {r[0]:.2f}  (goal {goal})  {mark}")
    out.append("")


def dat_files(run, data):
    with open(os.path.join(run, "ratios.dat"), "w") as f:
        f.write("# label median min max\n")
        for geo in ("4k", "1k", "bigalloc"):
            for case, _ in CASES:
                for bs in sizes(data):
                    r = ratio(data, geo, case, bs)
                    if r:
                        label = f"{case} {bs}" if geo == "4k" else \
                            f"{case} {bs} ({'1k blocks' if geo == '1k' else geo})"
                        f.write(f'"{label}" {r[0]:.4f} {r[1]:.4f} {r[2]:.4f}\n')
    with open(os.path.join(run, "mibs.dat"), "w") as f:
        f.write("# label bh iomap tmpfs (medians, MiB/s)\n")
        for case, _ in CASES:
            for bs in sizes(data):
                bh, io = fig(data, ("4k", "bh", case, bs)), fig(data, ("4k", "iomap", case, bs))
                if not bh or not io:
                    continue
                ceil = fig(data, ("tmpfs", "tmpfs", "write" if case in ("write", "dontcache")
                                  else "cached", bs))
                f.write(f'"{case} {bs}" {bh[0]:.1f} {io[0]:.1f} {ceil[0] if ceil else 0:.1f}\n')


def main():
    run = sys.argv[1]
    data = load(os.path.join(run, "raw"))
    reps = max(len(v) for v in data.values())
    out = [f"make bench: {reps} repetitions, fio psync, one job; see README 'Reading the benchmark'"]
    settings = os.path.join(run, "settings.txt")
    if os.path.exists(settings):
        with open(settings) as f:
            out.extend(line.rstrip() for line in f if line.strip())
    out.append("")
    table(out, data, "4k", CASES[:2], "Buffered write, 4k blocks")
    table(out, data, "4k", CASES[2:], "Buffered read, 4k blocks")
    table(out, data, "1k", CASES[:1], "Buffered write, 1k blocks")
    table(out, data, "bigalloc", CASES[:1], "Buffered write, bigalloc (4k blocks, 64k clusters)")
    cpu_table(out, data)
    counter_table(out, data)
    folio_table(out, os.path.join(run, "raw"))
    verdict(out, data)
    print("\n".join(out))
    dat_files(run, data)


if __name__ == "__main__":
    main()
