/*  mm_config: configuration files for every Mimamori program. The format is INI ([section]
    then key = value; '#' or ';' comments). Each program describes
    its settings once, in a table (section, key, type, bounds, default, help); loading checks
    every line against it, so an unknown key, a bad value or a value out of range is an error
    that names the file and line. Command-line flags go through the same table. */
#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mm_proto.h"

typedef enum {
    MM_CFG_STR = 1,  //  char[size] at offset
    MM_CFG_UINT,     //  uint64_t at offset, in [min, max]
    MM_CFG_BOOL,     //  bool at offset: true/false, yes/no, on/off, 1/0
    MM_CFG_NETS,     //  mm_netlist_t at offset: CIDRs separated by commas or spaces
} mm_cfg_type_t;

typedef struct {
    const char *section;
    const char *key;
    mm_cfg_type_t type;
    size_t offset;
    size_t size;        //  MM_CFG_STR: buffer size including the NUL
    uint64_t min, max;  //  MM_CFG_UINT
    const char *def;    //  default, as text (NULL: empty)
    const char *help;
} mm_cfg_item_t;

//  Table items for a settings struct T, so every program writes its table the same way:
//  MM_CFG_ITEM_STR (sn_config_t, "sensor", "id", id, "sensor", "help").
#define MM_CFG_ITEM_STR(T, sec, k, m, d, h)                                                        \
    {                                                                                              \
        sec, k, MM_CFG_STR, offsetof (T, m), sizeof (((T *) 0)->m), 0, 0, d, h                     \
    }
#define MM_CFG_ITEM_UINT(T, sec, k, m, lo, hi, d, h)                                               \
    {                                                                                              \
        sec, k, MM_CFG_UINT, offsetof (T, m), 0, lo, hi, d, h                                      \
    }
#define MM_CFG_ITEM_BOOL(T, sec, k, m, d, h)                                                       \
    {                                                                                              \
        sec, k, MM_CFG_BOOL, offsetof (T, m), 0, 0, 0, d, h                                        \
    }
#define MM_CFG_ITEM_NETS(T, sec, k, m, d, h)                                                       \
    {                                                                                              \
        sec, k, MM_CFG_NETS, offsetof (T, m), 0, 0, 0, d, h                                        \
    }

#define MM_NETS_MAX 64

typedef struct {
    uint8_t len;     //  4 or 16
    uint8_t prefix;  //  prefix length in bits
    uint8_t b[16];
} mm_net_t;

typedef struct {
    uint32_t n;
    mm_net_t nets[MM_NETS_MAX];
} mm_netlist_t;

//  Sets every item to its default. 0, or -1 if a default is invalid (a programming error).
int mm_config_defaults (const mm_cfg_item_t *table, size_t n, void *cfg, char *err, size_t errlen);

//  Loads `path` over the current values. 0, or -1 with "path:line: reason" in `err`.
int mm_config_load (const mm_cfg_item_t *table, size_t n, void *cfg, const char *path, char *err,
                    size_t errlen);

//  Sets one item from text (command-line flags). 0, or -1 with the reason in `err`.
int mm_config_set (const mm_cfg_item_t *table, size_t n, void *cfg, const char *section,
                   const char *key, const char *value, char *err, size_t errlen);

//  Writes an annotated example file: every section, key, default and help line.
void mm_config_print (const mm_cfg_item_t *table, size_t n, FILE *out);

//  A daemon's --check-config: looks at every setting of `cfg` that names a file, a key or an
//  address (mm_check).
struct mm_check_t;
typedef void (mm_config_check_fn) (const void *cfg, struct mm_check_t *check);

//  The command line of a daemon whose only flags are -c/--config FILE, --print-config,
//  --check-config, -V/--version and -h/--help: fills `cfg` from the defaults and the file.
//  Returns -1 when the program should go on, else the exit code to return (0 after --help,
//  --version, --print-config or a clean --check-config; 1 for a broken default; 2 for a bad
//  flag or file, or a --check-config with something to fix, with the reason on stderr or the
//  check's lines on stdout). `about` is the help text's description (one or two lines).
int mm_config_daemon_args (const char *prog, const char *version, const char *about,
                           const mm_cfg_item_t *table, size_t n, void *cfg,
                           mm_config_check_fn *check, int argc, char **argv);

//  What every daemon does once its settings are read: CZMQ's log lines go to stderr (with the
//  daemon's own summaries; CZMQ's default is stdout), CZMQ's signal handling is replaced, and
//  SIGINT and SIGTERM only raise the flag that the daemon's loop checks between rounds. 0, or
//  -1 if a handler could not be installed.
int mm_daemon_stop_signals (void);
//  True once SIGINT or SIGTERM came (after mm_daemon_stop_signals).
bool mm_daemon_stopping (void);

//  Parses a list of CIDRs ("10.0.0.0/8, 2001:db8::/32"; a bare address is a /32 or /128).
int mm_netlist_parse (mm_netlist_t *list, const char *text, char *err, size_t errlen);

//  True if `addr` falls in one of the networks.
bool mm_netlist_contains (const mm_netlist_t *list, const mm_addr_t *addr);

#endif
