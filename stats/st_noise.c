/*  st_noise: see st_noise.h. */
#include "st_noise.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
st_rng_seed (st_rng_t *rng, const uint8_t secret[ST_NOISE_KEY_LEN], const char *label)
{
    memset (rng, 0, sizeof *rng);
    crypto_auth_hmacsha256 (rng->key, (const unsigned char *) label, strlen (label), secret);
    rng->used = sizeof rng->buf;
}

static void
s_bytes (st_rng_t *rng, uint8_t *out, size_t n)
{
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    static const uint8_t zero[64] = {0};
    while (n > 0) {
        if (rng->used == sizeof rng->buf) {
            crypto_stream_chacha20_ietf_xor_ic (rng->buf, zero, sizeof rng->buf, nonce,
                                                (uint32_t) rng->block++, rng->key);
            rng->used = 0;
        }
        size_t k = sizeof rng->buf - rng->used < n ? sizeof rng->buf - rng->used : n;
        memcpy (out, rng->buf + rng->used, k);
        rng->used += k;
        out += k;
        n -= k;
    }
}

uint64_t
st_rng_uniform (st_rng_t *rng, uint64_t n)
{
    if (n <= 1)
        return 0;
    //  The largest multiple of n that fits: draws above it are thrown away.
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    while (true) {
        uint8_t b[8];
        s_bytes (rng, b, sizeof b);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | b[i];
        if (v < limit)
            return v % n;
    }
}

//  Bernoulli(num / den), 0 <= num <= den.
static bool
s_bernoulli (st_rng_t *rng, uint64_t num, uint64_t den)
{
    return st_rng_uniform (rng, den) < num;
}

//  Bernoulli(exp(-num/den)) for num/den in [0, 1] (CKS algorithm 1, first part): the parity of
//  the first K with a failed Bernoulli(gamma / K).
static bool
s_bernoulli_exp_small (st_rng_t *rng, uint64_t num, uint64_t den)
{
    uint64_t k = 1;
    while (s_bernoulli (rng, num, den * k))
        k++;
    return k % 2 == 1;
}

//  Bernoulli(exp(-num/den)) for any num/den >= 0 (CKS algorithm 1).
static bool
s_bernoulli_exp (st_rng_t *rng, uint64_t num, uint64_t den)
{
    for (uint64_t i = 0; i < num / den; i++)
        if (!s_bernoulli_exp_small (rng, 1, 1))
            return false;
    return s_bernoulli_exp_small (rng, num % den, den);
}

//  CKS algorithm 2: discrete Laplace with scale t/s (P(y) ~ exp(-|y| s / t)).
int64_t
st_noise_laplace (st_rng_t *rng, uint32_t num, uint32_t den, uint32_t sensitivity)
{
    if (num == 0 || den == 0 || sensitivity == 0)
        return INT64_MIN;
    uint64_t s = num, t = (uint64_t) den * sensitivity;
    if (t >> 32)
        return INT64_MIN;
    while (true) {
        uint64_t u = st_rng_uniform (rng, t);
        if (!s_bernoulli_exp (rng, u, t))
            continue;
        uint64_t v = 0;
        while (s_bernoulli_exp (rng, 1, 1))
            v++;
        uint64_t y = (u + t * v) / s;
        bool negative = s_bernoulli (rng, 1, 2);
        if (negative && y == 0)
            continue;
        return negative ? -(int64_t) y : (int64_t) y;
    }
}

int
st_noise_secret (const char *path, uint8_t secret[ST_NOISE_KEY_LEN], char *err, size_t err_size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd == -1 && errno == ENOENT) {
        //  A new secret: written whole to a temporary file, then moved into place.
        char tmp[4096];
        snprintf (tmp, sizeof tmp, "%s.new", path);
        int w = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (w == -1) {
            snprintf (err, err_size, "cannot create %s: %s", tmp, strerror (errno));
            return -1;
        }
        randombytes_buf (secret, ST_NOISE_KEY_LEN);
        bool ok = write (w, secret, ST_NOISE_KEY_LEN) == ST_NOISE_KEY_LEN && fsync (w) == 0;
        ok = close (w) == 0 && ok;
        if (!ok || rename (tmp, path) != 0) {
            snprintf (err, err_size, "cannot write %s: %s", path, strerror (errno));
            unlink (tmp);
            return -1;
        }
        return 0;
    }
    if (fd == -1) {
        snprintf (err, err_size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat (fd, &st) != 0)
        snprintf (err, err_size, "cannot stat %s: %s", path, strerror (errno));
    else if (st.st_mode & 077)
        snprintf (err, err_size, "%s is readable by others (mode %o): chmod 600 it", path,
                  (unsigned) (st.st_mode & 0777));
    else if (read (fd, secret, ST_NOISE_KEY_LEN) != ST_NOISE_KEY_LEN)
        snprintf (err, err_size, "%s does not hold %d bytes", path, ST_NOISE_KEY_LEN);
    else
        rc = 0;
    close (fd);
    return rc;
}
