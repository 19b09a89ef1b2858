# Plot of vpn-bench.sh's figures: gnuplot -e "datadir='DIR'; out='FILE.png'" plot.gp
# DIR holds tcp.dat, cpu.dat, ping.dat and rr.dat from report.awk: a quoted label, then one
# column per tunnel (kcpvpnd aes-128, kcpvpnd salsa20, kcpvpnd secure, wireguard-go, openvpn);
# "-" is missing.
set terminal pngcairo size 1600,1000 font ",10"
set output out
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set xtics rotate by -25 nomirror
titles = "kcpvpnd-aes128 kcpvpnd-salsa20 kcpvpnd-secure wireguard-go openvpn"
colors = "#1f77b4 #6baed6 #9467bd #d62728 #2ca02c"

set multiplot layout 2,2 title "kcpvpnd vs wireguard-go vs OpenVPN: 2-core shared VM, " . \
	"netns + veth, kcpimpair relay (25 ms each way, independent loss both ways)"

set title "iperf3 TCP, one stream, client -> server (log scale)"
set ylabel "Mbit/s"
set logscale y
set yrange [0.5:*]
plot for [i=2:6] datadir."/tcp.dat" using i:xtic(1) title word(titles, i-1) \
	linecolor rgb word(colors, i-1)
unset logscale y

set title "CPU seconds of both tunnel processes during each iperf3 run"
set ylabel "CPU s"
set yrange [0:*]
plot for [i=2:6] datadir."/cpu.dat" using i:xtic(1) title word(titles, i-1) \
	linecolor rgb word(colors, i-1)

set title "ping through the tunnel, average RTT"
set ylabel "ms"
plot for [i=2:6] datadir."/ping.dat" using i:xtic(1) title word(titles, i-1) \
	linecolor rgb word(colors, i-1)

set title "1 KiB request/response every 10 ms, 50 ms RTT, 5% loss: completion time (log scale)"
set ylabel "ms"
set logscale y
set yrange [10:*]
plot for [i=2:6] datadir."/rr.dat" using i:xtic(1) title word(titles, i-1) \
	linecolor rgb word(colors, i-1)
unset multiplot
