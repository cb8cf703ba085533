/*  sn_det_scan: port scans, host sweeps, ICMP echo and ARP sweeps (detector class "scan",
    settings [scan]). The class itself is sn_det_scan in sn_detect.c's table; this header gives
    tests and the sensor's counters a look at its state. Owner: sensor. */
#ifndef SN_DET_SCAN_H
#define SN_DET_SCAN_H

#include <stdint.h>

#include "sn_detect.h"

extern const sn_det_class_t sn_det_scan;

typedef struct {
    uint64_t probes;    //  first packets counted as probes (TCP/UDP/ICMP echo/ARP request)
    uint64_t refusals;  //  negative answers: RST from the target, ICMP unreachable
    uint64_t answers;   //  normal answers: SYN-ACK, UDP or echo reply, ARP reply
    uint64_t tracked;   //  entries held now, all tables together (bounded by 3 x max_tracked)
    uint64_t capacity;  //  entries the tables can hold
    uint64_t recycled;  //  entries forgotten early because a table was full
} sn_det_scan_stats_t;

//  `self` is the module's state, from sn_detect_module (engine, "scan").
void sn_det_scan_stats (const void *self, sn_det_scan_stats_t *stats);

#endif
