/*  sn_capture: packets from libpcap, live from an interface or from capture files (pcap or
    pcapng), with nanosecond timestamps. Live capture needs CAP_NET_RAW, not root (promiscuous
    mode too: it is a membership of the packet socket): see docs/sensor.md. Owner: sensor. */
#ifndef SN_CAPTURE_H
#define SN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sn_capture sn_capture_t;

typedef struct {
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wirelen;
    uint64_t ts_ns;
} sn_frame_t;

typedef struct {
    uint64_t received;    //  by the kernel (live only)
    uint64_t dropped;     //  by the kernel for lack of buffer space (live only)
    uint64_t if_dropped;  //  by the interface (live only, where the driver reports it)
} sn_capture_stats_t;

//  Opens a capture file. NULL with `err` filled on failure.
sn_capture_t *sn_capture_open_file (const char *path, const char *filter, char *err, size_t errlen);
//  Opens a live capture. NULL with `err` filled on failure.
sn_capture_t *sn_capture_open_live (const char *iface, const char *filter, int snaplen,
                                    bool promiscuous, int buffer_mb, char *err, size_t errlen);
void sn_capture_destroy (sn_capture_t **self_p);

//  The next frame: 1, 0 if none arrived within the live read timeout, -1 at the end of a file
//  or on an error (then `err` says which; an empty `err` is a clean end of file).
int sn_capture_next (sn_capture_t *self, sn_frame_t *frame, char *err, size_t errlen);

int sn_capture_link (const sn_capture_t *self);
const char *sn_capture_link_name (const sn_capture_t *self);
//  Fills `stats` (live captures; zero for files). 0 or -1.
int sn_capture_stats (sn_capture_t *self, sn_capture_stats_t *stats);

#endif
