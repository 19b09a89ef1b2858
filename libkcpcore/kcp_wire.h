/* KCP segment format and protocol limits (spec/kcp-wire.md section 4), private to libkcpcore. */
#ifndef KCPCORE_KCP_WIRE_H
#define KCPCORE_KCP_WIRE_H

/* Segment header: conv u32 | cmd u8 | frg u8 | wnd u16 | ts u32 | sn u32 | una u32 | len u32 */
#define KCP_HDR_LEN 24

#define KCP_CMD_PUSH 81 /* data */
#define KCP_CMD_ACK 82  /* acknowledgement of one sn, echoing its ts */
#define KCP_CMD_WASK 83 /* window probe: ask the peer for its window */
#define KCP_CMD_WINS 84 /* window size report */

#define KCP_FRG_MAX 255 /* kcp-go refuses messages of more fragments */

#define KCP_RTO_NODELAY 30 /* RTO floor with nodelay */
#define KCP_RTO_MIN 100    /* RTO floor without */
#define KCP_RTO_DEF 200    /* before the first sample */
#define KCP_RTO_MAX 60000

#define KCP_INTERVAL_MIN 10
#define KCP_INTERVAL_MAX 5000
#define KCP_INTERVAL_DEF 100

#define KCP_MTU_DEF 1400
#define KCP_MTU_MIN 50
#define KCP_WND_SND_DEF 32
#define KCP_WND_RCV_DEF 32
#define KCP_WND_MAX 32768 /* our bound; the wnd field is 16 bits */

#define KCP_THRESH_INIT 2
#define KCP_THRESH_MIN 2

#define KCP_PROBE_INIT 7000    /* first window probe after the remote window closed */
#define KCP_PROBE_LIMIT 120000 /* longest wait between probes */

#define KCP_DEADLINK_DEF 20

/* A PUSH or ACK whose sn lies this far from the window edges is not from this conversation's
 * past or future: the whole datagram is rejected (KC_EWINDOW). Nearer ones beyond the window
 * are ordinary (late duplicates, a peer ahead of a shrunk window) and handled per segment. */
#define KCP_SN_FAR 0x10000

#endif
