/*  ag_health: each registered sensor's health as the centre sees it, for the SOC consoles
    (issue 8: "sensor health, silent sensors first"). Owner: aggregator/. The aggregator's loop
    thread owns it.

    Two sources, both already durable in the store: every stored event says its sensor is alive
    (its time of arrival is the sensor's `last_seen`), and a broker's `sensor.silent` finding
    (bk_broker, docs/mesh.md "Sensor health") says one of its sensors stopped heartbeating
    (revision 0) or came back (a later revision). From them each registered sensor is
    ok, quiet (no event for `quiet_s`, not reported silent), silent, or unheard (nothing since
    this aggregator started). A HEALTH message goes to the consoles of the sensor's company's
    provider and region (ag_console_state) when the state changes, and every `refresh_s` with
    the newest figures.

    Why not the brokers' heartbeats themselves: they stop at the broker, which already turns
    their absence into the silence finding; carrying every heartbeat to the centre would add a
    message per sensor every 10 s for what the finding says once. Limits: after an aggregator
    restart a sensor is unheard until its next event, and a silence reported before the restart
    is not known again until its broker reports it again (its finding is not replayed). */
#ifndef AG_HEALTH_H
#define AG_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "ag_console.h"
#include "ag_registry.h"

typedef struct ag_health_t ag_health_t;

typedef struct {
    uint64_t events;                      //  stored events seen
    uint64_t silences;                    //  sensor.silent findings taken (raised or cleared)
    uint64_t reports;                     //  HEALTH messages made
    uint64_t ok, quiet, silent, unheard;  //  registered sensors in each state at the last tick
    uint64_t bad;                         //  events that did not peek, findings that did not decode
} ag_health_stats_t;

//  `quiet_s`: seconds without an event before an unsilenced sensor is quiet; `refresh_s`:
//  seconds between reports of an unchanged state. `now` (ns): the start (unheard since then).
ag_health_t *ag_health_new (uint32_t quiet_s, uint32_t refresh_s, uint64_t now);
void ag_health_destroy (ag_health_t **self_p);

//  One stored event (ag_ingest's on_stored hook) forwarded by `broker` (the id of the key
//  that sent it here), `now` its time of arrival (ns). A silence finding counts only when its
//  sender is that broker itself: a sensor cannot say another sensor is silent or back (the
//  broker stamps a sensor's events with the sensor's own id, never its own).
void ag_health_on_stored (ag_health_t *self, mm_str_t broker, const uint8_t *data, size_t len,
                          uint64_t now);

//  The state of every sensor of `registry`; HEALTH to `console` for those due. Call every few
//  seconds.
void ag_health_tick (ag_health_t *self, const ag_registry_t *registry, ag_console_t *console,
                     uint64_t now);

void ag_health_stats (const ag_health_t *self, ag_health_stats_t *stats);

#endif
