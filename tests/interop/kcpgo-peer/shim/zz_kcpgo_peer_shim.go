// This file is not part of kcp-go. build-kcpgo-peer.sh adds it to Debian's kcp-go 5.6.1
// package at build time only (go build -overlay), so that kcpgo-peer can read two
// values the library keeps private. It only reads; it changes no behaviour of the library.
// Do not build it on its own: it belongs to package kcp.

package kcp

// PeerMSS returns the session's KCP MSS: the largest message that travels in one segment,
// after kcp-go reserved room for its crypto and FEC headers.
func (s *UDPSession) PeerMSS() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.kcp.mss)
}

// PeerWaitSnd returns how many segments are queued or in flight and not yet acknowledged.
func (s *UDPSession) PeerWaitSnd() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kcp.WaitSnd()
}
