# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# The machine's plumbing: vmstat, the event ring, page tables, the page cache,
# swap slots, free frames and the writeback FIFOs. Nothing here makes a reclaim
# decision; see policy.pyx for the shared reclaim code and simulator.pyx for
# the loop. Every function is nogil and touches only the C structs of core.pxd.

from libc.stdlib cimport malloc, realloc, free, calloc
from libc.string cimport memset

cdef extern from "sys/mman.h" nogil:
    int madvise(void* addr, size_t length, int advice)
    int MADV_HUGEPAGE
cdef extern from *:
    """
    #include <sys/mman.h>
    #ifndef MADV_POPULATE_WRITE
    #define MADV_POPULATE_WRITE 23   /* Linux 5.14; older kernels answer EINVAL */
    #endif
    """
    int MADV_POPULATE_WRITE
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from engine._types cimport *
from engine.core cimport *

cdef extern from *:
    """
    #define RL_PREFETCH_C(p) __builtin_prefetch((const void*)(p), 0, 1)
    """
    void prefetch "RL_PREFETCH_C"(const void* p) noexcept nogil


cdef void prefetch_rmap(mem* m, folio_idx_t pfn, int stage) noexcept nogil:
    # A reclaim batch touches each folio's PTE (rmap) and page-cache slot
    # (__remove_mapping): issue those misses for the whole batch up front.
    cdef folio* f = &m.folios[pfn]
    cdef uint64_t key
    cdef uint32_t* pte
    if f.flags & PG_anon:
        if stage == 0:
            key = ((<uint64_t>f.mapping << 44) | (f.index >> 9)) + 1
            prefetch(&m.pt_hash_keys[hash64(key) & <uint64_t>m.pt_hash_mask])
        elif f.mapcount:
            pte = pte_lookup(m, f.mapping, f.index)
            if pte != NULL:
                prefetch(pte)
    elif stage == 0:
        key = (((<uint64_t>f.mapping) << 40) | (f.index & ((1ULL << 40) - 1))) + 1
        prefetch(&m.pc_keys[2 * (hash64(key) & <uint64_t>m.pc_mask)])


cdef folio_idx_t folio_page(mem* m, folio_idx_t head, int64_t i) noexcept nogil:
    # include/linux/page-flags.h:folio_page(): the folio's pages are not adjacent
    # frames here (no buddy allocator), but each index of a large folio's range
    # names its own page in the page cache (filemap_add_large_folio())
    if i == 0:
        return head
    return <folio_idx_t>(pc_lookup(m, m.folios[head].mapping, m.folios[head].index + <uint64_t>i) & ENTRY_MASK)


cdef void advise_huge(void* p, size_t size) noexcept nogil:
    # Transparent huge pages for a big, randomly indexed buffer
    # (folios, PTEs, swap map): at 1 Mi frames each is tens of MiB, and with 4 KiB
    # pages nearly every access (and every software prefetch) pays a TLB miss.
    # Not the page-cache hash (pc_grow()). Only the 2 MiB-aligned interior is
    # advised; a hint, so a failure changes nothing.
    cdef size_t huge = 2 * 1024 * 1024
    cdef size_t start = (<size_t>p + huge - 1) & ~(huge - 1)
    cdef size_t end = (<size_t>p + size) & ~(huge - 1)
    if p != NULL and end > start:
        madvise(<void*>start, end - start, MADV_HUGEPAGE)


cdef void populate_write(void* p, size_t size) noexcept nogil:
    # Map a fresh block's pages writable in one call, for a block that is about
    # to be written all over (a rehashed table). Each page otherwise costs a
    # fault on first touch -- two when it is read first (a probe maps the
    # shared zero page, the store then copies it), as a rehash's probes do.
    # Only the page-aligned interior; a hint, so a failure (a kernel before
    # 5.14) changes nothing.
    cdef size_t pg = 4096
    cdef size_t start = (<size_t>p + pg - 1) & ~(pg - 1)
    cdef size_t end = (<size_t>p + size) & ~(pg - 1)
    if p != NULL and end > start:
        madvise(<void*>start, end - start, MADV_POPULATE_WRITE)


# --- events -------------------------------------------------------------------

cdef inline void _emit_rec(mem* m, int kind, int reason, int fn, folio_idx_t pfn, uint32_t mapping,
                           uint64_t index, int src, int dst, int64_t src_seq, int64_t dst_seq) noexcept nogil:
    # one record at the ring's head, stamped with the running actor's clock
    cdef vm_event_rec* e = &m.events[m.events_seq & <uint64_t>(m.events_cap - 1)]
    e.seq = m.events_seq
    m.events_seq += 1
    e.time_ns = actor_now(m)
    e.nr_access = m.nr_access
    e.batch = m.nr_batches
    e.index = index
    e.mapping = mapping
    e.pfn = pfn
    e.kind = <uint16_t>kind
    e.reason = <uint16_t>reason
    e.fn = <uint16_t>fn
    e.src = <int8_t>src
    e.dst = <int8_t>dst
    e.src_seq = <int32_t>src_seq
    e.dst_seq = <int32_t>dst_seq
    # no decision inputs unless the decider adds them (last_event())
    e.why_a = -1
    e.why_b = -1
    e.why_c = 0
    e.why_d = 0
    e.refs = -1
    e.tier = -1
    e.tier_idx = -1
    e.why = 0


cdef void emit(mem* m, int kind, int reason, int fn, folio_idx_t pfn, int src, int dst,
               int64_t src_seq, int64_t dst_seq) noexcept nogil:
    if not m.events_on:
        return
    if pfn >= 0 and pfn < m.nr_frames:
        _emit_rec(m, kind, reason, fn, pfn, m.folios[pfn].mapping, m.folios[pfn].index,
                  src, dst, src_seq, dst_seq)
    else:
        _emit_rec(m, kind, reason, fn, pfn, 0, 0, src, dst, src_seq, dst_seq)


cdef void emit_arg(mem* m, int kind, int reason, int fn, uint32_t mapping, uint64_t arg) noexcept nogil:
    # non-folio events (summaries, kswapd, OOM): pfn -1, the argument in index
    if not m.events_on:
        return
    _emit_rec(m, kind, reason, fn, -1, mapping, arg, LOC_NONE, LOC_NONE, -1, -1)


cdef int64_t actor_now(mem* m) noexcept nogil:
    if m.cur_actor == RECLAIMER_KSWAPD:
        return m.kswapd_ns
    return m.now_ns


cdef void charge(mem* m, int64_t ns) noexcept nogil:
    if m.cur_actor == RECLAIMER_KSWAPD:
        m.kswapd_ns += ns
    else:
        m.now_ns += ns


cdef uint64_t int_sqrt(uint64_t x) noexcept nogil:
    # lib/math/int_sqrt.c: bit-by-bit, exact floor
    cdef uint64_t b, y = 0, mbit
    if x <= 1:
        return x
    mbit = (<uint64_t>1) << 62
    while mbit > x:
        mbit >>= 2
    while mbit != 0:
        b = y + mbit
        y >>= 1
        if x >= b:
            x -= b
            y += mbit
        mbit >>= 2
    return y


cdef uint32_t mm_of_owner(uint32_t owner) noexcept nogil:
    return owner + NR_INTERNAL_MMS


# --- page tables --------------------------------------------------------------
# One page-table page (ptp) = 512 PTEs under one PMD entry, keyed by
# (mm << 44) | (vpn >> 9). An open-addressing hash maps the key to the ptp.

cdef inline uint64_t ptp_key_of(uint32_t mm, uint64_t vpn) noexcept nogil:
    return ((<uint64_t>mm) << 44) | (vpn >> 9)


cdef uint32_t* pte_lookup(mem* m, uint32_t mm, uint64_t vpn) noexcept nogil:
    cdef uint64_t key = ptp_key_of(mm, vpn) + 1
    cdef uint64_t i = hash64(key) & <uint64_t>m.pt_hash_mask
    cdef uint64_t k
    while True:
        k = m.pt_hash_keys[i]
        if k == key:
            return &m.ptes[<int64_t>m.pt_hash_vals[i] * PTRS_PER_PTE + <int64_t>(vpn & (PTRS_PER_PTE - 1))]
        if k == 0:
            return NULL
        i = (i + 1) & <uint64_t>m.pt_hash_mask


cdef inline void hash_insert_i32(uint64_t* keys, int32_t* vals, int64_t mask, uint64_t key, int32_t val) noexcept nogil:
    # open addressing, linear probing; `key` (non-zero) is known absent
    cdef uint64_t i = hash64(key) & <uint64_t>mask
    while keys[i] != 0:
        i = (i + 1) & <uint64_t>mask
    keys[i] = key
    vals[i] = val


cdef int pt_hash_insert(mem* m, uint64_t key1, int32_t val) noexcept nogil:
    hash_insert_i32(m.pt_hash_keys, m.pt_hash_vals, m.pt_hash_mask, key1, val)
    return 0


cdef int pt_hash_grow(mem* m) noexcept nogil:
    cdef int64_t newcap = (m.pt_hash_mask + 1) * 2
    cdef uint64_t* keys = <uint64_t*>calloc(newcap, sizeof(uint64_t))
    cdef int32_t* vals = <int32_t*>malloc(newcap * sizeof(int32_t))
    cdef int32_t i
    if keys == NULL or vals == NULL:
        free(keys)
        free(vals)
        return -1
    free(m.pt_hash_keys)
    free(m.pt_hash_vals)
    m.pt_hash_keys = keys
    m.pt_hash_vals = vals
    m.pt_hash_mask = newcap - 1
    for i in range(m.nr_ptps):
        pt_hash_insert(m, m.ptp_key[i] + 1, i)
    return 0


cdef int mm_ensure(mem* m, uint32_t mm) noexcept nogil:
    cdef int32_t newcap, i
    cdef mm_struct* p
    if <int32_t>mm < m.cap_mms:
        if <int32_t>mm >= m.nr_mms:
            m.nr_mms = mm + 1
        return 0
    newcap = m.cap_mms * 2 if m.cap_mms > 0 else 16
    while newcap <= <int32_t>mm:
        newcap *= 2
    p = <mm_struct*>realloc(m.mms, newcap * sizeof(mm_struct))
    if p == NULL:
        return -1
    m.mms = p
    for i in range(m.cap_mms, newcap):
        m.mms[i].first_ptp = -1
        m.mms[i].alive = 0
        m.mms[i].ran = 0
        m.mms[i]._pad = 0
        m.mms[i].nr_ptes_present = 0
    m.cap_mms = newcap
    m.nr_mms = mm + 1
    return 0


cdef int ptp_grow(mem* m) noexcept nogil:
    cdef int32_t newcap = m.cap_ptps * 2 if m.cap_ptps > 0 else 64
    cdef uint32_t* ptes = <uint32_t*>realloc(m.ptes, <size_t>newcap * PTRS_PER_PTE * sizeof(uint32_t))
    if ptes == NULL:
        return -1
    advise_huge(ptes, <size_t>newcap * PTRS_PER_PTE * sizeof(uint32_t))
    m.ptes = ptes
    cdef uint64_t* keys = <uint64_t*>realloc(m.ptp_key, newcap * sizeof(uint64_t))
    if keys == NULL:
        return -1
    m.ptp_key = keys
    cdef int32_t* nxt = <int32_t*>realloc(m.ptp_next, newcap * sizeof(int32_t))
    if nxt == NULL:
        return -1
    m.ptp_next = nxt
    cdef uint8_t* young = <uint8_t*>realloc(m.ptp_young, newcap * sizeof(uint8_t))
    if young == NULL:
        return -1
    m.ptp_young = young
    cdef uint16_t* nrp = <uint16_t*>realloc(m.ptp_nr_present, newcap * sizeof(uint16_t))
    if nrp == NULL:
        return -1
    m.ptp_nr_present = nrp
    m.cap_ptps = newcap
    return 0


cdef uint32_t* pte_alloc(mem* m, uint32_t mm, uint64_t vpn) except NULL nogil:
    cdef uint32_t* pte = pte_lookup(m, mm, vpn)
    cdef int32_t idx
    if pte != NULL:
        return pte
    if mm_ensure(m, mm) < 0:
        with gil:
            raise MemoryError("mms")
    if m.nr_ptps == m.cap_ptps and ptp_grow(m) < 0:
        with gil:
            raise MemoryError("page tables")
    if (m.nr_ptps + 1) * 2 > m.pt_hash_mask + 1 and pt_hash_grow(m) < 0:
        with gil:
            raise MemoryError("page-table hash")
    idx = m.nr_ptps
    m.nr_ptps += 1
    memset(&m.ptes[<int64_t>idx * PTRS_PER_PTE], 0, PTRS_PER_PTE * sizeof(uint32_t))
    m.ptp_key[idx] = ptp_key_of(mm, vpn)
    m.ptp_young[idx] = 0
    m.ptp_nr_present[idx] = 0
    m.ptp_next[idx] = m.mms[mm].first_ptp
    m.mms[mm].first_ptp = idx
    pt_hash_insert(m, m.ptp_key[idx] + 1, idx)
    return &m.ptes[<int64_t>idx * PTRS_PER_PTE + <int64_t>(vpn & (PTRS_PER_PTE - 1))]


cdef uint64_t file_vma_vpn(uint32_t file, uint64_t pgoff) noexcept nogil:
    # every file mapping starts at its own 16 TiB-aligned slot, the same in both internal mms
    return ((<uint64_t>file + 1) << 32) | (pgoff & 0xFFFFFFFFULL)


# --- page cache: (file, pgoff) -> ENTRY_FOLIO | pfn, or ENTRY_SHADOW | shadow --------

cdef uint64_t pc_lookup(mem* m, uint32_t file, uint64_t pgoff) noexcept nogil:
    cdef uint64_t key = pc_key(file, pgoff)
    cdef uint64_t i = hash64(key) & <uint64_t>m.pc_mask
    cdef uint64_t k
    while True:
        k = m.pc_keys[2 * i]
        if k == key:
            return m.pc_vals[2 * i]
        if k == 0:
            return 0
        i = (i + 1) & <uint64_t>m.pc_mask


cdef int pc_grow(mem* m) noexcept nogil:
    # one interleaved block (key, value) per slot: a probe touches one cache line
    cdef int64_t oldcap = m.pc_mask + 1
    cdef int64_t newcap = oldcap * 2
    cdef uint64_t* block = <uint64_t*>calloc(2 * newcap, sizeof(uint64_t))
    cdef uint64_t* okeys = m.pc_keys
    cdef uint64_t* ovals = m.pc_vals
    cdef int64_t j
    cdef uint64_t i
    if block == NULL:
        return -1
    # a quarter of it is filled right away, and the slots are spread over it
    populate_write(block, 2 * newcap * sizeof(uint64_t))
    # 4 KiB pages, not huge ones (advise_huge()): the table is replaced at each
    # doubling, and on this machine (a VM) a fresh 2 MiB page costs far more
    # to zero than the TLB misses it saves: a 1 Mi-frame trace spent 0.7-1.2 s
    # of system time on it against 0.4 s, for 0.1 s of user time
    # (BENCHMARKS.md "Whole process"); the run-ahead prefetch hides the misses.
    m.pc_keys = block
    m.pc_vals = block + 1
    m.pc_mask = newcap - 1
    for j in range(oldcap):
        if okeys[2 * j] != 0:
            i = hash64(okeys[2 * j]) & <uint64_t>m.pc_mask
            while block[2 * i] != 0:
                i = (i + 1) & <uint64_t>m.pc_mask
            block[2 * i] = okeys[2 * j]
            block[2 * i + 1] = ovals[2 * j]
    free(okeys)
    return 0


cdef int pc_store(mem* m, uint32_t file, uint64_t pgoff, uint64_t entry) except -1 nogil:
    cdef uint64_t key = pc_key(file, pgoff)
    cdef uint64_t i
    cdef uint64_t k
    if (m.pc_used + 1) * 2 > m.pc_mask + 1:
        if pc_grow(m) < 0:
            with gil:
                raise MemoryError("page cache")
    cdef uint64_t old = 0
    cdef int dcount = 0, dvalues
    i = hash64(key) & <uint64_t>m.pc_mask
    while True:
        k = m.pc_keys[2 * i]
        if k == key:
            old = m.pc_vals[2 * i]
            break
        if k == 0:
            m.pc_keys[2 * i] = key
            m.pc_used += 1
            dcount = 1
            break
        i = (i + 1) & <uint64_t>m.pc_mask
    m.pc_vals[2 * i] = entry
    dvalues = is_shadow(entry) - is_shadow(old)
    m.nr_shadows += dvalues
    if (dcount or dvalues) and xa_account(m, file, pgoff, dcount, dvalues) < 0:
        with gil:
            raise MemoryError("page cache nodes")
    return 0


cdef uint64_t pc_replace(mem* m, uint32_t file, uint64_t pgoff, uint64_t entry) noexcept nogil:
    # one probe for an index the page cache holds (a large folio's tail page being
    # evicted): the entry becomes `entry`, the old one is returned
    cdef uint64_t key = pc_key(file, pgoff)
    cdef uint64_t i = hash64(key) & <uint64_t>m.pc_mask
    cdef uint64_t old
    while m.pc_keys[2 * i] != key:
        if m.pc_keys[2 * i] == 0:
            return 0
        i = (i + 1) & <uint64_t>m.pc_mask
    old = m.pc_vals[2 * i]
    if is_shadow(old):
        m.nr_shadows -= 1
    if is_shadow(entry):
        m.nr_shadows += 1
    m.pc_vals[2 * i] = entry
    if is_shadow(entry) != is_shadow(old):
        xa_account(m, file, pgoff, 0, is_shadow(entry) - is_shadow(old))    # the node exists: no allocation
    return old


cdef void pc_erase(mem* m, uint32_t file, uint64_t pgoff) noexcept nogil:
    cdef uint64_t old = pc_erase_entry(m, file, pgoff)
    if old:
        xa_account(m, file, pgoff, -1, -is_shadow(old))


cdef uint64_t pc_erase_entry(mem* m, uint32_t file, uint64_t pgoff) noexcept nogil:
    # the entry gone, its node left as it was; returns it (0 = there was none).
    # Linear probing with backward-shift deletion (no tombstones)
    cdef uint64_t key = pc_key(file, pgoff)
    cdef uint64_t mask = <uint64_t>m.pc_mask
    cdef uint64_t i = hash64(key) & mask
    cdef uint64_t j, home
    cdef uint64_t old
    while True:
        if m.pc_keys[2 * i] == 0:
            return 0
        if m.pc_keys[2 * i] == key:
            break
        i = (i + 1) & mask
    old = m.pc_vals[2 * i]
    if is_shadow(old):
        m.nr_shadows -= 1
    m.pc_used -= 1
    j = i
    while True:
        j = (j + 1) & mask
        if m.pc_keys[2 * j] == 0:
            break
        home = hash64(m.pc_keys[2 * j]) & mask
        # move j back to the hole at i unless home lies cyclically in (i, j]
        if (j > i and (home <= i or home > j)) or (j < i and (home <= i and home > j)):
            m.pc_keys[2 * i] = m.pc_keys[2 * j]
            m.pc_vals[2 * i] = m.pc_vals[2 * j]
            i = j
    m.pc_keys[2 * i] = 0
    m.pc_vals[2 * i] = 0
    return old


# --- the page cache's xarray leaf nodes and the shadow shrinker (mm/workingset.c) ---

cdef inline uint64_t xa_node_key(uint32_t file, uint64_t pgoff) noexcept nogil:
    return pc_key(file, pgoff & ~(<uint64_t>(XA_CHUNK_SIZE - 1)))


cdef int xa_init(mem* m, int32_t cap, int64_t hcap) noexcept nogil:
    """Empty node tables: a pool of `cap` slots, a hash of `hcap` (a power of two)."""
    cdef int32_t i
    m.xa_nodes = <xa_node*>calloc(cap, sizeof(xa_node))
    m.xa_hkeys = <uint64_t*>calloc(hcap, sizeof(uint64_t))
    m.xa_hvals = <int32_t*>calloc(hcap, sizeof(int32_t))
    if m.xa_nodes == NULL or m.xa_hkeys == NULL or m.xa_hvals == NULL:
        return -1
    m.xa_cap = cap
    m.xa_hmask = hcap - 1
    m.xa_used = 0
    m.xa_last_key = 0
    m.xa_head = -1
    m.xa_tail = -1
    for i in range(cap):
        m.xa_nodes[i].next = i + 1 if i + 1 < cap else -1
    m.xa_free = 0
    return 0


cdef int32_t xa_find(mem* m, uint64_t key) noexcept nogil:
    cdef uint64_t i
    if key == m.xa_last_key:
        return m.xa_last_idx
    i = hash64(key) & <uint64_t>m.xa_hmask
    while m.xa_hkeys[i] != 0:
        if m.xa_hkeys[i] == key:
            m.xa_last_key = key
            m.xa_last_idx = m.xa_hvals[i]
            return m.xa_hvals[i]
        i = (i + 1) & <uint64_t>m.xa_hmask
    return -1


cdef void xa_hash_insert(mem* m, uint64_t key, int32_t idx) noexcept nogil:
    hash_insert_i32(m.xa_hkeys, m.xa_hvals, m.xa_hmask, key, idx)


cdef int xa_grow(mem* m) noexcept nogil:
    # the pool and the hash double together; pool slots keep their index
    cdef int32_t oldcap = m.xa_cap, i
    cdef int64_t hcap = 2 * (m.xa_hmask + 1), j
    cdef uint64_t* okeys = m.xa_hkeys
    cdef int32_t* ovals = m.xa_hvals
    cdef int64_t ohcap = m.xa_hmask + 1
    cdef xa_node* nodes = <xa_node*>realloc(m.xa_nodes, 2 * oldcap * sizeof(xa_node))
    if nodes == NULL:
        return -1
    m.xa_nodes = nodes
    memset(&nodes[oldcap], 0, oldcap * sizeof(xa_node))
    for i in range(oldcap, 2 * oldcap):
        nodes[i].next = i + 1 if i + 1 < 2 * oldcap else m.xa_free
    m.xa_free = oldcap
    m.xa_cap = 2 * oldcap
    m.xa_hkeys = <uint64_t*>calloc(hcap, sizeof(uint64_t))
    m.xa_hvals = <int32_t*>calloc(hcap, sizeof(int32_t))
    if m.xa_hkeys == NULL or m.xa_hvals == NULL:
        return -1
    m.xa_hmask = hcap - 1
    for j in range(ohcap):
        if okeys[j] != 0:
            xa_hash_insert(m, okeys[j], ovals[j])
    free(okeys)
    free(ovals)
    return 0


cdef void xa_hash_erase(mem* m, uint64_t key) noexcept nogil:
    # backward-shift deletion, as pc_erase_entry()
    cdef uint64_t mask = <uint64_t>m.xa_hmask
    cdef uint64_t i = hash64(key) & mask
    cdef uint64_t j, home
    while m.xa_hkeys[i] != key:
        if m.xa_hkeys[i] == 0:
            return
        i = (i + 1) & mask
    j = i
    while True:
        j = (j + 1) & mask
        if m.xa_hkeys[j] == 0:
            break
        home = hash64(m.xa_hkeys[j]) & mask
        if (j > i and (home <= i or home > j)) or (j < i and (home <= i and home > j)):
            m.xa_hkeys[i] = m.xa_hkeys[j]
            m.xa_hvals[i] = m.xa_hvals[j]
            i = j
    m.xa_hkeys[i] = 0
    m.xa_hvals[i] = 0


cdef void xa_list_del(mem* m, int32_t idx) noexcept nogil:
    # list_lru_del_obj() / list_lru_isolate(): off the shadow-only list
    cdef xa_node* node = &m.xa_nodes[idx]
    if node.prev >= 0:
        m.xa_nodes[node.prev].next = node.next
    else:
        m.xa_head = node.next
    if node.next >= 0:
        m.xa_nodes[node.next].prev = node.prev
    else:
        m.xa_tail = node.prev
    node.prev = -1
    node.next = -1
    node.on_list = 0
    m.vmstat[<int>WORKINGSET_NODES] -= 1


cdef void xa_list_add_tail(mem* m, int32_t idx) noexcept nogil:
    # list_lru_add_obj(): the newest end
    cdef xa_node* node = &m.xa_nodes[idx]
    node.prev = m.xa_tail
    node.next = -1
    if m.xa_tail >= 0:
        m.xa_nodes[m.xa_tail].next = idx
    else:
        m.xa_head = idx
    m.xa_tail = idx
    node.on_list = 1
    m.vmstat[<int>WORKINGSET_NODES] += 1


cdef void workingset_update_node(mem* m, int32_t idx) noexcept nogil:
    """Mirrors mm/workingset.c:workingset_update_node(): a node whose entries are
    all shadows joins the list count_shadow_nodes() counts, one holding a folio
    leaves it (6.1 workingset.c:541, 6.12 :626, 7.3 :624)."""
    cdef xa_node* node = &m.xa_nodes[idx]
    if node.count and node.count == node.nr_values:
        if not node.on_list:
            xa_list_add_tail(m, idx)
    elif node.on_list:
        xa_list_del(m, idx)


cdef void xa_node_free(mem* m, int32_t idx) noexcept nogil:
    if m.xa_last_key == m.xa_nodes[idx].key:
        m.xa_last_key = 0
    if m.xa_nodes[idx].on_list:
        xa_list_del(m, idx)
    xa_hash_erase(m, m.xa_nodes[idx].key)
    m.xa_nodes[idx].key = 0
    m.xa_nodes[idx].count = 0
    m.xa_nodes[idx].nr_values = 0
    m.xa_nodes[idx].next = m.xa_free
    m.xa_free = idx
    m.xa_used -= 1


cdef int32_t xa_node_of(mem* m, uint64_t key) noexcept nogil:
    """The pool slot of node `key`, created empty if it has none; -1: out of memory."""
    cdef int32_t idx = xa_find(m, key)
    if idx >= 0:
        return idx
    if (m.xa_used + 1) * 2 > m.xa_hmask + 1 or m.xa_free < 0:
        if xa_grow(m) < 0:
            return -1
    idx = m.xa_free
    m.xa_free = m.xa_nodes[idx].next
    m.xa_nodes[idx].key = key
    m.xa_nodes[idx].prev = -1
    m.xa_nodes[idx].next = -1
    m.xa_nodes[idx].on_list = 0
    m.xa_nodes[idx].count = 0
    m.xa_nodes[idx].nr_values = 0
    xa_hash_insert(m, key, idx)
    m.xa_used += 1
    m.xa_last_key = key
    m.xa_last_idx = idx
    return idx


cdef int xa_count_entry(mem* m, uint32_t file, uint64_t pgoff, int dcount, int dvalues) noexcept nogil:
    # the node of (file, pgoff) gains dcount entries of which dvalues shadows, the
    # list left as it is (load_state() relinks it); -1: out of memory
    cdef int32_t idx = xa_node_of(m, xa_node_key(file, pgoff))
    if idx < 0:
        return -1
    m.xa_nodes[idx].count = <uint8_t>(m.xa_nodes[idx].count + dcount)
    m.xa_nodes[idx].nr_values = <uint8_t>(m.xa_nodes[idx].nr_values + dvalues)
    return 0


cdef int xa_account(mem* m, uint32_t file, uint64_t pgoff, int dcount, int dvalues) noexcept nogil:
    """An entry of the page cache changed (xas_store()'s update_node()): the
    node's counts, created by its first entry and freed with its last, then
    workingset_update_node(). -1: out of memory."""
    cdef uint64_t key = xa_node_key(file, pgoff)
    cdef int32_t idx = xa_node_of(m, key)       # xa_find() answers a repeat from its cache
    cdef xa_node* node
    if idx < 0:
        return -1
    node = &m.xa_nodes[idx]
    node.count = <uint8_t>(node.count + dcount)
    node.nr_values = <uint8_t>(node.nr_values + dvalues)
    if node.count == 0:
        xa_node_free(m, idx)
    elif (node.count == node.nr_values) != node.on_list:
        workingset_update_node(m, idx)
    return 0


cdef void shadow_lru_isolate(mem* m, int32_t idx, int64_t nodes, int64_t max_nodes) noexcept nogil:
    """Mirrors mm/workingset.c:shadow_lru_isolate() (6.1 :626, 6.12 :713, 7.3
    :709): the oldest shadow-only node off the list and out of its file's tree
    with every shadow in it (xa_delete_node()), counted in
    workingset_nodereclaim. A folio that comes back to one of its indices is
    read as a first fault."""
    cdef uint64_t key = m.xa_nodes[idx].key - 1
    cdef uint32_t file = <uint32_t>(key >> 40)
    cdef uint64_t base = key & ((1ULL << 40) - 1)
    cdef uint64_t k
    cdef vm_event_rec* e
    xa_list_del(m, idx)
    for k in range(XA_CHUNK_SIZE):
        pc_erase_entry(m, file, base + k)
    xa_node_free(m, idx)
    m.vmstat[<int>WORKINGSET_NODERECLAIM] += 1
    if m.events_on:
        # the node's file and first index; why_a the shadow-only nodes and why_b
        # the limit count_shadow_nodes() compared when the shrinker was called
        _emit_rec(m, EV_NODERECLAIM, R_SHADOW_NODES_OVER, FN_SHADOW_LRU_ISOLATE, -1, file, base,
                  LOC_PAGECACHE_SHADOW, LOC_NONE, -1, -1)
        e = last_event(m)
        e.why_a = <int32_t>min(nodes, 0x7FFFFFFF)
        e.why_b = <int32_t>min(max_nodes, 0x7FFFFFFF)


cdef void shrink_shadow_nodes(mem* m, int priority) noexcept nogil:
    """shrink_slab()'s call of the shadow shrinker, once per shrink_node() pass
    (shrink_node_memcgs(): 6.1 vmscan.c:6146, 6.12 :5951, 7.3 :6227; MGLRU's
    shrink_one(): 6.12 :4856, 7.3 :5124): do_shrink_slab() (6.1 vmscan.c:787,
    6.12 shrinker.c:380, 7.3 :378; seeks = 0: half of what count_shadow_nodes()
    reports at once, in SHRINK_BATCH walks, the rest deferred) over
    mm/workingset.c:count_shadow_nodes() (6.1 :569, 6.12 :655, 7.3 :651): the nodes
    beyond one per 8 pages of the memcg's LRU lists (its slab, which the engine
    has none of, left out), as the memcg's copy has them: 6.12 and 7.3 read them
    as the periodic flush left them (mem_cgroup_flush_stats_ratelimited() flushes
    only when it is a cycle late), up to 2 s old (lruvec_page_state()), so a
    stream's shadows piling up before the flush that shows the page cache grown
    are trimmed against the boot's lists."""
    cdef int64_t nodes = m.vmstat[<int>WORKINGSET_NODES]
    cdef int64_t pages, max_nodes, freeable, nr, delta, total_scan, scanned = 0, nr_to_scan, k
    cdef int i
    if nodes == 0:
        return
    pages = m.vmstat[<int>NR_UNEVICTABLE]
    for i in range(4):
        pages += lruvec_page_state(m, MS_LRU + i)
    max_nodes = pages >> (XA_CHUNK_SHIFT - 3)
    if nodes <= max_nodes:
        return
    freeable = nodes - max_nodes
    nr = m.shadow_nr_deferred
    m.shadow_nr_deferred = 0
    delta = freeable // 2
    total_scan = (nr >> priority) + delta
    if total_scan > 2 * freeable:
        total_scan = 2 * freeable
    while total_scan >= SHRINK_BATCH or total_scan >= freeable:
        nr_to_scan = total_scan if total_scan < SHRINK_BATCH else SHRINK_BATCH
        # list_lru_shrink_walk(): nr_to_scan of the oldest
        k = 0
        while k < nr_to_scan and m.xa_head >= 0:
            shadow_lru_isolate(m, m.xa_head, nodes, max_nodes)
            k += 1
        total_scan -= nr_to_scan
        scanned += nr_to_scan
    nr = nr + delta - scanned
    if nr < 0:
        nr = 0
    if nr > 2 * freeable:
        nr = 2 * freeable
    m.shadow_nr_deferred = nr


# --- swap slots ---------------------------------------------------------------

cdef int32_t swap_alloc(mem* m) noexcept nogil:
    # next-fit from the cursor, as scan_swap_map_slots walks a cluster
    cdef int32_t n = m.nr_swap_slots
    cdef int32_t i, slot
    if m.nr_swap_free <= 0 or n == 0:
        return -1
    slot = m.swap_cursor
    for i in range(n):
        if slot >= n:
            slot = 0
        if m.swap_map[slot] == 0:
            m.swap_map[slot] = ENTRY_FOLIO   # reserved; caller stores the real entry
            m.nr_swap_free -= 1
            m.swap_cursor = slot + 1
            return slot
        slot += 1
    return -1


cdef void swap_free(mem* m, int32_t slot) noexcept nogil:
    if slot < 0 or slot >= m.nr_swap_slots or m.swap_map[slot] == 0:
        return
    if (m.swap_map[slot] & ~ENTRY_MASK) == ENTRY_SHADOW:
        m.nr_swap_shadows -= 1
    m.swap_map[slot] = 0
    m.nr_swap_free += 1


# --- frames ---------------------------------------------------------------------

cdef folio_idx_t alloc_frame(mem* m) noexcept nogil:
    """get_page_from_freelist() for an order-0 movable folio: the zonelist is
    ZONE_NORMAL then ZONE_DMA; a zone is taken while it is above its low mark
    (ZONE_DMA's plus its lowmem_reserve). Below both, the callers have already
    applied the node's min mark and woken kswapd, so ZONE_NORMAL goes first
    while it has a free page. Simplified: no per-CPU lists, no fragmentation."""
    cdef int32_t nr_free_normal = m.nr_free - m.nr_free_dma
    if m.nr_free <= 0:
        return -1
    if m.nr_free_dma > 0 and (nr_free_normal == 0 or (
            nr_free_normal <= normal_wmark(m, WMARK_LOW)
            and m.nr_free_dma > dma_wmark(m, WMARK_LOW) + m.lowmem_reserve_dma)):
        return alloc_frame_zone(m, ZONE_DMA)
    return alloc_frame_zone(m, ZONE_NORMAL)


cdef int folio_alloc_zone(mem* m, int32_t nr) noexcept nogil:
    """get_page_from_freelist() for a folio of nr pages, which one zone holds
    whole, each zone's free pages less the nr - 1 more the folio takes
    (__zone_watermark_ok()): the zonelist (ZONE_NORMAL, then ZONE_DMA with its
    lowmem_reserve) at the low mark, then, kswapd woken, at the min mark. The
    caller checked that some zone passes the min mark (ra_alloc_ok())."""
    cdef int64_t nr_free_normal = m.nr_free - m.nr_free_dma
    if nr_free_normal - (nr - 1) > normal_wmark(m, WMARK_LOW):
        return ZONE_NORMAL
    if m.nr_dma > 0 and m.nr_free_dma - (nr - 1) > dma_wmark(m, WMARK_LOW) + m.lowmem_reserve_dma:
        return ZONE_DMA
    if nr_free_normal - (nr - 1) > normal_wmark(m, WMARK_MIN):
        return ZONE_NORMAL
    return ZONE_DMA


cdef void boost_watermark(mem* m, int zone) noexcept nogil:
    """Mirrors mm/page_alloc.c:boost_watermark(), called where a fallback to
    another migratetype would claim its pageblock (6.1 steal_suitable_fallback(),
    6.12 try_to_steal_block(), 7.3 try_to_claim_block(); here at every fallback,
    docs/kernels.md "Watermark boost"); ZONE_BOOSTED_WATERMARK then makes
    rmqueue() wake kswapd for that zone."""
    cdef int64_t max_boost
    cdef int32_t managed = m.nr_dma if zone == ZONE_DMA else m.nr_frames - m.nr_dma
    if PAGEBLOCK_NR_PAGES * 4 > managed:
        return                   # "zones that are unlikely to produce results"
    # watermark_boost_factor 15000: 1.5 times the high mark, at least a pageblock
    max_boost = m.zone_wmark[zone * 3 + WMARK_HIGH] * 15000 // 10000
    if max_boost < PAGEBLOCK_NR_PAGES:
        max_boost = PAGEBLOCK_NR_PAGES
    if zone == ZONE_DMA:
        m.watermark_boost_dma = min(m.watermark_boost_dma + PAGEBLOCK_NR_PAGES, max_boost)
        m.dma_boosted = 1
    else:
        m.watermark_boost_normal = min(m.watermark_boost_normal + PAGEBLOCK_NR_PAGES, max_boost)
        m.normal_boosted = 1


cdef void claim_pageblock(mem* m) noexcept nogil:
    """try_to_claim_block() (7.3 page_alloc.c:2308; 6.1 steal_suitable_fallback(), 6.12 try_to_steal_block()):
    the fallback found a free page in a pageblock whose free pages are at least
    half of it, and the block becomes movable. The top pageblock's worth of the
    claimable hole pfns are no longer holes; those free leave the holes' end of
    ZONE_NORMAL's free stack for the movable part."""
    cdef int32_t k = min(m.nr_claimable_normal, <int32_t>PAGEBLOCK_NR_PAGES)
    cdef folio_idx_t edge = m.nr_dma + m.nr_holes_normal - k
    cdef int32_t i = m.nr_hole_free_normal - 1
    cdef folio_idx_t f
    while i >= 0:
        f = m.free_stack[i]
        if f >= edge:
            m.nr_hole_free_normal -= 1
            m.free_stack[i] = m.free_stack[m.nr_hole_free_normal]
            m.free_stack[m.nr_hole_free_normal] = f
        i -= 1
    m.nr_holes_normal -= k
    m.nr_claimable_normal -= k


cdef void emit_extfrag(mem* m, int zone, folio_idx_t pfn, int reason, int32_t moved) noexcept nogil:
    # mm_page_alloc_extfrag: the frame the fallback hands out, its zone in `index`
    # (no folio yet); why_a the free pages that became movable, why_b the zone's
    # watermark boost now, why_c the free pages of other migratetypes left
    cdef vm_event_rec* e
    if not m.events_on:
        return
    _emit_rec(m, EV_EXTFRAG, reason, FN_RMQUEUE_FALLBACK, pfn, 0, <uint64_t>zone, LOC_FREE, LOC_FREE, -1, -1)
    e = last_event(m)
    e.why_a = moved
    e.why_b = <int32_t>(m.watermark_boost_dma if zone == ZONE_DMA else m.watermark_boost_normal)
    e.why_c = <uint16_t>min(m.nr_hole_free_dma if zone == ZONE_DMA else m.nr_hole_free_normal, 0xFFFF)


cdef folio_idx_t alloc_frame_zone(mem* m, int zone) noexcept nogil:
    # a frame of the given zone (which has one free): ZONE_DMA's from the top of
    # the free stack, ZONE_NORMAL's from its bottom part. Either zone's holes
    # (zone_*_holes) lie at the far end of its stack, so the frame is one of them
    # only when the zone has no other: __rmqueue_smallest() found no free page of
    # the movable type and __rmqueue_fallback() took one of another, boosting;
    # the hole_chunk frames nearest the top join the movable ones (the free page it
    # took, moved whole to the movable list) and the frame is the first of them
    cdef folio_idx_t pfn
    cdef int32_t moved
    cdef int reason
    if zone == ZONE_DMA:
        pfn = m.free_stack[m.nr_frames - m.nr_free_dma]
        if m.nr_free_dma == m.nr_hole_free_dma:
            moved = min(m.hole_chunk, m.nr_hole_free_dma)
            m.nr_hole_free_dma -= moved
            m.nr_fallback[ZONE_DMA] += 1
            boost_watermark(m, ZONE_DMA)
            emit_extfrag(m, ZONE_DMA, pfn, R_FALLBACK_STEAL, moved)
        m.nr_free_dma -= 1
        m.dma_alloc_count += 1                   # pgalloc_dma
        if m.dma_boost_every and m.dma_alloc_count % m.dma_boost_every == 0:
            boost_watermark(m, ZONE_DMA)
    else:
        reason = R_NONE
        if m.nr_free - m.nr_free_dma == m.nr_hole_free_normal:
            m.nr_fallback[ZONE_NORMAL] += 1
            boost_watermark(m, ZONE_NORMAL)
            moved = m.nr_hole_free_normal
            if m.nr_claimable_normal > 0:
                claim_pageblock(m)
                reason = R_FALLBACK_CLAIM
            else:
                m.nr_hole_free_normal -= min(m.hole_chunk, m.nr_hole_free_normal)
                reason = R_FALLBACK_STEAL
            moved -= m.nr_hole_free_normal
        pfn = m.free_stack[m.nr_free - m.nr_free_dma - 1]
        if reason != R_NONE:
            emit_extfrag(m, ZONE_NORMAL, pfn, reason, moved)
    m.nr_free -= 1
    m.vmstat[<int>NR_FREE_PAGES] -= 1
    m.folios[pfn].flags = 0
    folio_flags_changed(m, pfn)
    m.folios[pfn].prev = -1
    m.folios[pfn].next = -1
    m.folios[pfn].mapcount = 0
    m.folios[pfn].swap = 0
    m.folios[pfn]._pad = 0
    return pfn


cdef void free_frame(mem* m, folio_idx_t pfn) noexcept nogil:
    cdef int32_t top, edge
    m.folios[pfn].flags = 0
    folio_flags_changed(m, pfn)
    m.folios[pfn].prev = -1
    m.folios[pfn].next = -1
    m.folios[pfn].mapping = 0
    m.folios[pfn].swap = 0
    m.folios[pfn].mapcount = 0
    m.folios[pfn]._pad = 0
    m.folios[pfn].index = 0
    if pfn < m.nr_dma:
        top = m.nr_frames - m.nr_free_dma - 1
        if frame_is_hole(m, pfn):
            # back to the far end with the zone's other holes; the frame there, if
            # not one, moves to the top
            edge = m.nr_frames - m.nr_hole_free_dma - 1
            m.free_stack[top] = m.free_stack[edge]
            top = edge
            m.nr_hole_free_dma += 1
        m.free_stack[top] = pfn
        m.nr_free_dma += 1
    else:
        top = m.nr_free - m.nr_free_dma
        if frame_is_hole(m, pfn):
            edge = m.nr_hole_free_normal
            m.free_stack[top] = m.free_stack[edge]
            top = edge
            m.nr_hole_free_normal += 1
        m.free_stack[top] = pfn
    m.nr_free += 1
    m.vmstat[<int>NR_FREE_PAGES] += 1


# --- dirty and writeback ------------------------------------------------------------

cdef void folio_mark_dirty(mem* m, folio_idx_t pfn) noexcept nogil:
    if m.folios[pfn].flags & PG_dirty:
        return
    m.folios[pfn].flags |= PG_dirty
    folio_flags_changed(m, pfn)
    if not (m.folios[pfn].flags & PG_anon):
        # NR_FILE_DIRTY: page cache only, the folio's pages (folio_account_dirtied())
        m.vmstat[<int>NR_DIRTY] += folio_nr_pages(m, pfn)


cdef void folio_clear_dirty(mem* m, folio_idx_t pfn) noexcept nogil:
    if not (m.folios[pfn].flags & PG_dirty):
        return
    m.folios[pfn].flags &= ~PG_dirty
    folio_flags_changed(m, pfn)
    if not (m.folios[pfn].flags & PG_anon):
        m.vmstat[<int>NR_DIRTY] -= folio_nr_pages(m, pfn)


cdef void wb_submit(mem* m, int queue, folio_idx_t pfn, int64_t done_ns) noexcept nogil:
    # kswapd's and the workload's clocks differ, so a later submission can be due
    # earlier: keep each device queue sorted by completion time (stable for ties;
    # the clocks are close, so this shifts at most a few entries)
    cdef int64_t n = m.nr_frames
    cdef int64_t base = <int64_t>queue * n
    cdef int64_t k = m.wb_tail[queue]
    cdef int64_t prev
    while k > m.wb_head[queue]:
        prev = base + (k - 1) % n
        if m.wb_time[prev] <= done_ns:
            break
        m.wb_time[base + k % n] = m.wb_time[prev]
        m.wb_pfn[base + k % n] = m.wb_pfn[prev]
        k -= 1
    m.wb_time[base + k % n] = done_ns
    m.wb_pfn[base + k % n] = pfn
    m.wb_tail[queue] += 1


cdef void wb_cancel(mem* m, folio_idx_t pfn) noexcept nogil:
    # the folio is freed under writeback (process exit): its queued completion must
    # not end the writeback of the frame's next owner
    cdef int64_t n = m.nr_frames
    cdef int q
    cdef int64_t k
    for q in range(2):
        for k in range(m.wb_head[q], m.wb_tail[q]):
            if m.wb_pfn[<int64_t>q * n + k % n] == pfn:
                m.wb_pfn[<int64_t>q * n + k % n] = -1


cdef void folio_start_writeback(mem* m, folio_idx_t pfn, int queue, int64_t latency) noexcept nogil:
    folio_clear_dirty(m, pfn)
    m.folios[pfn].flags |= PG_writeback
    folio_flags_changed(m, pfn)
    m.vmstat[<int>NR_WRITEBACK] += folio_nr_pages(m, pfn)
    m.vmstat[<int>PGPGOUT] += 4 * folio_nr_pages(m, pfn)
    wb_submit(m, queue, pfn, actor_now(m) + latency)


cdef int folio_free_swap(mem* m, folio_idx_t pfn) noexcept nogil:
    # Mirrors mm/swapfile.c:folio_free_swap(); simplified: the slot is
    # referenced only by the swap cache once the folio is mapped again.
    cdef uint32_t fl = m.folios[pfn].flags
    if not (fl & PG_swapcache) or (fl & PG_writeback) or m.folios[pfn].mapcount == 0:
        return 0
    swap_free(m, <int32_t>m.folios[pfn].swap - 1)
    m.folios[pfn].swap = 0
    m.folios[pfn].flags &= ~PG_swapcache
    folio_flags_changed(m, pfn)
    m.folios[pfn].flags |= PG_dirty      # the only copy is in memory now
    folio_flags_changed(m, pfn)
    m.vmstat[<int>NR_SWAPCACHED] -= 1
    m.vmstat[<int>NR_FILE_PAGES] -= 1
    return 1


cdef int64_t wakeup_flusher_threads(mem* m) noexcept nogil:
    # Simplified wb_writeback(): the flusher writes every dirty page-cache
    # folio not already under writeback, walking frames from a cursor.
    cdef int32_t n = m.nr_frames
    cdef int32_t i, pfn = m.flush_cursor
    cdef int64_t queued = 0
    cdef uint32_t fl
    m.nr_flusher_wakeups += 1
    if m.vmstat[<int>NR_DIRTY] <= 0:
        return 0
    for i in range(n):
        if pfn >= n:
            pfn = 0
        fl = m.folios[pfn].flags
        if (fl & PG_dirty) and not (fl & (PG_anon | PG_writeback)):
            folio_start_writeback(m, pfn, 0, m.cost.file_write)
            queued += 1
            if m.vmstat[<int>NR_DIRTY] <= 0:
                pfn += 1
                break
        pfn += 1
    m.flush_cursor = pfn if pfn < n else 0
    return queued
