# Turns vpn-bench.sh's raw records
#   tunnel=T bench=B cond=C cc=CC stat=S unit=U value=V
# into a table for people, one machine-readable line per measurement
#   bench=B cond=C cc=CC [stat=S] kcpvpnd=X kcpvpnd_salsa20=X2 kcpvpnd_secure=X3 wireguard_go=Y
#     openvpn=Z unit=U ratio_wg=X/Y ratio_wg_salsa20=X2/Y ratio_wg_secure=X3/Y
# and, when -v plotdata=DIR is given, the data files of bench/vpn/plot.gp in DIR:
# tcp.dat, cpu.dat (one row per condition and cc), ping.dat (one row per condition) and rr.dat
# (one row per statistic, cc and condition), each with the five tunnels as columns.

function ratio(a, b) {
	if (a == "-" || b == "-" || b + 0 == 0)
		return "-"
	return sprintf("%.2f", a / b)
}

function val(k, t) {
	return ((k, t) in v) ? v[k, t] : "-"
}

{
	delete f
	for (i = 1; i <= NF; i++) {
		eq = index($i, "=")
		if (eq > 0)
			f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
	k = f["bench"] SUBSEP f["cond"] SUBSEP f["cc"] SUBSEP f["stat"]
	if (!(k in unit)) {
		order[++n] = k
		unit[k] = f["unit"]
	}
	v[k, f["tunnel"]] = f["value"]
}

END {
	nt = split("kcpvpnd kcpvpnd_salsa20 kcpvpnd_secure wireguard_go openvpn", tun, " ")
	hdr = sprintf("%-5s %-12s %-5s %-4s %-7s %10s %10s %10s %10s %10s %7s %7s %7s", "bench",
		"cond", "cc", "stat", "unit", "kcp-aes", "kcp-salsa", "kcp-secure", "wg-go", "openvpn",
		"aes/wg", "sal/wg", "sec/wg")
	print ""
	print hdr
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP)
		k = order[i]
		printf "%-5s %-12s %-5s %-4s %-7s %10s %10s %10s %10s %10s %7s %7s %7s\n", p[1], p[2],
			p[3], p[4], unit[k], val(k, tun[1]), val(k, tun[2]), val(k, tun[3]),
			val(k, tun[4]), val(k, tun[5]), ratio(val(k, tun[1]), val(k, tun[4])),
			ratio(val(k, tun[2]), val(k, tun[4])), ratio(val(k, tun[3]), val(k, tun[4]))
	}
	print ""
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP)
		k = order[i]
		line = "bench=" p[1] " cond=" p[2] " cc=" p[3]
		if (p[4] != "-")
			line = line " stat=" p[4]
		for (j = 1; j <= nt; j++)
			line = line " " tun[j] "=" val(k, tun[j])
		line = line " unit=" unit[k] " ratio_wg=" ratio(val(k, tun[1]), val(k, tun[4])) \
			" ratio_wg_salsa20=" ratio(val(k, tun[2]), val(k, tun[4])) \
			" ratio_wg_secure=" ratio(val(k, tun[3]), val(k, tun[4]))
		print line
	}
	if (plotdata == "")
		exit
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP)
		k = order[i]
		if (p[1] == "tcp" || p[1] == "cpu")
			file = plotdata "/" p[1] ".dat"
		else if (p[1] == "ping" && p[4] == "avg")
			file = plotdata "/ping.dat"
		else if (p[1] == "rr")
			file = plotdata "/rr.dat"
		else
			continue
		label = p[2]
		if (p[1] == "tcp" || p[1] == "cpu")
			label = label "/" p[3]
		if (p[1] == "rr")
			label = p[4] "/" p[3] (p[2] == "rtt50-loss5" ? "" : "/" p[2])
		row = "\"" label "\""
		for (j = 1; j <= nt; j++)
			row = row " " val(k, tun[j])
		print row > file
	}
}
