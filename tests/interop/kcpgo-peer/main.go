// Command kcpgo-peer is a kcp-go 5.6.1 peer for kcpvpnd's interop tests: the real Go library
// (Debian's golang-github-xtaci-kcp-dev) on one end of a session, and on the other end either
// itself or the C peer, which accepts the same flags and speaks the same message format.
//
// Build it with ../build-kcpgo-peer.sh (offline, GOPATH mode, no network).
//
//	kcpgo-peer -role server -listen 127.0.0.1:4000 -crypt aes -ds 10 -ps 3 -n 300
//	kcpgo-peer -role client -dial 127.0.0.1:4000 -crypt aes -ds 10 -ps 3 -n 300 -loss 10
//
// The session runs in message mode (one Write = one KCP message), as kcpvpnd does with one IP
// packet per message. Message i (i = 0, 1, 2, ...) is L bytes long:
//
//	bytes 0..3   i, u32 little-endian
//	bytes 4..5   L, u16 little-endian
//	byte j       (uint8)(i*131 + j*7) ^ 0x5a   for 6 <= j < L
//	L = 6 + (i*7919) % (MAXLEN-5)             (i*7919 computed in 64 bits)
//
// MAXLEN is -maxlen, by default the session's MSS, so that every message fits one segment:
// kcp-go cuts a longer write into several messages.
//
// The server accepts one session, checks every message (index in order, length, bytes) and
// echoes it unchanged. After -n messages it waits until every echo is acknowledged, prints
// "kcpgo-peer: server ok n=N" and exits 0.
// The client sends -n messages (Write blocks while the windows are full), checks every echo
// byte for byte, prints "kcpgo-peer: client ok n=N rtt_avg_ms=X" and then lingers, still
// acknowledging, until no datagram arrived for 3 s, so that a lost final ACK is repeated
// when the server retransmits; a test runner may kill it once the server is done.
// Both exit 1 with one line naming the first mismatch, or when -timeout expires.
// A line on stderr, "kcpgo-peer: stats ...", gives kcp-go's counters and the drops; the
// client prints it with its ok line and again on exit.
package main

import (
	"crypto/sha1"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/pbkdf2"
)

const (
	msgHeaderBytes = 6
	kcpOverhead    = 24 // KCP segment header
	cryptHeader    = 20 // nonce(16) + crc32(4), for any BlockCrypt
	fecHeader      = 8  // seqid(4) + flag(2) + size(2)
	lingerQuiet    = 3 * time.Second
)

type config struct {
	role, listen, dial string
	crypt, key, mode   string
	ds, ps, mtu        int
	sndwnd, rcvwnd     int
	n, maxlen          int
	lossPct            float64
	seed               int64
	timeout            time.Duration
}

// nodelay, interval, resend, nc for each of kcptun's -mode values.
var modes = map[string][4]int{
	"normal": {0, 40, 2, 1},
	"fast":   {0, 30, 2, 1},
	"fast2":  {1, 20, 2, 1},
	"fast3":  {1, 10, 2, 1},
}

var (
	succeeded int32      // set once the role's work is done; the timeout then exits 0
	progress  int64      // messages verified so far, for the timeout message
	role      string     // for the stats line
	lossy     *lossyConn // nil without -loss
)

// die reports a failure, then the counters, and exits 1.
func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kcpgo-peer: "+format+"\n", args...)
	printStats()
	os.Exit(1)
}

func parseFlags() *config {
	c := new(config)
	var timeoutSec float64
	flag.StringVar(&c.role, "role", "", "server or client")
	flag.StringVar(&c.listen, "listen", "", "server: UDP address to listen on")
	flag.StringVar(&c.dial, "dial", "", "client: UDP address of the server")
	flag.StringVar(&c.crypt, "crypt", "aes", "none, null (no crypto header), aes, aes-128 or aes-192")
	flag.StringVar(&c.key, "key", "it's a secrect", "pre-shared passphrase (kcptun's default)")
	flag.IntVar(&c.ds, "ds", 0, "FEC data shards (0 = FEC off)")
	flag.IntVar(&c.ps, "ps", 0, "FEC parity shards (0 = FEC off)")
	flag.IntVar(&c.mtu, "mtu", 1400, "largest UDP payload, at most 1500")
	flag.StringVar(&c.mode, "mode", "fast", "normal, fast, fast2 or fast3 (kcptun's tables)")
	flag.IntVar(&c.sndwnd, "sndwnd", 1024, "send window in segments")
	flag.IntVar(&c.rcvwnd, "rcvwnd", 1024, "receive window in segments")
	flag.IntVar(&c.n, "n", 100, "number of messages")
	flag.IntVar(&c.maxlen, "maxlen", 0, "longest message (0 = the session's MSS)")
	flag.Float64Var(&c.lossPct, "loss", 0, "percent of datagrams dropped in each direction here")
	flag.Int64Var(&c.seed, "seed", 1, "seed of the loss generator")
	flag.Float64Var(&timeoutSec, "timeout", 30, "hard bound on the whole run, in seconds")
	flag.Parse()

	if flag.NArg() != 0 {
		die("unexpected argument %q", flag.Arg(0))
	}
	switch {
	case c.role == "server" && c.listen == "":
		die("-role server needs -listen ADDR")
	case c.role == "client" && c.dial == "":
		die("-role client needs -dial ADDR")
	case c.role != "server" && c.role != "client":
		die("-role must be server or client, got %q", c.role)
	}
	if _, ok := modes[c.mode]; !ok {
		die("-mode must be normal, fast, fast2 or fast3, got %q", c.mode)
	}
	if c.ds < 0 || c.ps < 0 || c.ds+c.ps > 255 {
		die("-ds and -ps must be >= 0 with ds+ps <= 255, got %d/%d", c.ds, c.ps)
	}
	if c.mtu < 50 || c.mtu > 1500 {
		die("-mtu must be 50..1500, got %d", c.mtu)
	}
	if c.sndwnd <= 0 || c.rcvwnd <= 0 || c.n <= 0 {
		die("-sndwnd, -rcvwnd and -n must be positive")
	}
	if c.maxlen != 0 && (c.maxlen < msgHeaderBytes || c.maxlen > 65535) {
		die("-maxlen must be 0 or 6..65535, got %d", c.maxlen)
	}
	if c.lossPct < 0 || c.lossPct >= 100 {
		die("-loss must be 0..<100 percent, got %g", c.lossPct)
	}
	if timeoutSec <= 0 {
		die("-timeout must be positive, got %g", timeoutSec)
	}
	c.timeout = time.Duration(timeoutSec * float64(time.Second))
	return c
}

// newBlock keys a BlockCrypt exactly as kcptun does: pbkdf2(key, "kcp-go", 4096, 32, sha1),
// then the whole 32 bytes for aes (AES-256), the first 16 or 24 for aes-128 and aes-192.
// "null" returns a nil BlockCrypt: no nonce and CRC header at all.
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
	}
	return nil, fmt.Errorf("-crypt must be none, null, aes, aes-128 or aes-192, got %q", name)
}

// lossyConn drops a seeded share of datagrams in both directions. A drop on send reports
// success, as a lossy link would.
type lossyConn struct {
	net.PacketConn
	mu      sync.Mutex
	rng     *rand.Rand
	pct     float64
	dropIn  uint64
	dropOut uint64
}

func (c *lossyConn) drop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.Float64()*100 < c.pct
}

func (c *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.drop() {
			return n, addr, err
		}
		atomic.AddUint64(&c.dropIn, 1)
	}
}

func (c *lossyConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.drop() {
		atomic.AddUint64(&c.dropOut, 1)
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// wrap returns conn itself without loss, so that kcp-go keeps its batched I/O path.
func wrap(conn *net.UDPConn, c *config) net.PacketConn {
	if c.lossPct == 0 {
		return conn
	}
	lossy = &lossyConn{PacketConn: conn, rng: rand.New(rand.NewSource(c.seed)), pct: c.lossPct}
	return lossy
}

// msgLen is L for message i.
func msgLen(i uint64, maxlen int) int {
	return msgHeaderBytes + int((i*7919)%uint64(maxlen-5))
}

// msgFill writes message i into b[:msgLen] and returns that slice.
func msgFill(b []byte, i uint64, maxlen int) []byte {
	l := msgLen(i, maxlen)
	binary.LittleEndian.PutUint32(b[0:], uint32(i))
	binary.LittleEndian.PutUint16(b[4:], uint16(l))
	for j := msgHeaderBytes; j < l; j++ {
		b[j] = uint8(i*131+uint64(j)*7) ^ 0x5a
	}
	return b[:l]
}

// msgCheck says how m differs from message i, or returns nil.
func msgCheck(m []byte, i uint64, maxlen int) error {
	want := msgLen(i, maxlen)
	if len(m) < msgHeaderBytes {
		return fmt.Errorf("message %d: %d bytes, want %d", i, len(m), want)
	}
	if got := binary.LittleEndian.Uint32(m); got != uint32(i) {
		return fmt.Errorf("message %d: index field %d (length %d)", i, got, len(m))
	}
	if len(m) != want {
		return fmt.Errorf("message %d: %d bytes, want %d", i, len(m), want)
	}
	if got := binary.LittleEndian.Uint16(m[4:]); int(got) != want {
		return fmt.Errorf("message %d: length field %d, want %d", i, got, want)
	}
	for j := msgHeaderBytes; j < want; j++ {
		if exp := uint8(i*131+uint64(j)*7) ^ 0x5a; m[j] != exp {
			return fmt.Errorf("message %d: byte %d is 0x%02x, want 0x%02x", i, j, m[j], exp)
		}
	}
	return nil
}

// tune applies the flags to a session and returns MAXLEN. It checks kcp-go's MSS against
// the arithmetic of the wire spec (mtu - 24 - crypto header - FEC header).
func tune(s *kcp.UDPSession, c *config, block kcp.BlockCrypt) int {
	m := modes[c.mode]
	s.SetStreamMode(false)
	s.SetWriteDelay(false)
	s.SetNoDelay(m[0], m[1], m[2], m[3])
	s.SetWindowSize(c.sndwnd, c.rcvwnd)
	if !s.SetMtu(c.mtu) {
		die("kcp-go refused -mtu %d", c.mtu)
	}
	want := c.mtu - kcpOverhead
	if block != nil {
		want -= cryptHeader
	}
	if c.ds > 0 && c.ps > 0 {
		want -= fecHeader
	}
	mss := s.PeerMSS()
	if mss != want {
		die("kcp-go's MSS is %d, the spec's arithmetic gives %d", mss, want)
	}
	if c.maxlen == 0 {
		return mss
	}
	if c.maxlen > mss {
		die("-maxlen %d exceeds the session's MSS %d: kcp-go would split messages", c.maxlen, mss)
	}
	return c.maxlen
}

func runServer(c *config, block kcp.BlockCrypt, deadline time.Time) {
	addr, err := net.ResolveUDPAddr("udp", c.listen)
	if err != nil {
		die("server: %v", err)
	}
	udp, err := net.ListenUDP("udp", addr)
	if err != nil {
		die("server: %v", err)
	}
	conn := wrap(udp, c)
	l, err := kcp.ServeConn(block, c.ds, c.ps, conn)
	if err != nil {
		die("server: %v", err)
	}
	l.SetDeadline(deadline)
	s, err := l.AcceptKCP()
	if err != nil {
		die("server: no session before the timeout: %v", err)
	}
	maxlen := tune(s, c, block)
	s.SetDeadline(deadline)

	buf := make([]byte, 65536)
	for i := 0; i < c.n; i++ {
		n, err := s.Read(buf)
		if err != nil {
			die("server: reading message %d: %v", i, err)
		}
		if err := msgCheck(buf[:n], uint64(i), maxlen); err != nil {
			die("server: %v", err)
		}
		atomic.StoreInt64(&progress, int64(i+1))
		if _, err := s.Write(buf[:n]); err != nil {
			die("server: echoing message %d: %v", i, err)
		}
	}
	for s.PeerWaitSnd() > 0 {
		if time.Now().After(deadline) {
			die("server: echoes not acknowledged before the timeout")
		}
		time.Sleep(5 * time.Millisecond)
	}
	atomic.StoreInt32(&succeeded, 1)
	fmt.Printf("kcpgo-peer: server ok n=%d\n", c.n)
	s.Close()
	l.Close()
}

func runClient(c *config, block kcp.BlockCrypt, deadline time.Time) {
	raddr, err := net.ResolveUDPAddr("udp", c.dial)
	if err != nil {
		die("client: %v", err)
	}
	network := "udp4"
	if raddr.IP.To4() == nil {
		network = "udp"
	}
	udp, err := net.ListenUDP(network, nil)
	if err != nil {
		die("client: %v", err)
	}
	conn := wrap(udp, c)
	s, err := kcp.NewConn2(raddr, block, c.ds, c.ps, conn)
	if err != nil {
		die("client: %v", err)
	}
	maxlen := tune(s, c, block)
	s.SetDeadline(deadline)

	sent := make([]int64, c.n) // send times in ns, written by the sender, read on echo
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, 65536)
		for i := 0; i < c.n; i++ {
			m := msgFill(buf, uint64(i), maxlen)
			atomic.StoreInt64(&sent[i], time.Now().UnixNano())
			if _, err := s.Write(m); err != nil {
				werr <- fmt.Errorf("client: sending message %d: %v", i, err)
				return
			}
		}
	}()

	buf := make([]byte, 65536)
	var rttSum time.Duration
	for i := 0; i < c.n; i++ {
		n, err := s.Read(buf)
		if err != nil {
			select {
			case e := <-werr:
				die("%v", e)
			default:
			}
			die("client: reading echo %d: %v", i, err)
		}
		if err := msgCheck(buf[:n], uint64(i), maxlen); err != nil {
			die("client: echo: %v", err)
		}
		rttSum += time.Duration(time.Now().UnixNano() - atomic.LoadInt64(&sent[i]))
		atomic.StoreInt64(&progress, int64(i+1))
	}
	atomic.StoreInt32(&succeeded, 1)
	avg := float64(rttSum) / float64(c.n) / float64(time.Millisecond)
	fmt.Printf("kcpgo-peer: client ok n=%d rtt_avg_ms=%.2f\n", c.n, avg)
	printStats() // now too, as a test runner may stop the client while it lingers

	// Linger: keep acknowledging until the link was quiet for lingerQuiet.
	last, quietSince := inCount(), time.Now()
	for time.Since(quietSince) < lingerQuiet && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if now := inCount(); now != last {
			last, quietSince = now, time.Now()
		}
	}
	s.Close()
	udp.Close()
}

// inCount counts the datagrams kcp-go has received so far, good or bad.
func inCount() uint64 {
	return atomic.LoadUint64(&kcp.DefaultSnmp.InPkts) +
		atomic.LoadUint64(&kcp.DefaultSnmp.InCsumErrors) +
		atomic.LoadUint64(&kcp.DefaultSnmp.InErrs)
}

// printStats writes kcp-go's counters (one session per process) and the drops to stderr.
func printStats() {
	st := kcp.DefaultSnmp.Copy()
	var in, out uint64
	if lossy != nil {
		in, out = atomic.LoadUint64(&lossy.dropIn), atomic.LoadUint64(&lossy.dropOut)
	}
	fmt.Fprintf(os.Stderr, "kcpgo-peer: stats role=%s in_pkts=%d out_pkts=%d retrans=%d "+
		"fast_retrans=%d lost=%d fec_recovered=%d fec_errs=%d csum_errs=%d kcp_in_errs=%d "+
		"dropped_in=%d dropped_out=%d\n", role, st.InPkts, st.OutPkts, st.RetransSegs,
		st.FastRetransSegs, st.LostSegs, st.FECRecovered, st.FECErrs, st.InCsumErrors,
		st.KCPInErrors, in, out)
}

func main() {
	c := parseFlags()
	role = c.role
	block, err := newBlock(c.crypt, c.key)
	if err != nil {
		die("%v", err)
	}
	deadline := time.Now().Add(c.timeout)
	time.AfterFunc(c.timeout, func() {
		if atomic.LoadInt32(&succeeded) != 0 {
			printStats()
			os.Exit(0)
		}
		die("%s: timeout after %v with %d of %d messages verified", c.role, c.timeout,
			atomic.LoadInt64(&progress), c.n)
	})
	if c.role == "server" {
		runServer(c, block, deadline)
	} else {
		runClient(c, block, deadline)
	}
	printStats()
}
