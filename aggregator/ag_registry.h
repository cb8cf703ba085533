/*  ag_registry: the aggregator's registry of providers, companies (orgs), supply chains, the
    supplier -> customer links between companies, and which sensor belongs to which org. The
    correlation rules (issue 6) ask it who a company's partners are, which chains it is in and
    which addresses and domains are its own. Owner: aggregator/. Read-only once loaded: a reload
    builds a new registry and the owner swaps it in (ag_registry_watch_t).

    File format (docs/registry.md has an example): one declaration a line, '#' starts a comment,
    words separated by blanks, values as key=value, a value with blanks in double quotes.
      provider ID [name="..."]
      org ID provider=ID pref=1..47 industry=A..T size=micro|small|medium|large
              [name="..."] [nets=CIDR,CIDR...] [domains=NAME,NAME...]
      chain ID [name="..."] [owner=ORG]
      member CHAIN ORG [tier=0..9]
      edge SUPPLIER -> CUSTOMER chain=CHAIN link=vpn|edi|email|remote_maint|shared_saas
      sensor ID org=ORG [type=network|endpoint]
    Declarations may come in any order: references are checked once the file is read. Every
    error names the file, the line and the reason (up to AG_REGISTRY_ERRORS_MAX of them); a
    file with any error is refused whole.

    Regions: the prefecture (JIS X 0401 code 1..47) gives one of the 8 regions used by the
    statistics and regional advisories: hokkaido, tohoku, kanto, chubu, kinki, chugoku,
    shikoku, kyushu (Okinawa included). Industry: the JSIC major division letter A..T. */
#ifndef AG_REGISTRY_H
#define AG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_config.h"
#include "mm_proto.h"

typedef struct ag_registry_t ag_registry_t;

#define AG_REGISTRY_ERRORS_MAX 20
#define AG_REGISTRY_LINE_MAX 8192   //  bytes in one line
#define AG_REGISTRY_DOMAINS_MAX 32  //  own domains of one org
#define AG_REGISTRY_NAME_MAX 128

typedef enum {
    AG_REGION_NONE = 0,
    AG_REGION_HOKKAIDO,
    AG_REGION_TOHOKU,
    AG_REGION_KANTO,
    AG_REGION_CHUBU,
    AG_REGION_KINKI,
    AG_REGION_CHUGOKU,
    AG_REGION_SHIKOKU,
    AG_REGION_KYUSHU,
    AG_REGION_COUNT_
} ag_region_t;

typedef enum { AG_SIZE_MICRO = 1, AG_SIZE_SMALL, AG_SIZE_MEDIUM, AG_SIZE_LARGE } ag_size_t;

typedef enum {
    AG_LINK_VPN = 1,
    AG_LINK_EDI,
    AG_LINK_EMAIL,
    AG_LINK_REMOTE_MAINT,
    AG_LINK_SHARED_SAAS,
} ag_link_t;

typedef enum { AG_SENSOR_NETWORK = 1, AG_SENSOR_ENDPOINT } ag_sensor_type_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    char name[AG_REGISTRY_NAME_MAX];
} ag_provider_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    char name[AG_REGISTRY_NAME_MAX];
    uint32_t provider;  //  index into the providers
    uint8_t pref;       //  1..47
    uint8_t region;     //  ag_region_t
    char industry;      //  'A'..'T'
    uint8_t size;       //  ag_size_t
    mm_netlist_t nets;  //  its own public addresses
    uint32_t n_domains;
    char domains[AG_REGISTRY_DOMAINS_MAX][MM_NAME_MAX + 1];  //  lower case, no trailing dot
} ag_org_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    char name[AG_REGISTRY_NAME_MAX];
    int32_t owner;  //  org index, -1: none
} ag_chain_t;

typedef struct {
    uint32_t supplier, customer;  //  org indexes
    uint32_t chain;               //  chain index
    uint8_t link;                 //  ag_link_t
    uint32_t line;                //  where it was declared
} ag_edge_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    uint32_t org;
    uint8_t type;  //  ag_sensor_type_t
} ag_sensor_t;

//  Loads and checks `path`. NULL if it cannot be read or has errors: then `err` holds them,
//  one "path:line: reason" a line (the first AG_REGISTRY_ERRORS_MAX), and `n_errors` (may be
//  NULL) how many there were in all.
ag_registry_t *ag_registry_load (const char *path, char *err, size_t err_size, size_t *n_errors);
//  The same from a buffer; `name` stands for the path in messages.
ag_registry_t *ag_registry_parse (const char *name, const char *text, size_t len, char *err,
                                  size_t err_size, size_t *n_errors);
void ag_registry_destroy (ag_registry_t **self_p);

//  Counts.
size_t ag_registry_providers (const ag_registry_t *self);
size_t ag_registry_orgs (const ag_registry_t *self);
size_t ag_registry_chains (const ag_registry_t *self);
size_t ag_registry_edges (const ag_registry_t *self);
size_t ag_registry_sensors (const ag_registry_t *self);

//  By index (0 .. count - 1); NULL beyond.
const ag_provider_t *ag_registry_provider_at (const ag_registry_t *self, size_t i);
const ag_org_t *ag_registry_org_at (const ag_registry_t *self, size_t i);
const ag_chain_t *ag_registry_chain_at (const ag_registry_t *self, size_t i);
const ag_sensor_t *ag_registry_sensor_at (const ag_registry_t *self, size_t i);
const ag_edge_t *ag_registry_edge_at (const ag_registry_t *self, size_t i);

//  By id: the index, or -1 if unknown.
int32_t ag_registry_org_index (const ag_registry_t *self, const char *id);
int32_t ag_registry_chain_index (const ag_registry_t *self, const char *id);
//  The org of a sensor (from its certificate id), or -1 if the sensor is not registered.
int32_t ag_registry_sensor_org (const ag_registry_t *self, const char *sensor);
//  The sensor itself (its org and type), or NULL if it is not registered.
const ag_sensor_t *ag_registry_sensor (const ag_registry_t *self, const char *sensor);

//  A company's direct partners: the orgs it supplies (customers) and those that supply it
//  (suppliers), each once, whatever the chain or link. Fills up to `max` org indexes; returns
//  how many there are in all.
size_t ag_registry_customers (const ag_registry_t *self, uint32_t org, uint32_t *out, size_t max);
size_t ag_registry_suppliers (const ag_registry_t *self, uint32_t org, uint32_t *out, size_t max);
//  The chains an org is a member of, and the members of a chain (org indexes).
size_t ag_registry_org_chains (const ag_registry_t *self, uint32_t org, uint32_t *out, size_t max);
size_t ag_registry_chain_members (const ag_registry_t *self, uint32_t chain, uint32_t *out,
                                  size_t max);
//  True if `org` is a member of `chain`.
bool ag_registry_is_member (const ag_registry_t *self, uint32_t org, uint32_t chain);

//  Is the address, or the domain (or a parent domain of it), one of the org's own?
bool ag_registry_org_owns_addr (const ag_registry_t *self, uint32_t org, const mm_addr_t *addr);
bool ag_registry_org_owns_domain (const ag_registry_t *self, uint32_t org, const char *name);

//  Names of the enumerations ("kanto", "vpn", ...); "?" for an unknown value.
const char *ag_region_name (uint8_t region);
const char *ag_link_name (uint8_t link);
//  The region of a prefecture code (1..47), AG_REGION_NONE for anything else.
uint8_t ag_region_of_pref (unsigned pref);

//  ---------------------------------------------------------------------------------------------
//  Reload without a restart: the owner keeps a watch and asks it now and then for a new
//  registry. The file is looked at once a second at most; a changed file that loads replaces
//  the current registry; one with errors is refused (logged with its errors) and the current
//  one stays in force.

typedef struct ag_registry_watch_t ag_registry_watch_t;

//  Loads `path` now. NULL (with the errors in `err`) if it does not load: a daemon must not
//  start without a registry it can read.
ag_registry_watch_t *ag_registry_watch_new (const char *path, char *err, size_t err_size);
void ag_registry_watch_destroy (ag_registry_watch_t **self_p);
//  The registry in force (borrowed: valid until the next ag_registry_watch_check).
const ag_registry_t *ag_registry_watch_current (const ag_registry_watch_t *self);
//  Looks at the file (at most once a second unless `force`): 1 if a new registry is now in
//  force, 0 if nothing changed, -1 if the changed file was refused (the old one stays).
int ag_registry_watch_check (ag_registry_watch_t *self, bool force);

#endif
