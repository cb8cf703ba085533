/*  mm_check: `--check-config` for every program (issue 8): each setting that names a file, a
    directory, a key or an address is looked at the way the program will use it, and one line
    says what was found: "ok" with what it means, or "FIX" with what is wrong and what to do.
    Nothing is changed, nothing is bound or opened for writing. Owner: proto/.

    Exit codes of every daemon (docs/operations.md): 0 ran and stopped cleanly (or --help,
    --version, --print-config, a --check-config without a FIX); 1 a failure while running (a
    store, a socket, the disk); 2 a usage or settings error (a bad flag, a file that does not
    parse, a --check-config with a FIX line). */
#ifndef MM_CHECK_H
#define MM_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "mm_cert.h"

typedef struct mm_check_t {
    FILE *out;
    unsigned problems;  //  FIX lines so far
} mm_check_t;

//  One line: `what` is the setting ("[keys] cert_secret"), the rest printf.
void mm_check_ok (mm_check_t *c, const char *what, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void mm_check_fix (mm_check_t *c, const char *what, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  A certificate file: a secret one (`secret`: readable by its owner only) of `role`, or a
//  public one of `role` (MM_ROLE_NONE: any role).
void mm_check_cert (mm_check_t *c, const char *what, const char *path, bool secret, int role);

//  A directory of allowed certificates (*.cert): it exists; how many it holds.
void mm_check_cert_dir (mm_check_t *c, const char *what, const char *path);

//  A directory the program writes (a store, a spool): it exists and is writable, or its
//  parent is (the program makes it).
void mm_check_state_dir (mm_check_t *c, const char *what, const char *path);

//  A file the program reads; `optional`: empty means none.
void mm_check_file (mm_check_t *c, const char *what, const char *path, bool optional);

//  A ZeroMQ endpoint ("tcp://host:port"); an HTTP listen address ("127.0.0.1:9101", "" none).
void mm_check_endpoint (mm_check_t *c, const char *what, const char *endpoint);
void mm_check_listen (mm_check_t *c, const char *what, const char *listen);

//  The last line and the exit code: 0 if nothing to fix, else 2.
int mm_check_done (mm_check_t *c, const char *prog, const char *file);

#endif
