// Command kcpgo-tun is a plain kcp-go 5.6.1 VPN endpoint: a TUN interface on one side, one
// kcp-go session dialled to a kcpvpnd server on the other. It knows nothing of kcpvpnd beyond
// what any kcptun-style program would: the cipher, the passphrase, FEC shards, message mode.
// tests/e2e/kcpgo.sh uses it to show that a kcpvpnd server serves a bare kcp-go peer.
//
// Build it with ./build.sh OUTDIR (offline, GOPATH mode over Debian's packages, no network).
//
//	kcpgo-tun -dial 10.201.0.1:4000 -crypt aes -key PASS -ds 10 -ps 3 \
//	    -ifname kgo0 -addr 10.9.0.2/24 -addr fd00:9::2/64
//
// The data path is one message per IP packet, in both directions:
//
//	TUN read    -> one sess.Write (message mode: one KCP message)
//	sess.Read   -> one TUN write
//
// kcp-go cuts a Write longer than the session's MSS into separate messages, which would break
// an IP packet in two, so the TUN's MTU is set to that MSS (1348 for aes and FEC at -mtu 1400)
// and a longer read is dropped and counted, never split. Messages that are not IP packets
// (kcpvpnd's keepalives start with the byte 0x01) are written to the TUN all the same: the
// kernel refuses them (EINVAL, counted in the link's rx_dropped), and they are counted here.
//
// Once the interface is configured it prints "kcpgo-tun: up ifname=... mtu=... conv=..." on
// stdout. SIGUSR1 prints a stats line on stderr; SIGTERM or SIGINT prints it, closes the
// session and the TUN, and exits 0. Errors and -timeout exit 1 with one line on stderr.
package main

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/pbkdf2"
)

const (
	kcpOverhead = 24 // KCP segment header
	cryptHeader = 20 // nonce(16) + crc32(4), for any BlockCrypt
	fecHeader   = 8  // seqid(4) + flag(2) + size(2)
	bufBytes    = 65536

	// <linux/if_tun.h> and <linux/if.h>
	tunSetIff = 0x400454ca // TUNSETIFF = _IOW('T', 202, int)
	iffTun    = 0x0001
	iffNoPi   = 0x1000
	ifNameSiz = 16
)

// nodelay, interval, resend, nc for each of kcptun's -mode values.
var modes = map[string][4]int{
	"normal": {0, 40, 2, 1},
	"fast":   {0, 30, 2, 1},
	"fast2":  {1, 20, 2, 1},
	"fast3":  {1, 10, 2, 1},
}

// addrList is a repeatable flag of comma-separated ADDR/PREFIX values.
type addrList []string

func (a *addrList) String() string { return strings.Join(*a, ",") }

func (a *addrList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if _, _, err := net.ParseCIDR(s); err != nil {
			return fmt.Errorf("want ADDR/PREFIX, got %q", s)
		}
		*a = append(*a, s)
	}
	return nil
}

type config struct {
	dial, crypt, key, mode, ifname string
	ds, ps, mtu, sndwnd, rcvwnd    int
	sockbuf                        int
	addrs                          addrList
	timeout                        time.Duration
}

// counters of the data path; read by printStats from another goroutine.
var st struct {
	tunRx, tunRxTooLong, msgTx uint64
	msgRx, msgRxNonIP, tunTx   uint64
	tunTxErr                   uint64
	mu                         sync.Mutex
	firstNonIP, lastTunErr     string
}

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kcpgo-tun: "+format+"\n", args...)
	printStats()
	os.Exit(1)
}

func parseFlags() *config {
	c := new(config)
	var timeoutSec float64
	flag.StringVar(&c.dial, "dial", "", "UDP address of the kcpvpnd server, HOST:PORT")
	flag.StringVar(&c.crypt, "crypt", "aes", "none, null, aes, aes-128, aes-192 or salsa20")
	flag.StringVar(&c.key, "key", "it's a secrect", "pre-shared passphrase (kcptun's default)")
	flag.IntVar(&c.ds, "ds", 10, "FEC data shards (0 = FEC off)")
	flag.IntVar(&c.ps, "ps", 3, "FEC parity shards (0 = FEC off)")
	flag.IntVar(&c.mtu, "mtu", 1400, "largest UDP payload, at most 1500")
	flag.StringVar(&c.mode, "mode", "fast3", "normal, fast, fast2 or fast3 (kcptun's tables)")
	flag.IntVar(&c.sndwnd, "sndwnd", 1024, "send window in segments")
	flag.IntVar(&c.rcvwnd, "rcvwnd", 1024, "receive window in segments")
	flag.IntVar(&c.sockbuf, "sockbuf", 4194304, "UDP socket buffers in bytes")
	flag.StringVar(&c.ifname, "ifname", "kgo0", "name of the TUN interface")
	flag.Var(&c.addrs, "addr", "ADDR/PREFIX for the TUN, comma-separated, repeatable")
	flag.Float64Var(&timeoutSec, "timeout", 0, "exit 1 after this many seconds (0 = never)")
	flag.Parse()

	switch {
	case flag.NArg() != 0:
		die("unexpected argument %q", flag.Arg(0))
	case c.dial == "":
		die("-dial HOST:PORT is required")
	case c.ifname == "" || len(c.ifname) >= ifNameSiz:
		die("-ifname must be 1 to %d bytes, got %q", ifNameSiz-1, c.ifname)
	case c.ds < 0 || c.ps < 0 || c.ds+c.ps > 255:
		die("-ds and -ps must be >= 0 with ds+ps <= 255, got %d/%d", c.ds, c.ps)
	case c.mtu < 100 || c.mtu > 1500:
		die("-mtu must be 100..1500, got %d", c.mtu)
	case c.sndwnd <= 0 || c.rcvwnd <= 0 || c.sockbuf <= 0:
		die("-sndwnd, -rcvwnd and -sockbuf must be positive")
	case timeoutSec < 0:
		die("-timeout must be >= 0, got %g", timeoutSec)
	}
	if _, ok := modes[c.mode]; !ok {
		die("-mode must be normal, fast, fast2 or fast3, got %q", c.mode)
	}
	c.timeout = time.Duration(timeoutSec * float64(time.Second))
	return c
}

// newBlock keys a BlockCrypt as kcptun does: pbkdf2(key, "kcp-go", 4096, 32, sha1), all 32
// bytes for aes (AES-256) and salsa20, the first 16 or 24 for aes-128 and aes-192. "null"
// is a nil BlockCrypt: no nonce and CRC header at all.
func newBlock(name, key string) (kcp.BlockCrypt, error) {
	pass := pbkdf2.Key([]byte(key), []byte("kcp-go"), 4096, 32, sha1.New)
	switch name {
	case "null":
		return nil, nil
	case "none":
		return kcp.NewNoneBlockCrypt(pass)
	case "aes":
		return kcp.NewAESBlockCrypt(pass)
	case "aes-128":
		return kcp.NewAESBlockCrypt(pass[:16])
	case "aes-192":
		return kcp.NewAESBlockCrypt(pass[:24])
	case "salsa20":
		return kcp.NewSalsa20BlockCrypt(pass)
	}
	return nil, fmt.Errorf("-crypt must be none, null, aes, aes-128, aes-192 or salsa20, "+
		"got %q", name)
}

// tunOpen creates the TUN interface name (IFF_TUN | IFF_NO_PI: bare IP packets) and returns
// it as a file on Go's poller, so that closing it ends a blocked Read.
func tunOpen(name string) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %v", err)
	}
	var ifr [40]byte // struct ifreq: the name, then the flags (short) in the union
	copy(ifr[:ifNameSiz-1], name)
	*(*uint16)(unsafe.Pointer(&ifr[ifNameSiz])) = iffTun | iffNoPi
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff,
		uintptr(unsafe.Pointer(&ifr[0])))
	if errno != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %v", name, errno)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("O_NONBLOCK: %v", err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun"), nil
}

// ipRun runs ip(8) with args and names the command in its error.
func ipRun(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}
	return nil
}

// tunConfigure sets the MTU and the addresses (IPv6 without DAD: a TUN has no neighbours)
// and brings the interface up.
func tunConfigure(name string, mtu int, addrs []string) error {
	if err := ipRun("link", "set", "dev", name, "mtu", fmt.Sprint(mtu)); err != nil {
		return err
	}
	for _, a := range addrs {
		args := []string{"addr", "add", a, "dev", name}
		if ip, _, _ := net.ParseCIDR(a); ip.To4() == nil {
			args = append(args, "nodad")
		}
		if err := ipRun(args...); err != nil {
			return err
		}
	}
	return ipRun("link", "set", "dev", name, "up")
}

// tune applies the flags to the session and returns its MSS, checked against the arithmetic
// of the wire spec (mtu - 24 - crypto header - FEC header).
func tune(s *kcp.UDPSession, c *config, block kcp.BlockCrypt) int {
	m := modes[c.mode]
	s.SetStreamMode(false)
	s.SetWriteDelay(false)
	s.SetNoDelay(m[0], m[1], m[2], m[3])
	s.SetWindowSize(c.sndwnd, c.rcvwnd)
	if !s.SetMtu(c.mtu) {
		die("kcp-go refused -mtu %d", c.mtu)
	}
	if err := s.SetReadBuffer(c.sockbuf); err != nil {
		die("SetReadBuffer: %v", err)
	}
	if err := s.SetWriteBuffer(c.sockbuf); err != nil {
		die("SetWriteBuffer: %v", err)
	}
	want := c.mtu - kcpOverhead
	if block != nil {
		want -= cryptHeader
	}
	if c.ds > 0 && c.ps > 0 {
		want -= fecHeader
	}
	if mss := s.PeerMSS(); mss != want {
		die("kcp-go's MSS is %d, the spec's arithmetic gives %d", mss, want)
	}
	return want
}

// tunToSession: one TUN read is one sess.Write, so one KCP message; never split.
func tunToSession(tun *os.File, s *kcp.UDPSession, mss int, stop <-chan struct{}) {
	buf := make([]byte, bufBytes)
	for {
		n, err := tun.Read(buf)
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			die("reading the TUN: %v", err)
		}
		atomic.AddUint64(&st.tunRx, 1)
		if n > mss {
			atomic.AddUint64(&st.tunRxTooLong, 1)
			continue
		}
		if _, err := s.Write(buf[:n]); err != nil {
			select {
			case <-stop:
				return
			default:
			}
			die("sess.Write: %v", err)
		}
		atomic.AddUint64(&st.msgTx, 1)
	}
}

// sessionToTun: one sess.Read is one TUN write, whatever the message holds.
func sessionToTun(tun *os.File, s *kcp.UDPSession, stop <-chan struct{}) {
	buf := make([]byte, bufBytes)
	for {
		n, err := s.Read(buf)
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			die("sess.Read: %v", err)
		}
		atomic.AddUint64(&st.msgRx, 1)
		if v := buf[0] >> 4; n == 0 || (v != 4 && v != 6) {
			if atomic.AddUint64(&st.msgRxNonIP, 1) == 1 {
				st.mu.Lock()
				st.firstNonIP = hex.EncodeToString(buf[:min(n, 8)])
				st.mu.Unlock()
			}
		}
		if _, err := tun.Write(buf[:n]); err != nil {
			atomic.AddUint64(&st.tunTxErr, 1)
			st.mu.Lock()
			st.lastTunErr = errName(err)
			st.mu.Unlock()
			continue
		}
		atomic.AddUint64(&st.tunTx, 1)
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// errName gives the errno's symbol (EINVAL) when there is one.
func errName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EINVAL:
			return "EINVAL"
		case syscall.EIO:
			return "EIO"
		case syscall.ENOBUFS:
			return "ENOBUFS"
		}
		return fmt.Sprintf("errno%d", int(errno))
	}
	return strings.ReplaceAll(err.Error(), " ", "_")
}

// printStats writes the data path's counters and kcp-go's on one line to stderr.
func printStats() {
	k := kcp.DefaultSnmp.Copy()
	st.mu.Lock()
	first, lastErr := st.firstNonIP, st.lastTunErr
	st.mu.Unlock()
	if first == "" {
		first = "-"
	}
	if lastErr == "" {
		lastErr = "-"
	}
	fmt.Fprintf(os.Stderr, "kcpgo-tun: stats tun_rx=%d tun_rx_toolong=%d msg_tx=%d msg_rx=%d "+
		"msg_rx_nonip=%d tun_tx=%d tun_tx_err=%d first_nonip=%s last_tun_err=%s "+
		"in_pkts=%d out_pkts=%d retrans=%d fec_recovered=%d csum_errs=%d kcp_in_errs=%d\n",
		atomic.LoadUint64(&st.tunRx), atomic.LoadUint64(&st.tunRxTooLong),
		atomic.LoadUint64(&st.msgTx), atomic.LoadUint64(&st.msgRx),
		atomic.LoadUint64(&st.msgRxNonIP), atomic.LoadUint64(&st.tunTx),
		atomic.LoadUint64(&st.tunTxErr), first, lastErr, k.InPkts, k.OutPkts, k.RetransSegs,
		k.FECRecovered, k.InCsumErrors, k.KCPInErrors)
}

func main() {
	c := parseFlags()
	block, err := newBlock(c.crypt, c.key)
	if err != nil {
		die("%v", err)
	}
	if c.timeout > 0 {
		time.AfterFunc(c.timeout, func() { die("timeout after %v", c.timeout) })
	}
	tun, err := tunOpen(c.ifname)
	if err != nil {
		die("%v", err)
	}
	s, err := kcp.DialWithOptions(c.dial, block, c.ds, c.ps)
	if err != nil {
		die("dial %s: %v", c.dial, err)
	}
	mss := tune(s, c, block)
	if err := tunConfigure(c.ifname, mss, c.addrs); err != nil {
		die("%v", err)
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	stop := make(chan struct{})
	go tunToSession(tun, s, mss, stop)
	go sessionToTun(tun, s, stop)
	fmt.Printf("kcpgo-tun: up ifname=%s mtu=%d conv=0x%08x dial=%s crypt=%s fec=%d:%d "+
		"mode=%s\n", c.ifname, mss, s.GetConv(), c.dial, c.crypt, c.ds, c.ps, c.mode)

	for sig := range sigs {
		if sig == syscall.SIGUSR1 {
			printStats()
			continue
		}
		close(stop)
		s.Close()
		tun.Close()
		printStats()
		os.Exit(0)
	}
}
