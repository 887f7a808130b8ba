# The benchmark chart: one bar panel per figure, one bar per proxy.
# bench/run.sh calls it with datafile (results.tsv without its header line),
# outfile and subtitle set by -e. A missing figure ("n/a") is a red "n/a".

# The first fourteen columns after the proxy's name: the TCP figures, then the
# HTTP ones (the CPU columns after them are in the tables only).
array titles[14] = ["keep-alive TCP (req/s)", "new conn TCP (req/s)", \
	"keep-alive Unix (req/s)", "new conn Unix (req/s)", "bulk up (Gbit/s)", \
	"bulk down (Gbit/s)", "p50 latency (ms)", "p99 latency (ms)", \
	"memory per idle conn (KiB)", "keep-alive HTTP (req/s)", \
	"new conn HTTP (req/s)", "HTTP p50 latency (ms)", \
	"HTTP p99 latency (ms)", "memory per idle HTTP conn (KiB)"]
array formats[14] = ["%.0f", "%.0f", "%.0f", "%.0f", "%.1f", "%.1f", "%.2f", \
	"%.2f", "%.1f", "%.0f", "%.0f", "%.2f", "%.2f", "%.1f"]
# Throughput (higher is better): the first six and the two HTTP req/s; the
# rest are costs.
better(i) = (i <= 6 || i == 10 || i == 11 ? "higher is better" : "lower is better")

set terminal pngcairo size 1600,1500 font ",9"
set output outfile
set datafile separator "\t"
set style fill solid 0.8 border -1
# Nine rows and more: gnuplot's default colours repeat after eight.
set linetype 9 lc rgb "#8c564b"
set linetype 10 lc rgb "#17becf"
set linetype 11 lc rgb "#7f7f7f"
set boxwidth 0.7
set yrange [0:*]
# Every proxy keeps its slot (and its colour) in every panel, even where its
# figure is missing.
stats datafile using 0 nooutput
set xrange [-0.5:STATS_records - 0.5]
set xtics rotate by -30 nomirror
set grid ytics
unset key

set multiplot layout 4,4 title "pv-xconnect benchmark (" . subtitle . ")" font ",12"
do for [i = 1:14] {
	set title titles[i] . ", " . better(i)
	fmt = formats[i]
	plot datafile using 0:(column(i + 1)):($0 + 1):xtic(1) with boxes lc variable, \
	     datafile using 0:(column(i + 1)):(sprintf(fmt, column(i + 1))) \
	     with labels offset 0,0.7 font ",8", \
	     datafile using 0:(0):(strcol(i + 1) eq "n/a" ? "n/a" : "") \
	     with labels offset 0,0.7 font ",8" tc "red"
}
unset multiplot
