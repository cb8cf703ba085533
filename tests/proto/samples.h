/*  Transition shim: the samples live in proto/mm_sample.h. */
#include "mm_sample.h"
