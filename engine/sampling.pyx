# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# The hot loops of engine/workloads.py: bounded-Zipf inversion through the
# guide table, and filling ACCESS_DTYPE records from uniform draws in one
# pass. The random numbers themselves still come from numpy's
# Generator(PCG64(seed)) in workloads.py, so a seed gives the same accesses
# as the vectorised numpy code these loops replace (tests/engine/test_workloads.py).

import numpy as np

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from *:
    """
    #define RL_SMP_PREFETCH(p) __builtin_prefetch((const void*)(p), 0, 1)
    """
    void prefetch "RL_SMP_PREFETCH"(const void* p) noexcept nogil

cdef enum:
    PF_GUIDE = 16                 # prefetch the guide slot of draw i + 16 ...
    PF_CDF = 8                    # ... and the CDF entry it points at for draw i + 8

ctypedef struct access_rec:       # ACCESS_DTYPE (engine/simulator.pyx)
    uint8_t op
    uint8_t write
    uint16_t _pad
    uint32_t owner
    uint64_t page


cdef inline void prefetch_draws(const double* cdf, const int64_t* guide, double scale,
                                const double* u, int64_t i, int64_t m) noexcept nogil:
    # The draws are known in advance: fetch the guide slot, then the CDF line
    # it leads to, ahead of use, so the cache misses of the tail overlap.
    if i + PF_GUIDE < m:
        prefetch(&guide[<int64_t>(u[i + PF_GUIDE] * scale)])
    if i + PF_CDF < m:
        prefetch(&cdf[guide[<int64_t>(u[i + PF_CDF] * scale)]])


cdef inline int64_t invert(const double* cdf, const int64_t* guide, int64_t n, double scale,
                           double u) noexcept nogil:
    # guide[j] is the first rank whose CDF exceeds j / 2^bits: start there and
    # step forward while the CDF is still <= u (searchsorted(cdf, u, "right"))
    cdef int64_t r = guide[<int64_t>(u * scale)]
    if r > n - 1:
        r = n - 1
    while r < n - 1 and cdf[r] <= u:
        r += 1
    return r


def zipf_invert(const double[::1] cdf, const int64_t[::1] guide, const double[::1] u,
                int guide_bits):
    """0-based ranks for the uniform draws `u` (the answer of
    searchsorted(cdf, u, side="right"), clipped to the last rank)."""
    cdef int64_t n = cdf.shape[0]
    cdef int64_t m = u.shape[0]
    cdef int64_t i
    cdef double scale = <double>(1 << guide_bits)
    out = np.empty(m, dtype=np.int64)
    cdef int64_t[::1] o = out
    if m == 0:
        return out
    with nogil:
        for i in range(m):
            prefetch_draws(&cdf[0], &guide[0], scale, &u[0], i, m)
            o[i] = invert(&cdf[0], &guide[0], n, scale, u[i])
    return out


def fill_zipf(access_out, int op, uint32_t owner, const double[::1] cdf,
              const int64_t[::1] guide, int guide_bits, const int64_t[::1] perm,
              const double[::1] u, w, double write_ratio):
    """access_out[i] = (op, write, owner, perm[rank(u[i])]) with write =
    w[i] < write_ratio (w is None when write_ratio <= 0: no writes)."""
    cdef uint8_t[::1] raw = access_out.view(np.uint8)
    cdef int64_t m = u.shape[0]
    cdef int64_t n = cdf.shape[0]
    cdef int64_t i
    cdef double scale = <double>(1 << guide_bits)
    cdef const double[::1] wv
    cdef bint writes = w is not None
    if m == 0:
        return
    if raw.shape[0] < m * 16:
        raise ValueError("output too short")
    if writes:
        wv = w
        if wv.shape[0] < m:
            raise ValueError("write draws too short")
    cdef access_rec* a = <access_rec*>&raw[0]
    with nogil:
        for i in range(m):
            prefetch_draws(&cdf[0], &guide[0], scale, &u[0], i, m)
            a[i].op = <uint8_t>op
            a[i].write = (wv[i] < write_ratio) if writes else 0
            a[i]._pad = 0
            a[i].owner = owner
            a[i].page = <uint64_t>perm[invert(&cdf[0], &guide[0], n, scale, u[i])]
