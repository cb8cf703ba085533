/*  sn_capture: libpcap wrapper (see sn_capture.h). Files and interfaces are opened with
    nanosecond timestamps, so events carry the capture's own precision. */
//  libpcap's headers use the BSD types (u_int, u_char) that strict POSIX mode hides.
#define _DEFAULT_SOURCE
#include "sn_capture.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sn_capture {
    pcap_t *pcap;
    bool live;
    int fd;  //  live: libpcap's selectable descriptor, polled so reads return on quiet links
};

static int
s_filter (pcap_t *pcap, const char *filter, char *err, size_t errlen)
{
    if (!filter || !filter[0])
        return 0;
    struct bpf_program prog;
    if (pcap_compile (pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
        snprintf (err, errlen, "filter '%s': %s", filter, pcap_geterr (pcap));
        return -1;
    }
    int rc = pcap_setfilter (pcap, &prog);
    pcap_freecode (&prog);
    if (rc == -1) {
        snprintf (err, errlen, "filter '%s': %s", filter, pcap_geterr (pcap));
        return -1;
    }
    return 0;
}

//  Applies the filter and wraps an opened pcap handle; on failure closes it. NULL or the capture.
static sn_capture_t *
s_wrap (pcap_t *pcap, const char *filter, char *err, size_t errlen)
{
    if (s_filter (pcap, filter, err, errlen) == -1) {
        pcap_close (pcap);
        return NULL;
    }
    sn_capture_t *self = calloc (1, sizeof *self);
    if (!self) {
        pcap_close (pcap);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->pcap = pcap;
    return self;
}

sn_capture_t *
sn_capture_open_file (const char *path, const char *filter, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pcap = pcap_open_offline_with_tstamp_precision (path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!pcap) {
        snprintf (err, errlen, "%s: %s", path, perr);
        return NULL;
    }
    return s_wrap (pcap, filter, err, errlen);
}

sn_capture_t *
sn_capture_open_live (const char *iface, const char *filter, int snaplen, bool promiscuous,
                      int buffer_mb, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pcap = pcap_create (iface, perr);
    if (!pcap) {
        snprintf (err, errlen, "%s: %s", iface, perr);
        return NULL;
    }
    //  A 100 ms read timeout lets the caller expire flows and stop promptly on quiet links.
    pcap_set_snaplen (pcap, snaplen);
    pcap_set_promisc (pcap, promiscuous);
    pcap_set_timeout (pcap, 100);
    //  In bytes as an int: 2047 MiB at most (the config allows more than libpcap can take).
    int mb = buffer_mb < 1 ? 1 : buffer_mb > 2047 ? 2047 : buffer_mb;
    pcap_set_buffer_size (pcap, mb * 1024 * 1024);
    pcap_set_tstamp_precision (pcap, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate (pcap);
    if (rc < 0) {
        snprintf (err, errlen, "%s: %s%s", iface, pcap_statustostr (rc),
                  rc == PCAP_ERROR_PERM_DENIED ? " (needs CAP_NET_RAW: see docs/sensor.md)" : "");
        pcap_close (pcap);
        return NULL;
    }
    sn_capture_t *self = s_wrap (pcap, filter, err, errlen);
    if (!self)
        return NULL;
    self->live = true;
    //  The read timeout alone does not wake a blocked read on a quiet Linux link, and the
    //  sensor must expire flows and report health without traffic: read non-blocking and poll.
    self->fd = pcap_get_selectable_fd (pcap);
    if (self->fd < 0 || pcap_setnonblock (pcap, 1, perr) == -1) {
        snprintf (err, errlen, "%s: cannot poll the capture: %s", iface, perr);
        sn_capture_destroy (&self);
        return NULL;
    }
    return self;
}

void
sn_capture_destroy (sn_capture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pcap_close ((*self_p)->pcap);
    free (*self_p);
    *self_p = NULL;
}

int
sn_capture_next (sn_capture_t *self, sn_frame_t *frame, char *err, size_t errlen)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    err[0] = 0;
    int rc = pcap_next_ex (self->pcap, &hdr, &data);
    if (rc == 0 && self->live) {
        //  Nothing buffered: wait up to 100 ms for the descriptor, then try once more.
        struct pollfd pfd = {self->fd, POLLIN, 0};
        if (poll (&pfd, 1, 100) > 0)
            rc = pcap_next_ex (self->pcap, &hdr, &data);
    }
    if (rc == 1) {
        frame->data = data;
        frame->caplen = hdr->caplen;
        frame->wirelen = hdr->len;
        //  Opened with nanosecond precision: tv_usec holds nanoseconds.
        frame->ts_ns = (uint64_t) hdr->ts.tv_sec * 1000000000u + (uint64_t) hdr->ts.tv_usec;
        return 1;
    }
    if (rc == 0)
        return 0;
    if (rc == PCAP_ERROR_BREAK && self->live)
        return -1;
    if (rc == PCAP_ERROR)  //  a truncated or corrupt file ends here, with libpcap's reason
        snprintf (err, errlen, "%s", pcap_geterr (self->pcap));
    return -1;
}

int
sn_capture_link (const sn_capture_t *self)
{
    return pcap_datalink (self->pcap);
}

const char *
sn_capture_link_name (const sn_capture_t *self)
{
    const char *name = pcap_datalink_val_to_name (pcap_datalink (self->pcap));
    return name ? name : "unknown";
}

int
sn_capture_stats (sn_capture_t *self, sn_capture_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    if (!self->live)
        return 0;
    struct pcap_stat ps;
    if (pcap_stats (self->pcap, &ps) == -1)
        return -1;
    stats->received = ps.ps_recv;
    stats->dropped = ps.ps_drop;
    stats->if_dropped = ps.ps_ifdrop;
    return 0;
}
