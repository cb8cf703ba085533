/*  mm_curve: the only way Mimamori makes sockets between nodes. CurveZMQ everywhere, clients
    authenticated through ZAP against a directory of allowed certificates, every socket option
    in one place. Owner: proto/ (security). docs: "Keys, identity and sockets".

    The pieces:
      mm_curve_allow_t   an allow-list: a directory of public certificates (*.cert) plus an
                         optional revocation file, re-read when they change (checked at most
                         once a second), consulted at the handshake AND on every message, so a
                         removed or revoked key stops within about a second even on a
                         connection that is already up.
      mm_curve_auth_t    the process's ZAP handler (RFC 27), one per process: libzmq sends
                         every handshake of every CURVE server socket of the process to it. It
                         keeps one allow-list per ZAP domain, so a broker's sensor socket and
                         another server in the same process can accept different keys.
      mm_curve_server_t  a ROUTER bound to an endpoint, CURVE server, ZAP domain always set
                         and enforced. There is no way to make one without an mm_curve_auth_t
                         and an allow-list: no NULL, no PLAIN, no "accept any key".
      mm_curve_client_t  a DEALER with its own secret certificate, connecting to a server
                         whose public key it is given.

    Why not CZMQ's zauth (measured with libczmq 4.2.1 on Debian 12, see docs): it copies a
    certificate's metadata into a fixed 512-byte buffer (heap overflow under ASan with a
    700-byte metadata value), its policy is one for the whole process whatever the domain,
    zcertstore misses a file replaced with one of the same size and mtime (czmq #2113), and it
    cannot consult a revocation file. The handler here speaks the same protocol, serves only
    checked certificates (mm_cert rules), and shares its allow-list code with the per-message
    check. With ZMQ_ZAP_ENFORCE_DOMAIN set, a server whose handler is gone refuses everyone
    (measured) instead of libzmq's default of accepting any key.

    Threads: an mm_curve_auth_t may be shared by the threads that make servers (its calls are
    serialised); servers, clients and allow-lists belong to the one thread that uses them. */
#ifndef MM_CURVE_H
#define MM_CURVE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "mm_cert.h"
#include "mm_proto.h"

//  Socket options, applied by mm_curve to every socket it makes (see s_apply_* in mm_curve.c
//  for why each value).
#define MM_CURVE_HEARTBEAT_IVL_MS 2000       //  ZMTP PING every 2 s on an idle connection
#define MM_CURVE_HEARTBEAT_TIMEOUT_MS 10000  //  no traffic for 10 s after a PING: peer is dead
#define MM_CURVE_HEARTBEAT_TTL_MS 10000      //  asks the peer to apply the same 10 s
#define MM_CURVE_RECONNECT_IVL_MS 1000       //  first reconnect after 1 s (plus jitter)
#define MM_CURVE_RECONNECT_IVL_MAX_MS 30000  //  doubling up to 30 s while the server is away
#define MM_CURVE_HANDSHAKE_IVL_MS 10000      //  a handshake must finish within 10 s
#define MM_CURVE_LINGER_MS 1000              //  close waits at most 1 s for queued output
#define MM_CURVE_SNDHWM 1000                 //  messages per peer pipe, each direction
#define MM_CURVE_RCVHWM 1000
#define MM_CURVE_BACKLOG 4096  //  servers' listen queue: a reconnect storm of 1,000 sensors
#define MM_CURVE_MAXMSGSIZE (MM_MSG_MAX + 1024)  //  CURVE framing adds ~33 bytes per frame
#define MM_CURVE_ALLOW_INTERVAL_MS 1000          //  allow-lists look at their files this often
#define MM_CURVE_REVOKE_FILE_MAX (4u << 20)      //  bytes in a revocation file
#define MM_CURVE_ALLOW_MAX 65536                 //  certificates in one allow-list directory

//  ---------------------------------------------------------------------------------------------
//  Allow-list

typedef struct mm_curve_allow_t mm_curve_allow_t;

typedef enum {
    MM_CURVE_ALLOWED = 0,
    MM_CURVE_UNKNOWN = 1,  //  no valid certificate with this key in the directory
    MM_CURVE_REVOKED = 2,  //  the key, or the id of its certificate, is in the revocation file
    MM_CURVE_ROLE = 3,     //  the certificate's role is not one this allow-list accepts
} mm_curve_verdict_t;

typedef struct {
    uint64_t reloads;        //  times the files were read again (a change, or a recent write)
    uint64_t reload_errors;  //  reads that failed: the previous list stayed in force
    uint64_t certs;          //  certificates in force now
    uint64_t invalid;        //  *.cert files refused at the last reload (logged with reasons)
    uint64_t revoked;        //  keys and ids in the revocation file at the last reload
    uint64_t allowed;        //  checks passed
    uint64_t denied_unknown, denied_revoked, denied_role;  //  checks refused, by verdict
} mm_curve_allow_stats_t;

//  Reads `dir` (every regular file named *.cert in it; dot files, *_secret files and
//  subdirectories are ignored) and `revoke_file` (NULL for none; a missing file is an empty
//  list). Lines of the revocation file are a Z85 public key or an id (revoking every
//  certificate with that id); '#' starts a comment. `roles` is a set of MM_ROLE_BIT()s, 0 for
//  any. NULL if `dir` cannot be read or `revoke_file` exists but cannot be read.
mm_curve_allow_t *mm_curve_allow_new (const char *dir, const char *revoke_file, unsigned roles);
void mm_curve_allow_destroy (mm_curve_allow_t **self_p);

//  How often the files are looked at (default MM_CURVE_ALLOW_INTERVAL_MS; tests shorten it).
void mm_curve_allow_set_interval (mm_curve_allow_t *self, int64_t ms);

//  Is `pubkey` (Z85) allowed now? Looks at the files first if the interval has passed: a stat
//  of each, and a re-read if anything changed or was written in the last 2 s (the same-size,
//  same-mtime replacement that zcertstore misses). Fills `ident` (may be NULL) from the
//  certificate when allowed. Counted.
mm_curve_verdict_t mm_curve_allow_check (mm_curve_allow_t *self, const char *pubkey,
                                         mm_identity_t *ident);

//  Looks at the files now, whatever the interval. 0, or -1 if they could not be read (the
//  previous list stays in force).
int mm_curve_allow_refresh (mm_curve_allow_t *self);

void mm_curve_allow_stats (const mm_curve_allow_t *self, mm_curve_allow_stats_t *stats);

//  Called for each certificate allowed now (not revoked, of an accepted role); `ident` is valid
//  during the call. Return 0 to go on, anything else to stop.
typedef int (mm_curve_allow_fn) (void *arg, const mm_identity_t *ident);
//  Walks the allow-list as it is now (after looking at the files if the interval has passed),
//  e.g. for a broker to find every sensor of an organisation, connected or not. The number of
//  certificates visited.
size_t mm_curve_allow_each (mm_curve_allow_t *self, mm_curve_allow_fn *fn, void *arg);

//  A short word for a verdict ("allowed", "unknown key", ...).
const char *mm_curve_verdict_name (mm_curve_verdict_t verdict);

//  ---------------------------------------------------------------------------------------------
//  The process's ZAP handler

typedef struct mm_curve_auth_t mm_curve_auth_t;

typedef struct {
    uint64_t accepted;                                        //  handshakes let through
    uint64_t refused_unknown, refused_revoked, refused_role;  //  refused by the allow-list
    uint64_t refused_domain;     //  a ZAP domain nobody registered (a server of another library)
    uint64_t refused_mechanism;  //  NULL, PLAIN or GSSAPI: never accepted
    uint64_t malformed;          //  requests that were not RFC 27 (answered 500)
} mm_curve_auth_stats_t;

//  Starts the handler. NULL if one is already running in this process (libzmq allows one ZAP
//  endpoint per context, and CZMQ has one context per process).
mm_curve_auth_t *mm_curve_auth_new (void);
//  Stops it. Every server made with it must be destroyed first (a programming error otherwise:
//  their handshakes would all fail).
void mm_curve_auth_destroy (mm_curve_auth_t **self_p);
//  Counters since the start. 0, or -1 if the handler does not answer.
int mm_curve_auth_stats (mm_curve_auth_t *self, mm_curve_auth_stats_t *stats);

//  ---------------------------------------------------------------------------------------------
//  Server (ROUTER)

typedef struct {
    const char *endpoint;     //  where to bind, e.g. "tcp://0.0.0.0:7001"; "tcp://127.0.0.1:*"
                              //  binds an ephemeral port (see mm_curve_server_endpoint)
    const char *domain;       //  ZAP domain, e.g. "sensors"; names this server's allow-list
    const char *allow_dir;    //  directory of allowed public certificates
    const char *revoke_file;  //  optional revocation file (NULL: none)
    unsigned roles;           //  MM_ROLE_BIT()s this server accepts; 0: any role
} mm_curve_server_config_t;

typedef struct mm_curve_server_t mm_curve_server_t;

typedef struct {
    uint64_t received;          //  messages taken off the socket
    uint64_t delivered;         //  returned to the caller
    uint64_t dropped_unknown;   //  from a key no longer in the directory
    uint64_t dropped_revoked;   //  from a revoked key or id
    uint64_t dropped_role;      //  from a certificate whose role this server does not accept
    uint64_t dropped_no_key;    //  without a User-Id (cannot happen through ZAP; counted anyway)
    uint64_t dropped_framing;   //  not exactly one frame after the routing id
    uint64_t meta_changed;      //  the certificate changed since the handshake: the current one won
    uint64_t send_refused;      //  send to a key no longer allowed (EACCES)
    uint64_t send_unreachable;  //  send to a peer that is gone (EHOSTUNREACH)
    uint64_t send_full;         //  send to a peer at its high-water mark (EAGAIN)
} mm_curve_server_stats_t;

//  Makes the ROUTER, registers its domain and allow-list with `auth`, binds. `cert` must hold
//  its secret key. NULL (and a log line saying why) on any failure.
mm_curve_server_t *mm_curve_server_new (mm_curve_auth_t *auth, const mm_cert_t *cert,
                                        const mm_curve_server_config_t *cfg);
void mm_curve_server_destroy (mm_curve_server_t **self_p);

//  The socket, for pollers and for reading options. Receive through mm_curve_server_recv
//  only: it is what applies the allow-list to every message.
zsock_t *mm_curve_server_sock (mm_curve_server_t *self);
//  The endpoint actually bound (the ephemeral port resolved).
const char *mm_curve_server_endpoint (mm_curve_server_t *self);

//  Receives the next message from an allowed peer: the payload frame (caller owns it), the
//  routing id (caller owns it, for replies) and the peer's identity from the current
//  certificate. Messages from keys that are no longer allowed, and malformed ones, are dropped
//  and counted, and the next message is tried as long as one is waiting (at most 1,000 per
//  call). NULL if nothing (more) is waiting, on timeout (the socket's RCVTIMEO) or interrupt.
zframe_t *mm_curve_server_recv (mm_curve_server_t *self, zframe_t **routing_id_p,
                                mm_identity_t *peer);

//  Sends one frame to the peer behind `routing_id`, whose key (from recv) is `pubkey`. Never
//  blocks and never drops silently: 0, or -1 with errno EACCES (the key has been removed or
//  revoked since: nothing is sent), EHOSTUNREACH (peer gone; ROUTER_MANDATORY) or EAGAIN (its
//  queue is full); the caller keeps the message and retries later, or forgets the peer.
int mm_curve_server_send (mm_curve_server_t *self, zframe_t *routing_id, const char *pubkey,
                          const void *data, size_t len);

//  Is `pubkey` still allowed (for a peer the caller is about to send to)? Same check as recv.
mm_curve_verdict_t mm_curve_server_check (mm_curve_server_t *self, const char *pubkey,
                                          mm_identity_t *peer);

void mm_curve_server_stats (const mm_curve_server_t *self, mm_curve_server_stats_t *stats);
//  The allow-list behind the per-message check (borrowed), e.g. for its counters.
mm_curve_allow_t *mm_curve_server_allow (mm_curve_server_t *self);

//  ---------------------------------------------------------------------------------------------
//  Client (DEALER)

typedef struct mm_curve_client_t mm_curve_client_t;

typedef struct {
    uint64_t sent;
    uint64_t send_again;       //  sends refused with EAGAIN (not connected yet, or queue full)
    uint64_t received;         //  messages returned to the caller
    uint64_t dropped_framing;  //  multi-frame messages (the protocol has one frame each)
} mm_curve_client_stats_t;

//  Makes the DEALER with `cert` (must hold its secret key) and connects to `endpoint`,
//  expecting the server key `server_public_txt` (Z85). The connection is made in the
//  background and re-made after any loss. NULL (and a log line) on failure.
mm_curve_client_t *mm_curve_client_new (const char *endpoint, const mm_cert_t *cert,
                                        const char *server_public_txt);
void mm_curve_client_destroy (mm_curve_client_t **self_p);
zsock_t *mm_curve_client_sock (mm_curve_client_t *self);

//  Sends one frame. Never blocks: 0, or -1 with errno EAGAIN when no connection is up (nothing
//  is queued for a connection that is not there: ZMQ_IMMEDIATE) or the queue is full. The
//  caller keeps the message (its spool) and retries.
int mm_curve_client_send (mm_curve_client_t *self, const void *data, size_t len);
//  Receives one frame (caller owns it); NULL on timeout (RCVTIMEO) or interrupt.
zframe_t *mm_curve_client_recv (mm_curve_client_t *self);

//  Connection events since the client was made (libzmq's socket monitor, read without
//  blocking when asked). A new handshake is a new connection: frames queued on the old one
//  may be lost, so the caller resends what is unacknowledged at once rather than at its
//  timeout. An auth failure is the server refusing our key (status code from ZAP, e.g. 400):
//  without it a refused key would look like a server that is down.
typedef struct {
    uint64_t handshakes;     //  connections made (handshake done)
    uint64_t auth_failures;  //  handshakes the server refused (our key unknown or revoked)
    uint32_t last_auth_status;
    uint64_t other_failures;  //  handshakes failed for another reason (protocol, wrong server key)
    uint64_t disconnects;
} mm_curve_client_events_t;
void mm_curve_client_events (mm_curve_client_t *self, mm_curve_client_events_t *events);
void mm_curve_client_stats (const mm_curve_client_t *self, mm_curve_client_stats_t *stats);

//  ---------------------------------------------------------------------------------------------
//  Peer identity of a received frame, from the connection's properties: the Z85 key in
//  "User-Id" and the certificate metadata the ZAP handler attached ("role", "id", "org",
//  "region"), as they were at the handshake. 0, or -1 if the frame did not come through an
//  mm_curve server (no User-Id). Servers use the current certificate instead (see recv).
int mm_curve_peer_from_frame (zframe_t *frame, mm_identity_t *peer);

#endif
