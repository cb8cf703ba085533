/*  sn_det_lateral: PLACEHOLDER while the detector is being written (issue 4). */
#include "sn_detect.h"

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    (void) cfg;
    (void) engine;
    return NULL;
}

static void
s_destroy (void **self_p)
{
    (void) self_p;
}

const sn_det_class_t sn_det_lateral = {.name = "lateral", .create = s_create, .destroy = s_destroy};
