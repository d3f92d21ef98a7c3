#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""How the page cache holds file data: pages, or large folios.

usage: bench-folios.py

Run by bench-guest.sh as root inside the guest, before and after a write
job.  Reads the flags of every page frame from /proc/kpageflags and prints
"FILE LARGE LARGEST_KIB": the frames that hold file data on the LRU lists
(LRU, neither anonymous nor shmem), how many of them are part of a folio
larger than a page (head or tail of a compound page), and the largest such
folio anywhere in memory.  The difference between the two runs is roughly
the job's file: the guest drops the caches before each job, and the rest
of what the job brings into the cache (fio's own files through hostfs, the
device's metadata) is small beside it.

It reads no file's mapping: mapping a large folio into a process is what a
kernel without THP must not be asked to do (bench-large-folios.patch).
"""
import array
import mmap
import sys

KPF_LRU = 1 << 5
KPF_ANON = 1 << 12
KPF_SWAPBACKED = 1 << 14
KPF_COMPOUND_HEAD = 1 << 15
KPF_COMPOUND_TAIL = 1 << 16
CHUNK = 1 << 16  # frames per read


def main():
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    page_kib = mmap.PAGESIZE // 1024
    file_pages = large = largest = run = 0
    with open("/proc/kpageflags", "rb", buffering=0) as kpageflags:
        while True:
            buf = kpageflags.read(CHUNK * 8)
            if not buf:
                break
            flags = array.array("Q")
            flags.frombytes(buf[:len(buf) // 8 * 8])
            for f in flags:
                if f & KPF_COMPOUND_TAIL and run:
                    run += 1
                    large += 1
                    file_pages += 1
                    continue
                largest = max(largest, run)
                run = 0
                if not f & KPF_LRU or f & (KPF_ANON | KPF_SWAPBACKED):
                    continue
                file_pages += 1
                if f & KPF_COMPOUND_HEAD:
                    run = 1
                    large += 1
    largest = max(largest, run)
    print(f"{file_pages} {large} {largest * page_kib}")


if __name__ == "__main__":
    main()
