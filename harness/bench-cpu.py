#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Where the CPU of each 'make bench' job went, from the host's perf samples.

usage: perf script -F comm,time,period,ip,sym,dso | bench-cpu.py KERNEL_DIR RUN_DIR

UML is a host process, so the host's perf (BENCH_PERF=1, recorded with
-k realtime) samples the guest's kernel, its user space and the host's own
work for them alike.  The guest's clock is the host's, so the window that
fio writes into each job's JSON (timestamp_ms at its end, job_runtime
before that) picks out the job's samples.  Each sample counts as one of:

  the guest kernel in fio's system calls (a frame in UML's handle_syscall),
  split by the object file of its function (names resolved with nm over
  KERNEL_DIR's archives; a static function that several files define counts
  for the first): ext4 (with jbd2), iomap, buffer_head (fs/buffer.c,
  fs/mpage.c), page cache (mm/), copy (lib/iov_iter.c: the copy from the
  user's buffer), block (any frame in block/ or the ramdisk driver, whose
  copies and page allocations a device does on real hardware), UML (arch/um:
  its signal masking, and its walk of the user's page tables around each
  copy), other; a function of lib/ or a string routine (memcpy, the xarray)
  counts for its nearest caller outside them, or for copy under iov_iter;
  the rest of the guest kernel in the window (writeback, the ramdisk, timers);
  fio (the guest's user space);
  host (the host's kernel and libc working for UML: page faults on the
  guest's memory, the switches between UML's kernel thread and the guest's
  processes at each system call), which a kernel on real hardware does not
  pay.

Prints milliseconds of CPU per GiB moved, pooled over the repetitions, and
for each job run on both paths the I/O thread's CPU per GiB (its system
calls, without the ramdisk's work in them, and its own code) of the
buffer_head path over the iomap path's: with writeback on other CPUs and a
device doing the copying, as on real hardware, that is what bounds one
writer into the page cache, or one reader.
"""
import bisect
import os
import re
import subprocess
import sys

from benchjobs import GEOMETRIES, case_key, jobs, size_key

GIB = 1 << 30
HEADER = re.compile(r"^(.*?)\s+(\d+\.\d+):\s+(\d+)\s*$")
FRAME = re.compile(r"^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$")
GROUPS = ("ext4", "iomap", "buffer_head", "page cache", "copy", "block", "UML", "other")
FUNCTION_TYPES = {"t", "T", "w", "W"}


def object_group(obj):
    """The group of a kernel object file; "lib" for the helpers of all."""
    if obj.startswith(("fs/ext4/", "fs/jbd2/")):
        return "ext4"
    if obj.startswith("fs/iomap/"):
        return "iomap"
    if obj in ("fs/buffer.o", "fs/mpage.o"):
        return "buffer_head"
    if obj == "lib/iov_iter.o":
        return "copy"
    if obj.startswith(("block/", "drivers/block/")):
        return "block"
    if obj.startswith("mm/"):
        return "page cache"
    if obj.startswith(("lib/", "arch/x86/lib/")):
        return "lib"
    if obj.startswith(("arch/um/", "arch/x86/um/")):
        return "UML"
    return "other"


def symbol_groups(kdir):
    """{function name: group} from nm over the kernel's thin archives."""
    groups = {}
    for archive in ("built-in.a", "lib/lib.a"):
        path = os.path.join(kdir, archive)
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: is {kdir} the kernel that was sampled?")
        # From KERNEL_DIR, so that nm names the members as the build does.
        out = subprocess.run(["nm", "-A", "--defined-only", archive], cwd=kdir, check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            # built-in.a:fs/ext4/inode.o:0000000000001234 t ext4_da_map_blocks
            where, _, rest = line.rpartition(":")
            fields = rest.split()
            if len(fields) == 3 and fields[1] in FUNCTION_TYPES:
                groups.setdefault(fields[2], object_group(where.split(":", 1)[1]))
    return groups


def samples(stream):
    """(time, ns, comm, [(function, dso)] leaf first) of each sample."""
    head, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        m = HEADER.match(line)
        if m:
            if head:
                yield head + (frames,)
            head, frames = (float(m.group(2)), int(m.group(3)), m.group(1).strip()), []
            continue
        m = FRAME.match(line)
        if m and head:
            frames.append(m.groups())
    if head:
        yield head + (frames,)


def classify(comm, frames, linux, groups):
    """(column, in a system call) of one sample.

    A sample without frames is one perf could not resolve at all; it
    counts as the host's.
    """
    if not frames or frames[0][1] == "[kernel.kallsyms]":
        return "host", False
    if comm.startswith(("uml-userspace", "memfd:uml")):
        return "fio", False
    if frames[0][1] != linux:
        return "host", False
    syscall = any(f == "handle_syscall" and dso == linux for f, dso in frames)
    seen = [groups.get(f, "other") for f, dso in frames if dso == linux]
    # The ramdisk's copies and page allocations are a device's work.
    if "block" in seen:
        return "block", syscall
    if seen[0] != "lib":
        return seen[0], syscall
    # A helper (memcpy, xarray, ...): the copy from the user's buffer,
    # else its nearest caller outside lib/ (UML's walk of the user's page
    # tables around that memcpy is UML's own code).
    if "copy" in seen:
        return "copy", syscall
    return next((g for g in seen if g != "lib"), "other"), syscall


def windows(raw):
    """[(start, end, key, GiB moved)] of the jobs whose JSON has a window."""
    out = []
    for _, _, key, doc, io in jobs(raw):
        job = doc["jobs"][0]
        if "timestamp_ms" not in doc or "job_runtime" not in job:
            continue
        end = doc["timestamp_ms"] / 1000
        out.append((end - job["job_runtime"] / 1000, end, key, io["io_bytes"] / GIB))
    return sorted(out)


def main():
    kdir, run = sys.argv[1], sys.argv[2]
    groups = symbol_groups(kdir)
    jobs = windows(os.path.join(run, "raw"))
    if not jobs:
        sys.exit(f"no job windows in {run}/raw: fio's JSON has none?")
    starts = [j[0] for j in jobs]
    gib, ns, count = {}, {}, {}
    for _, _, key, moved in jobs:
        gib[key] = gib.get(key, 0) + moved
    if not all(gib.values()):
        sys.exit(f"a job in {run}/raw moved no data: " + ", ".join(
            "-".join(k) for k, v in gib.items() if not v))
    linux = os.path.realpath(os.path.join(kdir, "linux"))
    for t, period, comm, frames in samples(sys.stdin):
        i = bisect.bisect_right(starts, t) - 1
        if i < 0 or t >= jobs[i][1]:
            continue
        key = jobs[i][2]
        col, syscall = classify(comm, frames, linux, groups)
        if col in GROUPS and not syscall:
            col = "rest"
        cell = ns.setdefault(key, dict.fromkeys(GROUPS + ("rest", "fio", "host"), 0))
        cell[col] += period
        count[key] = count.get(key, 0) + 1
    if not ns:
        sys.exit("no perf sample falls in a job's window: no samples at all, or perf "
                 "recorded without -k realtime")
    print_table({k: {c: v / 1e6 / gib[k] for c, v in cell.items()} for k, cell in ns.items()},
                count)


def thread_cpu(ms):
    """The I/O thread's own CPU per GiB: its system calls and its user
    space, without what the ramdisk does in them (a device's work)."""
    return sum(ms[g] for g in GROUPS if g != "block") + ms["fio"]


def print_table(ms, count):
    keys = sorted(ms, key=lambda k: (case_key(k[2]), size_key(k[3]),
                                     GEOMETRIES.index(k[0]), k[1]))
    print("CPU per GiB moved in each job, from the host's perf samples "
          "(ms/GiB, pooled over the repetitions)")
    print(" " * 27 + "| " + "in fio's system calls".ljust(len(GROUPS) * 12 + 5) + "|")
    print(f"{'job':<27}|" + "".join(f"{g:>12}" for g in GROUPS) + f"{'all':>6}"
          + f" |{'rest':>6}{'fio':>6}{'host':>6}{'samples':>9}")
    for key in keys:
        c = ms[key]
        print(f"{'-'.join(key):<27}|" + "".join(f"{c[g]:>12.0f}" for g in GROUPS)
              + f"{sum(c[g] for g in GROUPS):>6.0f} |{c['rest']:>6.0f}{c['fio']:>6.0f}"
              + f"{c['host']:>6.0f}{count[key]:>9}")
    print()
    lines = []
    for geo, path, case, bs in keys:
        io = (geo, "iomap", case, bs)
        if path == "bh" and io in ms:
            bh, new = thread_cpu(ms[(geo, path, case, bs)]), thread_cpu(ms[io])
            ratio = f"{bh / new:.2f}" if new else "-"
            lines.append(f"  {geo:<9} {case:<10} {bs:<4} {bh:.0f} / {new:.0f} ms = {ratio}")
    if lines:
        print("The I/O thread's CPU per GiB (its system calls but the ramdisk's work in "
              "them, and fio's own code), bh / iomap:")
        print("\n".join(lines))
        print()


if __name__ == "__main__":
    main()
