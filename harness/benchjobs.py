# SPDX-License-Identifier: GPL-2.0
"""The job files of a 'make bench' run, for bench-report.py and bench-cpu.py.

RUN_DIR/raw holds one JSON per job in fio's shape, named
r<rep>-<geometry>-<path>-<case>-<bs>.json (r<rep>-tmpfs-<case>-<bs>.json for
the ceiling).
"""
import json
import os
import re

NAME = re.compile(r"^r(\d+)-(4k|1k|bigalloc|tmpfs)-(?:(bh|iomap)-)?([a-z]+)-(\w+)\.json$")
CASES = [("write", "buffered write"), ("dontcache", "RWF_DONTCACHE write"),
         ("hole", "read of a hole"), ("cached", "read of cached data"),
         ("ondisk", "read of on-disk data")]
GEOMETRIES = ("4k", "1k", "bigalloc", "tmpfs")


def size_key(bs):
    return {"1k": 0, "4k": 1, "64k": 2, "1m": 3}.get(bs.lower(), 9)


def case_key(case):
    return next((i for i, (c, _) in enumerate(CASES) if c == case), len(CASES))


def jobs(raw):
    """(name, rep, (geo, path, case, bs), fio's JSON, its job's I/O) of each job.

    path is "tmpfs" for the ceiling's jobs; the I/O is the direction that
    moved data.
    """
    for name in sorted(os.listdir(raw)):
        m = NAME.match(name)
        if not m:
            continue
        rep, geo, path, case, bs = m.groups()
        with open(os.path.join(raw, name)) as f:
            doc = json.load(f)
        job = doc["jobs"][0]
        io = job["read"] if job.get("read", {}).get("io_bytes") else job["write"]
        yield name, int(rep), (geo, path or "tmpfs", case, bs), doc, io
