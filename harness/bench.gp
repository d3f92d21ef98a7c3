# SPDX-License-Identifier: GPL-2.0
# The chart of 'make bench', from bench-report.py's data files.
# gnuplot -e "run='<run dir>'; out='<png>'; reps=<n>" harness/bench.gp
set terminal pngcairo size 1400,1000 font ",10" noenhanced
set output out
set multiplot layout 2,1 title sprintf("ext4 buffered I/O under UML: iomap against buffer_head (fio psync, %d repetitions)", reps)

set title "iomap / bh throughput: median of paired runs, bars min-max (above 1 = iomap faster)"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.6 border -1
set xtics rotate by -45 nomirror
# Room on the right for the last label, which slants past the plot.
set rmargin 12
set ytics nomirror
set grid ytics
# Past 3 a ratio says nothing more; a longer bar is cut at the top.
set yrange [0:3]
set key off
plot run."/ratios.dat" using 2:3:4:xtic(1) lc rgb "#3a6ea5", \
     1.0 with lines lc rgb "black" dt 2 notitle, \
     1.3 with lines lc rgb "#c0392b" dt 3 notitle

set title "Throughput, 4k blocks (MiB/s, log scale, medians); tmpfs: the same job on a page cache filesystem without blocks"
set style histogram clustered gap 1
set logscale y
set yrange [*:*]
set key top left
plot run."/mibs.dat" using 2:xtic(1) title "buffer_head" lc rgb "#999999", \
     "" using 3 title "iomap" lc rgb "#3a6ea5", \
     "" using 4 title "tmpfs" lc rgb "#e0b040"
unset multiplot
