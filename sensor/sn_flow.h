/*  sn_flow: the bidirectional flow table. Flows are keyed by (VLAN, protocol, addresses, ports)
    in either direction; the originator is whoever sent the first packet (a first SYN-ACK flips
    that, as Zeek does). Memory is a pool of `max_flows` entries allocated up front: when it is
    full the stalest flow is ended early and counted, so the table never grows with traffic.
    Idle timeouts depend on the protocol and TCP state; long flows are also reported every
    active timeout of their protocol. Each ended (or reported) flow goes to the owner's callback with the
    reason. Owner: sensor. */
#ifndef SN_FLOW_H
#define SN_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_proto.h"
#include "sn_decode.h"

//  Per-endpoint TCP state, as Zeek tracks it (conn_state is derived from the pair).
typedef enum {
    SN_TCP_INACTIVE = 0,
    SN_TCP_SYN_SENT,
    SN_TCP_SYN_ACK_SENT,
    SN_TCP_PARTIAL,  //  data without having seen the handshake (midstream)
    SN_TCP_ESTABLISHED,
    SN_TCP_CLOSED,  //  sent a FIN
    SN_TCP_RESET,   //  sent a RST
} sn_tcp_state_t;

typedef enum {
    SN_END_IDLE = 0,  //  idle timeout
    SN_END_ACTIVE,    //  still open: periodic report, the flow goes on with fresh counters
    SN_END_EVICTED,   //  the table was full
    SN_END_SHUTDOWN,  //  end of input / sensor stopping
} sn_end_t;

typedef struct sn_flow sn_flow_t;

struct sn_flow {
    //  Key, in originator -> responder order.
    mm_addr_t orig, resp;
    uint16_t orig_port, resp_port;  //  ICMP: type and counterpart type (or code), as Zeek
    uint16_t vlan;
    uint8_t proto;
    uint8_t ip_version;
    //  Accounting; index 0 is the originator, 1 the responder.
    uint64_t id;
    uint64_t first_ns, last_ns;
    uint64_t pkts[2];
    uint64_t ip_bytes[2];
    uint8_t tcp_flags[2];
    uint8_t history[2];    //  OR of flags from packets other than RSTs (Zeek's history)
    uint8_t tcp_state[2];  //  sn_tcp_state_t
    uint8_t n_vlan;
    uint16_t vlans[MM_VLAN_MAX];
    //  In-order TCP delivery to application parsers (see sn_flow_stream).
    uint32_t next_seq[2];
    uint8_t seq_known[2];
    uint8_t stream_gap[2];
    //  Application parsing, owned by the caller: set, used and freed through the callbacks.
    uint8_t app_kind;
    uint8_t app_done;
    void *app;
    //  Detector engine's bits (sn_detect): set and read there only.
    uint8_t det_flags;
    //  Table bookkeeping.
    uint32_t hash_next;  //  bucket chain, index + 1 (0 ends it)
    uint32_t lru_prev, lru_next;
    uint8_t lru_class;
    uint8_t in_use;
};

typedef struct {
    uint32_t max_flows;          //  pool size
    uint32_t tcp_established_s;  //  idle timeouts, seconds
    uint32_t tcp_other_s;        //  handshake not completed, or closed/reset
    uint32_t udp_s;
    uint32_t other_s;       //  ICMP and anything else
    uint32_t active_tcp_s;  //  report long flows this often, per protocol; 0: never
    uint32_t active_udp_s;
    uint32_t active_other_s;
} sn_flow_config_t;

//  Defaults close to Zeek's and Suricata's: 600 s established TCP, 30 s unfinished or closed
//  TCP, 60 s UDP and others, 1800 s active report for every protocol, 262,144 flows.
void sn_flow_config_defaults (sn_flow_config_t *cfg);

typedef struct {
    uint64_t created, ended, evicted, active_reports;
    uint64_t active;       //  flows in the table now
    uint64_t stream_gaps;  //  TCP directions whose in-order delivery stopped at a gap
} sn_flow_stats_t;

//  Called for every ended flow (and periodic report); the flow is valid during the call only
//  (for SN_END_ACTIVE it continues afterwards with its counters reset).
typedef void (sn_flow_end_fn) (void *arg, sn_flow_t *flow, sn_end_t reason);

typedef struct sn_flow_table sn_flow_table_t;

sn_flow_table_t *sn_flow_table_new (const sn_flow_config_t *cfg, sn_flow_end_fn *end_fn, void *arg);
void sn_flow_table_destroy (sn_flow_table_t **self_p);

//  Finds or creates the flow of `pkt` at time `now_ns`, updates its counters and state, and
//  says which side sent the packet (*dir: 0 originator, 1 responder). Expires idle flows first.
//  Never fails: a full table evicts its stalest flow.
sn_flow_t *sn_flow_update (sn_flow_table_t *self, const sn_pkt_t *pkt, uint64_t now_ns, int *dir);

//  The new in-order bytes of a TCP packet's payload for application parsers: skips what was
//  already delivered (retransmissions), stops a direction for good at the first gap (counted).
//  Returns the number of bytes at *data (0: nothing new).
uint32_t sn_flow_stream (sn_flow_table_t *self, sn_flow_t *flow, int dir, const sn_pkt_t *pkt,
                         const uint8_t **data);

//  Ends idle flows as of `now_ns` (called by sn_flow_update; call it when input is idle too).
void sn_flow_expire (sn_flow_table_t *self, uint64_t now_ns);

//  Ends every flow (end of input, shutdown).
void sn_flow_flush (sn_flow_table_t *self);

const sn_flow_stats_t *sn_flow_stats (const sn_flow_table_t *self);

//  Zeek's conn_state (mm_state_t) from the two endpoints' states.
uint8_t sn_flow_conn_state (const sn_flow_t *flow);

#endif
