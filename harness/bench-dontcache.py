#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Sequential buffered writes with RWF_DONTCACHE, for 'make bench'.

Debian 12's fio (3.33) implements uncached=1 with the flag value first
proposed for it, 0x40, which Linux 7.3 defines as RWF_ATOMIC; RWF_DONTCACHE
is 0x80, and no tool packaged for Debian 12 issues it.  Python's
os.pwritev() passes any flags to pwritev2(2), so this loop does what fio's
psync engine does for a sequential write (one pwritev2 per block, no fsync)
and prints its figures in the shape of fio's JSON that the report reads.

usage: bench-dontcache.py FILE BS SIZE RUNTIME_S
"""
import json
import os
import sys
import time

RWF_DONTCACHE = 0x80


def parse_size(s):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    if s[-1].lower() in units:
        return int(s[:-1]) * units[s[-1].lower()]
    return int(s)


def main():
    path, bs, size, runtime = sys.argv[1], parse_size(sys.argv[2]), \
        parse_size(sys.argv[3]), float(sys.argv[4])
    buf = os.urandom(bs)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t0, c0 = time.monotonic(), os.times()
    off = 0
    while off < size and time.monotonic() - t0 < runtime:
        n = os.pwritev(fd, [buf], off, RWF_DONTCACHE)
        if n != bs:
            sys.exit(f"short write at {off}: {n} of {bs}")
        off += n
    elapsed, c1 = time.monotonic() - t0, os.times()
    os.close(fd)
    ms = elapsed * 1000
    # usr/sys as fio reports them: percent of the job's run time.
    job = {"jobname": os.path.basename(path), "usr_cpu": 100 * (c1.user - c0.user) / elapsed,
           "sys_cpu": 100 * (c1.system - c0.system) / elapsed,
           "write": {"io_bytes": off, "runtime": ms, "bw_bytes": off / elapsed}}
    # The job's window as fio gives it (its end, then its length), which
    # bench-cpu.py uses to pick the job's perf samples.
    job["job_runtime"] = round(ms)
    json.dump({"tool": "bench-dontcache.py", "timestamp_ms": round(time.time() * 1000),
               "jobs": [job]}, sys.stdout)


if __name__ == "__main__":
    main()
