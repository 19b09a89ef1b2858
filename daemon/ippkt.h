/* Raw IP packets as read from and written to the TUN device (IFF_NO_PI: the packet starts at
 * the IP header). Functions look at a packet in place, allocate nothing and never read or write
 * outside pkt[0..len). */
#ifndef DAEMON_IPPKT_H
#define DAEMON_IPPKT_H

#include <stddef.h>
#include <stdint.h>

/* Family (AF_INET or AF_INET6) and source and destination addresses (4 or 16 bytes, pointers into
 * pkt) of an IPv4/IPv6 packet. Returns 0, or -EINVAL when the header is short or the version is
 * neither 4 nor 6 (the daemon's control messages start with another nibble). */
int ippkt_addrs(const uint8_t *pkt, size_t len, int *family, const uint8_t **src,
		const uint8_t **dst);

/* TCP MSS clamping: if pkt is a TCP SYN (SYN-ACK too; IPv4 unfragmented, or IPv6 with the TCP
 * header after the fixed header and any hop-by-hop, routing and destination options headers)
 * whose MSS option exceeds mss, lowers the option to mss and updates the TCP checksum
 * incrementally (RFC 1624). Returns 1 if it changed the packet, 0 if not. Only the option and the
 * checksum change; fragments and malformed packets are left alone. */
int ippkt_clamp_mss(uint8_t *pkt, size_t len, uint16_t mss);

/* The MSS to clamp to in a tunnel whose IP MTU is mtu: mtu less the IP and TCP headers, 40 bytes
 * for AF_INET and 60 for AF_INET6; at most 65535, and 0 when mtu is too small or the family is
 * another. */
uint16_t ippkt_mss_for_mtu(unsigned mtu, int family);

#endif
