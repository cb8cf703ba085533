/*  st_noise: differential-privacy noise for published counts (issue 7). An exact
    discrete-Laplace sampler in integer arithmetic (Canonne, Kamath and Steinke 2020,
    "The Discrete Gaussian for Differential Privacy", algorithms 1 and 2): P(y) is
    proportional to exp(-epsilon |y| / sensitivity) for every integer y, with epsilon a rational
    num/den, so no floating-point artefact tells neighbouring tables apart (Mironov 2012).
    The random bits come from ChaCha20 keyed by HMAC-SHA-256(secret, cell label): the same
    cell gets the same noise in every run, so asking again cannot average it away, and nobody
    without the secret can predict it. Owner: stats/. */
#ifndef ST_NOISE_H
#define ST_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define ST_NOISE_KEY_LEN 32

//  A deterministic stream of random bits (ChaCha20), seeded by st_rng_seed.
typedef struct {
    uint8_t key[32];
    uint64_t block;   //  next ChaCha20 block
    uint8_t buf[64];  //  the current block
    size_t used;      //  bytes of buf consumed
} st_rng_t;

//  The stream for `label` under `secret` (HMAC-SHA-256(secret, label) keys it).
void st_rng_seed (st_rng_t *rng, const uint8_t secret[ST_NOISE_KEY_LEN], const char *label);
//  A uniform integer in [0, n), n > 0 (rejection sampling: no modulo bias).
uint64_t st_rng_uniform (st_rng_t *rng, uint64_t n);

//  One draw of discrete Laplace noise with P(y) ~ exp(-(num/den) |y| / sensitivity). num, den
//  and sensitivity must be positive (and num, den * sensitivity below 2^32). The noise, or
//  INT64_MIN if the parameters are refused.
int64_t st_noise_laplace (st_rng_t *rng, uint32_t num, uint32_t den, uint32_t sensitivity);

//  Reads a secret of ST_NOISE_KEY_LEN bytes from `path`, creating it (mode 0600, from the
//  system's CSPRNG) if it does not exist. A file readable by others is refused. 0 or -1
//  (`err` says why).
int st_noise_secret (const char *path, uint8_t secret[ST_NOISE_KEY_LEN], char *err,
                     size_t err_size);

#endif
