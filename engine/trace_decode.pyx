# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# Per-chunk decoders for engine/trace.py: the object-id table that numbers
# libCacheSim objects in order of first appearance (a typed open-addressing
# hash table, O(1) per request, no sort), the oracleGeneral record decoder,
# and the one-number-per-line parser. Each decoder turns one chunk of input
# bytes into ACCESS_DTYPE records in one nogil loop; engine/trace.py owns the
# files, the chunking, detection and error messages. See docs/trace-format.md.

import numpy as np

from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memcpy
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from engine.core cimport populate_write

cdef extern from *:
    """
    #define RL_TD_PREFETCH(p) __builtin_prefetch((const void*)(p), 1, 1)
    """
    void prefetch "RL_TD_PREFETCH"(const void* p) noexcept nogil

ctypedef struct access_rec:       # ACCESS_DTYPE (engine/simulator.pyx)
    uint8_t op
    uint8_t write
    uint16_t _pad
    uint32_t owner
    uint64_t page

ctypedef struct id_slot:
    uint64_t key                  # the object id
    int64_t rank                  # its first-appearance number; -1 = empty slot

cdef enum:
    OP_READ = 1
    REC = 24                      # bytes per oracleGeneral record
    PF_AHEAD = 16                 # prefetch the table slot of record i + 16
    PAGE_SHIFT = 12

ACCESS_DTYPE = np.dtype([("op", "u1"), ("write", "u1"), ("_pad", "u2"), ("owner", "u4"), ("page", "u8")])


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    # splitmix64's finaliser: ids are often sequential or strided
    x ^= x >> 30
    x *= <uint64_t>0xbf58476d1ce4e5b9
    x ^= x >> 27
    x *= <uint64_t>0x94d049bb133111eb
    x ^= x >> 31
    return x


cdef inline int64_t req_pages(uint32_t size, int64_t max_pages) noexcept nogil:
    # ceil(size / 4096) clipped to [1, max_pages]
    cdef int64_t p = (<int64_t>size + 4095) >> PAGE_SHIFT
    if p < 1:
        p = 1
    if p > max_pages:
        p = max_pages
    return p


cdef inline int64_t put_reads(access_rec* a, int64_t k, int64_t first, int64_t np_) noexcept nogil:
    # a request: np_ read()s of file 0 from page `first`, written at a[k]; the next k
    cdef int64_t j
    for j in range(np_):
        a[k].op = OP_READ
        a[k].write = 0
        a[k]._pad = 0
        a[k].owner = 0
        a[k].page = <uint64_t>(first + j)
        k += 1
    return k


cdef void clear_slots(id_slot* s, uint64_t n) noexcept nogil:
    cdef uint64_t i
    for i in range(n):
        s[i].rank = -1


cdef class ObjectTable:
    """Object id -> first-appearance rank (0, 1, 2, ...), and per rank the
    largest request seen (in pages) when sizes matter.

    Linear probing over interleaved (key, rank) slots, at most 3/4 full;
    doubling rehashes. Memory: 21 to 43 bytes per distinct id (plus 4 for
    the extent in a first pass), whatever the trace length."""
    cdef id_slot* slots
    cdef uint64_t mask
    cdef readonly int64_t nr_objects
    cdef int32_t* extent          # pages per rank (pass 1 of obj_pages="size"); 0 = one page
    cdef readonly int64_t max_extent  # the largest request seen by pass 1, in pages
    cdef int64_t extent_cap
    cdef int64_t* base            # first page per rank, after finish_layout()
    cdef readonly int64_t file_pages
    cdef int64_t laid_out         # objects that have a base (pass 1 saw them)

    def __cinit__(self):
        self.mask = (1 << 16) - 1
        self.slots = <id_slot*>malloc((self.mask + 1) * sizeof(id_slot))
        if self.slots == NULL:
            raise MemoryError()
        clear_slots(self.slots, self.mask + 1)
        self.nr_objects = 0
        self.extent = NULL
        self.extent_cap = 0
        self.max_extent = 0
        self.base = NULL
        self.file_pages = 0
        self.laid_out = 0

    def __dealloc__(self):
        free(self.slots)
        free(self.extent)
        free(self.base)

    cdef int grow(self) except -1 nogil:
        cdef uint64_t newmask = self.mask * 2 + 1
        cdef id_slot* ns = <id_slot*>malloc((newmask + 1) * sizeof(id_slot))
        cdef uint64_t i, j
        if ns == NULL:
            with gil:
                raise MemoryError("object table")
        populate_write(ns, (newmask + 1) * sizeof(id_slot))
        clear_slots(ns, newmask + 1)
        for i in range(self.mask + 1):
            if self.slots[i].rank >= 0:
                j = mix64(self.slots[i].key) & newmask
                while ns[j].rank >= 0:
                    j = (j + 1) & newmask
                ns[j] = self.slots[i]
        free(self.slots)
        self.slots = ns
        self.mask = newmask
        return 0

    cdef inline int64_t rank_of(self, uint64_t key) except -1 nogil:
        """The id's rank; a new id gets the next one."""
        cdef uint64_t i
        if <uint64_t>(self.nr_objects + 1) * 4 > (self.mask + 1) * 3:
            self.grow()
        i = mix64(key) & self.mask
        while True:
            if self.slots[i].rank < 0:
                self.slots[i].key = key
                self.slots[i].rank = self.nr_objects
                self.nr_objects += 1
                return self.nr_objects - 1
            if self.slots[i].key == key:
                return self.slots[i].rank
            i = (i + 1) & self.mask

    cdef inline void prefetch_key(self, uint64_t key) noexcept nogil:
        prefetch(&self.slots[mix64(key) & self.mask])

    cdef int note_extent(self, int64_t rank, int64_t pages) except -1 nogil:
        cdef int64_t cap
        cdef int32_t* p
        cdef int64_t k
        if rank >= self.extent_cap:
            cap = max(1024, self.extent_cap * 2, rank + 1)
            p = <int32_t*>realloc(self.extent, cap * sizeof(int32_t))
            if p == NULL:
                with gil:
                    raise MemoryError("object extents")
            for k in range(self.extent_cap, cap):
                p[k] = 0
            self.extent = p
            self.extent_cap = cap
        if pages > self.extent[rank]:
            self.extent[rank] = <int32_t>pages
        if pages > self.max_extent:
            self.max_extent = pages
        return 0

    def scan_extents(self, const uint8_t[::1] records, int64_t max_pages, bint sizes=True,
                     int32_t[::1] ranks=None, uint16_t[::1] pages=None):
        """The first pass: number the ids and, when `sizes`, keep each object's
        largest request (pages). `ranks` / `pages`, when given (as long as the
        chunk), get each request's rank and its pages (clipped to 65,535), for
        decode_cached() to write the accesses without reading the input again."""
        cdef int64_t n = records.shape[0] // REC
        cdef int64_t i, rank, np_
        cdef uint64_t oid, nxt
        cdef uint32_t size
        cdef const uint8_t* b = &records[0] if n else NULL
        cdef int32_t* ro = &ranks[0] if ranks is not None and n else NULL
        cdef uint16_t* po = &pages[0] if pages is not None and n else NULL
        if (ranks is not None and ranks.shape[0] < n) or (pages is not None and pages.shape[0] < n):
            raise ValueError("scan_extents(): ranks / pages shorter than the chunk")
        with nogil:
            # the kept ranks are fresh arrays, each page written once: map them in one call
            if ro != NULL:
                populate_write(ro, n * sizeof(int32_t))
            if po != NULL:
                populate_write(po, n * sizeof(uint16_t))
            for i in range(n):
                if i + PF_AHEAD < n:
                    memcpy(&nxt, b + (i + PF_AHEAD) * REC + 4, 8)
                    self.prefetch_key(nxt)
                memcpy(&oid, b + i * REC + 4, 8)
                rank = self.rank_of(oid)
                if ro != NULL:
                    ro[i] = <int32_t>rank
                if sizes:
                    memcpy(&size, b + i * REC + 12, 4)
                    np_ = req_pages(size, max_pages)
                    if np_ > 1:                 # most requests: the extent stays 0 (one page)
                        self.note_extent(rank, np_)
                    if po != NULL:
                        po[i] = <uint16_t>(np_ if np_ < 65535 else 65535)

    def decode_cached(self, const int32_t[::1] ranks, const uint16_t[::1] pages, str mode,
                      spare=None):
        """decode() from the ranks (and pages) scan_extents() kept: the same
        accesses, without the input or the table lookups. mode "one" or
        "laid_out" (pages None: every request one page). `spare`: as in
        decode()."""
        cdef int64_t n = ranks.shape[0]
        cdef int64_t i, k, total, np_, first
        cdef bint laid_out = mode == "laid_out"
        if laid_out and (self.base == NULL or (pages is not None and pages.shape[0] < n)):
            raise RuntimeError("decode_cached('laid_out') needs finish_layout() and the pages")
        if not laid_out and mode != "one":
            raise ValueError(f"unknown mode {mode!r}")
        cdef bint one_page = pages is None
        total = n
        if laid_out and not one_page:
            total = 0
            with nogil:
                for i in range(n):
                    total += pages[i]
        out = _output(total, spare)
        if total == 0:
            return out
        cdef access_rec* a = <access_rec*><size_t>out.ctypes.data
        k = 0
        with nogil:
            for i in range(n):
                if laid_out:
                    np_ = 1 if one_page else pages[i]
                    first = self.base[ranks[i]]
                else:
                    np_ = 1
                    first = ranks[i]
                k = put_reads(a, k, first, np_)
        return out

    def finish_layout(self):
        """After pass 1: objects laid out one after another in rank order;
        returns the pages they span."""
        cdef int64_t r, total = 0
        free(self.base)
        self.base = <int64_t*>malloc(max(1, self.nr_objects) * sizeof(int64_t))
        if self.base == NULL:
            raise MemoryError()
        for r in range(self.nr_objects):
            self.base[r] = total
            total += self.extent[r] if r < self.extent_cap and self.extent[r] > 0 else 1
        self.file_pages = total
        self.laid_out = self.nr_objects
        return total

    def decode(self, const uint8_t[::1] records, str mode, int64_t max_pages, spare=None):
        """oracleGeneral records -> ACCESS_DTYPE reads of file 0, written into
        `spare` (an ACCESS_DTYPE array no one holds any more) when it is long
        enough: fresh memory costs its zeroing by the kernel.

        mode "one": page = rank. "laid_out": the object's pages start at
        base[rank] (finish_layout() after a scan_extents() pass) and a request
        reads ceil(its size / 4096) of them. "stride": no first pass (a pipe):
        object r owns pages [r * max_pages, (r + 1) * max_pages)."""
        cdef int64_t n = records.shape[0] // REC
        cdef int64_t i, k, total, rank, np_, first
        cdef uint64_t oid, nxt
        cdef uint32_t size
        cdef const uint8_t* b = &records[0] if n else NULL
        cdef int m = 0 if mode == "one" else 1 if mode == "laid_out" else 2
        if m == 1 and self.base == NULL:
            raise RuntimeError("decode('laid_out') before finish_layout()")
        if m == 2 and mode != "stride":
            raise ValueError(f"unknown mode {mode!r}")
        # how many pages this chunk expands to
        total = n
        if m != 0:
            total = 0
            with nogil:
                for i in range(n):
                    memcpy(&size, b + i * REC + 12, 4)
                    total += req_pages(size, max_pages)
        out = _output(total, spare)
        if total == 0:
            return out
        cdef access_rec* a = <access_rec*><size_t>out.ctypes.data
        k = 0
        with nogil:
            for i in range(n):
                if i + PF_AHEAD < n:
                    memcpy(&nxt, b + (i + PF_AHEAD) * REC + 4, 8)
                    self.prefetch_key(nxt)
                memcpy(&oid, b + i * REC + 4, 8)
                rank = self.rank_of(oid)
                if m == 0:
                    np_ = 1
                    first = rank
                else:
                    memcpy(&size, b + i * REC + 12, 4)
                    np_ = req_pages(size, max_pages)
                    if m == 1:
                        if rank >= self.laid_out:
                            with gil:
                                raise RuntimeError("an object not seen by the first pass")
                        first = self.base[rank]
                    else:
                        first = rank * max_pages
                k = put_reads(a, k, first, np_)
        return out


def _output(int64_t total, spare):
    """`total` accesses: the front of `spare` when it has room, else new."""
    if spare is not None and spare.dtype == ACCESS_DTYPE and spare.ndim == 1 \
            and spare.flags.c_contiguous and spare.flags.writeable and len(spare) >= total:
        return spare[:total]
    out = np.empty(total, dtype=ACCESS_DTYPE)
    if total:
        populate_write(<void*><size_t>out.ctypes.data, total * sizeof(access_rec))
    return out


def max_obj_size(const uint8_t[::1] records):
    """The largest obj_size in a chunk of oracleGeneral records (the cheap
    check that lets obj_pages="size" skip its first pass)."""
    cdef int64_t n = records.shape[0] // REC
    cdef int64_t i
    cdef uint32_t size, best = 0
    cdef const uint8_t* b = &records[0] if n else NULL
    with nogil:
        for i in range(n):
            memcpy(&size, b + i * REC + 12, 4)
            if size > best:
                best = size
    return best


def parse_blocks(const uint8_t[::1] buf, uint64_t max_page):
    """One block number per line -> ACCESS_DTYPE reads of file 0.

    Returns (accesses, number of lines, index of the first bad line or -1).
    A line holds one decimal number, optionally surrounded by spaces, tabs,
    commas and a CR, optionally followed by a '#' comment; blank lines are
    skipped. The caller re-reads a bad line to word the error. `buf` must end
    with a newline."""
    cdef int64_t n = buf.shape[0]
    cdef int64_t i = 0, line = 0, k = 0, bad = -1
    cdef uint64_t v
    cdef int ndig, state
    cdef uint8_t c
    cdef int64_t cap = 0
    # count lines first: the output has at most one access per line
    with nogil:
        for i in range(n):
            if buf[i] == 10:
                cap += 1
    out = np.empty(cap, dtype=ACCESS_DTYPE)
    cdef access_rec* a = <access_rec*><size_t>out.ctypes.data if cap else NULL
    i = 0
    with nogil:
        while i < n:
            # state: 0 before the number, 1 in it, 2 after it, 3 in a comment
            state = 0
            v = 0
            ndig = 0
            while True:
                c = buf[i]
                i += 1
                if c == 10:
                    break
                if state == 3:
                    continue
                if c == 35:                                    # '#': a comment to the end
                    state = 3
                    continue
                if c == 32 or c == 9 or c == 13 or c == 44:    # space, tab, CR, comma
                    if state == 1:
                        state = 2
                    continue
                if 48 <= c <= 57 and state <= 1:
                    state = 1
                    ndig += 1
                    if ndig <= 19:
                        v = v * 10 + (c - 48)
                    continue
                ndig = 99                                      # anything else: bad
                state = 2 if state != 3 else 3
            if ndig == 0:
                pass                                           # blank or comment-only
            elif ndig > 19 or v > max_page or ndig == 99:
                if bad < 0:
                    bad = line
            elif bad < 0:
                a[k].op = OP_READ
                a[k].write = 0
                a[k]._pad = 0
                a[k].owner = 0
                a[k].page = v
                k += 1
            line += 1
    return out[:k], line, bad
