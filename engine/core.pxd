# The simulated machine: frames (folios), intrusive LRU lists, page tables with
# hardware young/dirty bits, page cache and swap with shadow entries, the
# lruvec, vmstat, the simulated clock and the event ring. Plain C structs only,
# so that policies and the simulator loop run without the GIL.
#
# See core.pyx for the helpers' bodies, policy.pxd for the reclaim-policy
# interface and simulator.pyx for the loop that drives them.
#
# Index-linked lists as in include/linux/list.h: every folio and every list
# head is an entry of mem.folios; frames are 0 .. nr_frames-1 (index == pfn),
# list heads (sentinels) are nr_frames + HEAD_*. A list is circular; head.next
# is the most recently added folio ("head" in the kernel's sense) and head.prev
# the oldest ("tail"). Reclaim scans from head.prev.

from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from engine._types cimport *

# --- list heads (offsets from nr_frames) -------------------------------------
cdef enum:
    HEAD_LRU = 0                 # + lru_list (0..4): the classic lists; LRU_UNEVICTABLE is shared by both policies
    HEAD_GEN = 5                 # + gen * 2 + type: MGLRU lrugen->folios[gen][type][ZONE_NORMAL]
    HEAD_PRIVATE = 13            # private lists for isolation: HEAD_PRIVATE .. HEAD_PRIVATE + 2
    NR_PRIVATE_HEADS = 3         # 13: folio_list, 14: ret/putback list, 15: retry/clean list
    HEAD_GEN_DMA = 16            # + gen * 2 + type: lrugen->folios[gen][type][ZONE_DMA]

# --- zones: frames below mem.nr_dma are ZONE_DMA, the rest the zone above it
# (x86_64's DMA32/Normal, one zone here: "ZONE_NORMAL"). Watermarks per zone:
# mem.zone_wmark[zone * 3 + WMARK_*].
cdef enum:
    ZONE_DMA = 0
    ZONE_NORMAL = 1
    WMARK_MIN = 0
    WMARK_LOW = 1
    WMARK_HIGH = 2
    PAGEBLOCK_NR_PAGES = 512     # x86_64: pageblock_order 9
    # 7.3 isolate_lru_folios(): at most this many folios skipped per call (swap.h)
    SWAP_CLUSTER_MAX_SKIPPED = 32 << 10

# --- an xarray leaf node of the page cache (lib/xarray.c struct xa_node) -----
ctypedef struct xa_node:
    uint64_t key                 # pc_key(file, index & ~63); 0 = free slot
    int32_t prev, next           # the shadow-only list (list_lru), -1 = end / not on it
    uint8_t count                # entries present: folio pages and shadows
    uint8_t nr_values            # of those, shadows (value entries)
    uint8_t on_list

cdef enum:
    XA_CHUNK_SHIFT = 6
    XA_CHUNK_SIZE = 64
    SHRINK_BATCH = 128           # do_shrink_slab()'s batch for a shrinker without one

# --- page-cache and swap-map entry tags (uint64, tag in the top 2 bits) -------
cdef enum:
    ENTRY_TAG_SHIFT = 62

cdef extern from *:
    """
    #define RL_ENTRY_FOLIO  (1ULL << 62)
    #define RL_ENTRY_SHADOW (2ULL << 62)
    #define RL_ENTRY_MASK   ((1ULL << 62) - 1)
    """
    const uint64_t ENTRY_FOLIO "RL_ENTRY_FOLIO"     # value = pfn
    const uint64_t ENTRY_SHADOW "RL_ENTRY_SHADOW"   # value = shadow_t (62 bits)
    const uint64_t ENTRY_MASK "RL_ENTRY_MASK"

cdef inline int is_shadow(uint64_t entry) noexcept nogil:
    return (entry & ~ENTRY_MASK) == ENTRY_SHADOW

# --- shadow entry packing (workingset.c pack_shadow) --------------------------
# bit 0: PG_workingset at eviction; bits 1..: eviction timestamp (classic:
# nonresident_age; MGLRU: token = min_seq << LRU_REFS_WIDTH | refs-1).
# One node, one memcg: those fields are omitted. bucket_order = 0.

# --- VMA flags -----------------------------------------------------------------
cdef enum:
    VM_EXEC = 1 << 0
    VM_LOCKED = 1 << 1
    VM_SEQ_READ = 1 << 2         # MADV_SEQUENTIAL: no recency
    VM_RAND_READ = 1 << 3        # MADV_RANDOM: no recency
    VM_SHARED = 1 << 4

# --- address spaces: M and X accesses go through two internal mms, the guest's own
# anon (config system_pages) has a third; anon owner o is mm o + NR_INTERNAL_MMS ---
cdef enum:
    MM_SHARED = 0                # VM_SHARED mappings of files (trace op M)
    MM_EXEC = 1                  # VM_EXEC mappings of files (trace op X)
    NR_FILE_MMS = 2              # below it: the file-mapping mms
    MM_SYSTEM = 2                # the system's own pages (tmpfs, init), faulted in at boot
    NR_INTERNAL_MMS = 3

# --- lruvec / pgdat flags ------------------------------------------------------
cdef enum:
    PGDAT_DIRTY = 1 << 0
    PGDAT_WRITEBACK = 1 << 1

# --- swap device kinds ---------------------------------------------------------
cdef enum swap_kind:
    SWAP_NONE = 0
    SWAP_ZRAM = 1                # synchronous: pageout completes at once
    SWAP_SSD = 2
    SWAP_HDD = 3

# --- vm_event_rec.why bits --------------------------------------------------------
cdef enum:
    WHY_REFERENCED = 1 << 0      # PG_referenced (folio_check_references: before it was cleared)
    WHY_WORKINGSET = 1 << 1      # PG_workingset
    WHY_YOUNG = 1 << 2           # folio_referenced() found a young PTE
    WHY_EXEC = 1 << 3            # ... in a VM_EXEC mapping
    WHY_INACTIVE_LOW = 1 << 4    # inactive_is_low() was true
    WHY_PID = 1 << 5             # tier_idx came from the PID controller (why_c / why_d valid)
    WHY_PID_TYPE = 1 << 6        # ... from get_type_to_scan() before v6.14: against the other type's tier 0, swappiness gains
    WHY_PRE614 = 1 << 7          # MGLRU rules before v6.14 (tier = order_base_2(refs + 1), gains 1:2, refs 4 protects)

ctypedef struct folio:
    uint32_t flags               # PG_* bits, MGLRU gen (LRU_GEN_MASK) and refs (LRU_REFS_MASK)
    folio_idx_t prev             # list links (index into mem.folios)
    folio_idx_t next
    uint32_t mapping             # anon: mm id; file: file id
    uint32_t swap                # swap slot + 1 while PG_swapcache; a large file folio's head: its pages a PTE maps (folio->_nr_pages_mapped); else 0
    uint16_t mapcount            # PTEs mapping this folio (0 = unmapped)
    uint16_t _pad                # while isolated: the reclaim decision (reason | kind | inputs, see folio_set_decision), read by move_folios_to_lru
    uint64_t index               # anon: vpn in mm; file: page offset

ctypedef struct vma:             # a file mapping: file pages pgoff are at vpn = vma_start(file) + pgoff in mm
    uint32_t mm
    uint32_t file
    uint32_t vm_flags            # VM_*
    int32_t next_of_file         # next vma mapping the same file (-1 = end): the rmap of file folios

ctypedef struct file_ra_state:  # include/linux/fs.h struct file_ra_state (prev_pos is mem.file_prev_index)
    uint64_t start               # where the readahead window starts
    uint32_t size                # its size in pages
    uint32_t async_size          # pages left when the next async readahead starts (PG_readahead)
    uint32_t mmap_miss           # do_sync_mmap_readahead(): misses minus hits, capped
    uint32_t order               # 7.3 ra->order: the folio order page_cache_ra_order() last used
    uint64_t nr_pages            # i_size in pages: the highest page the workload names + 1 (0 = unknown)
    # per-file counters, the simulator's own (the kernel keeps none per file):
    # what the file's share of pgpgin, workingset_refault_file and file pgsteal is
    int64_t nr_read              # pages read from storage (sync, readahead, read-around)
    int64_t nr_refault           # of those, refaults counted by workingset_refault()
    int64_t nr_evict             # pages freed by __remove_mapping() (a large folio's all), a shadow left
    # read_pages(): the pages of the file's last readahead whose read is in flight,
    # locked (filemap_add_folio() __folio_set_locked) until io_done_ns
    uint64_t io_start
    uint64_t io_nr
    int64_t io_done_ns

ctypedef struct mm_struct:
    int32_t first_ptp            # page-table pages of this mm, linked by mem.ptp_next (-1 = none)
    uint8_t alive                # 0 after exit (U)
    uint8_t ran                  # touched since the last MGLRU mm walk (iterate_mm_list skip test)
    uint16_t _pad
    uint32_t nr_ptes_present     # resident pages mapped

ctypedef struct cost_table:      # simulated nanoseconds
    int64_t access               # an access that hits a mapped page
    int64_t minor_fault          # fault satisfied without I/O (first touch, page-cache / swap-cache hit)
    int64_t read_hit             # read()/write() of a cached page
    int64_t file_read            # storage read latency (major fault / read miss)
    int64_t file_write           # storage writeback latency
    int64_t swap_read            # swap-in latency
    int64_t swap_write           # swap-out writeback latency (0 = synchronous, e.g. zram)
    int64_t scan_folio           # reclaim CPU time per page of a folio looked at (pgscan's unit)
    int64_t walk_pte             # MGLRU walk_mm CPU time per PTE scanned
    int64_t direct_stall         # extra latency charged per direct-reclaim batch
    int64_t readahead_page       # reader's time per page readahead reads beside the one it waits for
    int64_t mmap_access          # extra time of every M/X access, whatever it finds (0 but on the rig's guests)

ctypedef struct reclaim_stat:    # struct reclaim_stat (mm/vmscan.c), per shrink_folio_list call
    int64_t nr_dirty
    int64_t nr_unqueued_dirty
    int64_t nr_congested
    int64_t nr_writeback
    int64_t nr_immediate
    int64_t nr_pageout
    int64_t nr_activate[2]
    int64_t nr_ref_keep
    int64_t nr_unmap_fail
    int64_t nr_lazyfree_fail

ctypedef struct scan_control:
    # --- the kernel's fields ---
    int64_t nr_to_reclaim
    int64_t nr_scanned           # advanced only in shrink_folio_list (classic) / scan_folios
    int64_t nr_reclaimed
    int32_t priority
    int32_t reclaimer            # enum reclaimer
    int32_t swappiness           # -1: vm.swappiness; else an override (debugfs / proactive, may be 201)
    int32_t order
    uint8_t may_writepage
    uint8_t may_unmap
    uint8_t may_swap
    uint8_t may_deactivate       # bit 0: anon (DEACTIVATE_ANON), bit 1: file (DEACTIVATE_FILE)
    uint8_t force_deactivate
    uint8_t cache_trim_mode
    uint8_t cache_trim_mode_failed
    uint8_t file_is_tiny
    uint8_t no_cache_trim_mode
    uint8_t proactive
    uint8_t force_scan           # MGLRU debugfs '+'
    uint8_t dma_only             # sc->reclaim_idx is ZONE_DMA (kswapd's runs for a boost); 0: every zone
    uint8_t gfp_nofs             # sc->gfp_mask lacks __GFP_FS: direct reclaim for readahead's allocation
    int64_t anon_cost
    int64_t file_cost
    int64_t nr_taken_total       # sc->nr.taken
    int64_t nr_file_taken        # sc->nr.file_taken
    int64_t nr_dirty             # sc->nr.dirty
    int64_t nr_unqueued_dirty    # sc->nr.unqueued_dirty
    int64_t nr_congested         # sc->nr.congested
    int64_t nr_writeback         # sc->nr.writeback
    int64_t nr_immediate         # sc->nr.immediate
    # --- resumable progress of one shrink_node pass, owned by the policy ---
    # The kernel runs a pass as nested loops; the simulator must stop after
    # any scan batch, so the policy keeps its loop counters here.
    int32_t phase                # policy-defined; 0 = pass not started
    int32_t cursor               # policy-defined (e.g. next lru in shrink_lruvec's round)
    int64_t nr[NR_LRU_LISTS]     # shrink_lruvec: remaining scan targets
    int64_t targets[NR_LRU_LISTS]
    int64_t nr_reclaimed_pass    # reclaimed in this shrink_lruvec / try_to_shrink_lruvec
    int64_t nr_scanned_pass      # scanned in this pass (MGLRU: try_to_shrink_lruvec's "scanned")
    int64_t nr_to_scan           # MGLRU: get_nr_to_scan() result of this round
    uint8_t proportional_reclaim
    uint8_t scan_adjusted
    uint8_t aged                 # MGLRU: this pass already aged (walk buffer for direct reclaim)
    uint8_t _pad2
    # --- added by the engine core ---
    int32_t skipped_deactivate   # shrink_list() skipped an active list (do_try_to_free_pages retries with force_deactivate)
    int32_t _pad3
    int64_t nr_reclaimed_start   # sc.nr_reclaimed when the pass began (kswapd_shrink_node / shrink_node's "reclaimable")
    # --- 6.1's MGLRU (vmscan.c:4555-4575, :5145-5245) ---
    int64_t last_reclaimed       # kswapd's nr_reclaimed at its last lru_gen_age_node()
    int64_t seq_start            # max_seq when lru_gen_shrink_lruvec() began
    uint8_t need_swapping        # evict_folios() evicted anon in this lru_gen_shrink_lruvec()
    uint8_t memcgs_need_aging    # cleared by an eviction pass that needed no aging
    uint8_t need_aging           # get_nr_to_scan()'s verdict in this lru_gen_shrink_lruvec()
    uint8_t _pad4
    int32_t _pad5

ctypedef struct lruvec:
    int64_t anon_cost            # lru_note_cost
    int64_t file_cost
    int64_t nonresident_age      # workingset refault clock (classic)
    int64_t refaults[2]          # snapshot_refaults(): WORKINGSET_ACTIVATE_{ANON,FILE} at last snapshot
    # 7.3's cost model (prepare_scan_control()): the rotations (vmstat
    # PGROTATE_{ANON,FILE}) and I/O it has folded into anon_cost / file_cost so far
    int64_t last_rotated[2]
    int64_t last_io[2]
    uint32_t flags               # PGDAT_DIRTY | PGDAT_WRITEBACK
    # 6.12 and 7.3: the memcg counters lruvec_page_state() returns, as the
    # periodic rstat flush left them (memcg_flush_stats(), MS_* below)
    int64_t stat[11]
    int64_t stat_flush_ns        # config flush_time_ms: 0 = exact reads (a nominal clock)
    int64_t stat_next_flush_ns   # when flush_memcg_stats_dwork() runs next (the workload's clock)

ctypedef struct vm_event_rec:    # one entry of the event ring; 80 bytes
    uint64_t seq                 # event number since boot (monotonic)
    int64_t time_ns              # simulated time of the actor that caused it
    uint64_t nr_access           # accesses completed when it happened
    uint64_t batch               # scan batches completed when it happened (the batch it belongs to is batch + 1 while a batch runs)
    uint64_t index               # folio index (vpn / pgoff), or an argument for non-folio events
    int32_t pfn                  # -1 for non-folio events
    uint32_t mapping             # mm / file id
    uint16_t kind                # enum ev_kind
    uint16_t reason              # enum ev_reason
    uint16_t fn                  # enum kfn
    int8_t src                   # enum lru_list or loc
    int8_t dst
    int32_t src_seq              # MGLRU seq when src/dst == LOC_GEN, else -1
    int32_t dst_seq
    # the inputs of the rule that decided, read when it decided; their meaning
    # depends on the event (docs/engine.md "Decision inputs"); -1 / 0 = not recorded
    int32_t why_a                # MGLRU: max_seq; folio_check_references: referenced_ptes; deactivation: inactive pages
    int32_t why_b                # MGLRU: min_seq[type]; classic deactivation: active pages
    uint16_t why_c               # PID: refault rate of the tier get_tier_idx() stopped at (0.01 %); deactivation: inactive_ratio
    uint16_t why_d               # PID: refault rate of the tier 0 it was compared with (0.01 %)
    int8_t refs                  # MGLRU folio_lru_refs() (refault: the shadow token's refs)
    int8_t tier                  # MGLRU lru_tier_from_refs()
    int8_t tier_idx              # the PID controller's tier_idx: tiers above it are protected
    uint8_t why                  # WHY_* bits

ctypedef struct layout_stamps:
    # Which frames' flags may have changed since a layout pass
    # (Simulator.layout_location): one stamp per LAYOUT_BLOCK frames, the
    # pass number `seq` at its latest flags write; NULL until a pass asks.
    uint32_t* stamp
    uint32_t seq

ctypedef struct mem:
    # --- configuration ---
    int32_t nr_frames
    int32_t nr_swap_slots        # 0 = no swap configured
    int32_t swap_kind            # enum swap_kind
    int32_t swappiness           # vm.swappiness 0..200 (201 = anon only)
    int64_t wmark_min            # pages; free must stay > mark (strict)
    int64_t wmark_low
    int64_t wmark_high
    int32_t readahead_pages      # ra_pages (read_ahead_kb / 4); 0 = off (one page per miss)
    int32_t policy_id            # 0 = lru, 1 = lru_gen
    int32_t kernel               # kernel profile: major * 100 + minor (601, 612, 703); engine/kernels.py
    int32_t large_folios         # config large_folios: read() readahead allocates folios of order > 0 (7.3)
    cost_table cost
    # --- frames and lists ---
    folio* folios                # nr_frames + NR_LIST_HEADS entries
    folio_idx_t* free_stack      # free pfns, LIFO: ZONE_NORMAL's from index 0 up, ZONE_DMA's from nr_frames - 1 down
    int32_t nr_free              # both zones
    int32_t nr_dma               # ZONE_DMA's frames (pfn < nr_dma); 0 = one zone
    int32_t nr_free_dma
    int64_t zone_wmark[6]        # [zone * 3 + WMARK_*]; the node's marks split by zone size
    int64_t lowmem_reserve_dma   # ZONE_DMA's lowmem_reserve against allocations that may use ZONE_NORMAL
    lruvec lv
    int64_t* vmstat              # NR_VMSTAT_ITEMS
    # --- address spaces and page tables ---
    mm_struct* mms
    int32_t nr_mms
    int32_t cap_mms
    vma* vmas
    int32_t nr_vmas
    int32_t cap_vmas
    int32_t* file_first_vma      # per file id: first vma (-1 = none)
    int32_t nr_files
    int32_t cap_files
    uint32_t* ptes               # nr_ptps * PTRS_PER_PTE PTEs
    uint64_t* ptp_key            # per page-table page: (mm << 44) | pmd index
    int32_t* ptp_next            # next ptp of the same mm
    uint8_t* ptp_young           # non-leaf PMD accessed bit (set on any access through it)
    uint16_t* ptp_nr_present
    int32_t nr_ptps
    int32_t cap_ptps
    uint64_t* pt_hash_keys       # open addressing: key + 1 (0 = empty)
    int32_t* pt_hash_vals        # ptp index
    int64_t pt_hash_mask
    # --- page cache (file, pgoff) -> ENTRY_FOLIO | ENTRY_SHADOW ---
    uint64_t* pc_keys            # (file << 40 | pgoff) + 1, 0 = empty; slot i is pc_keys[2 * i] (one block, interleaved)
    uint64_t* pc_vals            # = pc_keys + 1: slot i's value is pc_vals[2 * i]; never freed on its own
    int64_t pc_mask
    int64_t pc_used
    int64_t nr_shadows
    # --- the page cache's xarray leaf nodes (mm/workingset.c) -----------------
    # one per 64 indices of a file (XA_CHUNK_SHIFT) holding an entry; those whose
    # entries are all shadows sit on the list count_shadow_nodes() counts
    # (vmstat workingset_nodes), oldest first. Pool slots, the hash and the list
    # links are not state: state_bytes() keeps the list's keys in order, load_state()
    # rebuilds the rest from the page cache
    xa_node* xa_nodes            # pool; a free slot's `next` links the free list
    int32_t xa_cap
    int32_t xa_free
    int32_t xa_head              # the shadow-only list: oldest (the shrinker's end) ...
    int32_t xa_tail              # ... to newest
    uint64_t* xa_hkeys           # open addressing: node key (pc_key of its first index), 0 = empty
    int32_t* xa_hvals            # pool slot
    int64_t xa_hmask
    int64_t xa_used
    uint64_t xa_last_key         # the last node found: a stream's 64 stores and evictions in a row
    int32_t xa_last_idx
    int64_t shadow_nr_deferred   # do_shrink_slab()'s nr_deferred of the shadow shrinker
    # --- swap: per slot 0 = free, ENTRY_FOLIO|pfn (in swap cache), ENTRY_SHADOW|shadow (on the device) ---
    uint64_t* swap_map
    int32_t nr_swap_free
    int32_t swap_cursor          # next-fit allocation cursor
    # --- writeback in flight: FIFO per device, (completion time, pfn) ---
    int64_t* wb_time             # [2 * nr_frames]: queue 0 = file storage, queue 1 = swap device
    int32_t* wb_pfn
    int64_t wb_head[2]
    int64_t wb_tail[2]
    # --- clock and actors ---
    int64_t now_ns               # workload CPU clock
    int64_t kswapd_ns            # kswapd CPU clock
    uint64_t nr_access           # accesses completed
    uint64_t nr_batches          # scan batches completed (the `scan` step unit)
    uint64_t nr_shrink_passes    # shrink_node passes completed (the `shrink` step unit)
    uint64_t nr_aging            # inc_max_seq calls (the `aging` step unit)
    # --- event ring ---
    vm_event_rec* events
    int64_t events_cap           # power of two
    uint64_t events_seq          # next event number
    uint8_t events_on            # 0 on the run-ahead fast path
    int32_t cur_actor            # enum reclaimer of whoever is running (for event time)
    # --- added by the engine core ---
    uint64_t* file_prev_index    # per file: pgoff of the previous read() (filemap_read's "same folio" rule), ~0 = none
    file_ra_state* file_ra       # per file: the readahead state of its one open file
    int32_t flush_cursor         # flusher threads: next pfn to look at (writeback of dirty file folios)
    int32_t nr_swap_shadows      # swap slots holding a shadow (ENTRY_SHADOW): nr_shadows()["anon"] without walking swap_map
    int64_t nr_flusher_wakeups   # wakeup_flusher_threads() calls (reclaim + background)
    # the workload CPU's per-CPU lru_add batch (mm/folio.c cpu_fbatches.lru_add): the
    # order-0 folios folio_add_lru() queued since the batch last drained, by pfn, index
    # and the generation they went to. The engine adds them to the LRU at once; an
    # entry records that 7.3's lru_gen_folio_seq() would not have placed the folio yet
    # (one that reclaim or aging has moved since is taken as drained)
    int32_t lru_batch_nr
    folio_idx_t lru_batch_pfn[PAGEVEC_SIZE]
    uint64_t lru_batch_index[PAGEVEC_SIZE]
    int64_t lru_batch_seq[PAGEVEC_SIZE]
    # ZONE_DMA's watermark boost (boost_watermark(), page_alloc.c): from the fallbacks
    # into the zone's holes below, and, as a stand-in whatever the free lists hold, one
    # per dma_boost_every pages ZONE_DMA hands out (config zone_dma_boost_every; 0 = never)
    int64_t dma_boost_every
    int64_t dma_alloc_count      # pages ZONE_DMA handed out (pgalloc_dma)
    int64_t watermark_boost_dma  # zone->watermark_boost of ZONE_DMA, pages
    uint8_t dma_boosted          # ZONE_BOOSTED_WATERMARK: rmqueue() wakes kswapd for ZONE_DMA alone
    uint8_t normal_boosted       # ... for ZONE_NORMAL (the guests' ZONE_DMA32): an ordinary run
    uint8_t _pad_boost[6]
    int64_t watermark_boost_normal
    # The free pages of each zone that lie in pageblocks of another migratetype
    # (config zone_dma_holes / zone_normal_holes; docs/kernels.md "Watermark
    # boost"): the first nr_holes_* pfns of the zone. A movable allocation takes
    # them only when the zone has no other free page: __rmqueue_fallback(), which
    # boosts the zone. They sit at the far end of their zone's free stack, so a
    # zone hands out every other free frame first; a freed one goes back there.
    int32_t nr_holes_dma
    int32_t nr_holes_normal
    int32_t nr_hole_free_dma
    int32_t nr_hole_free_normal
    int64_t nr_fallback[2]       # fallbacks into those pages, per zone (mm_page_alloc_extfrag)
    # the pages one fallback moves to the movable free list: the free page it takes
    # is of that order (mm_page_alloc_extfrag's fallback_order), and steal_suitable_fallback()
    # moves it whole (config zone_hole_chunk)
    int32_t hole_chunk
    # ZONE_NORMAL's holes that lie in pageblocks a fallback can claim (more than
    # half of them free): the top nr_claimable_normal of its hole pfns. A fallback
    # that finds one claims a pageblock of them for the movable type
    # (try_to_claim_block(), config zone_normal_claimable)
    int32_t nr_claimable_normal
    int64_t nr_lru_dma[5]        # ZONE_DMA's pages on each node LRU list (lruvec_lru_size(.., ZONE_DMA))
    # compaction's migrations (7.3's large folios' high-order allocations): one folio
    # migrated per compaction_migrate_every pages read into large folios (config; 0 =
    # never), taken by a scanner going up the pfns as the migrate scanner does
    int64_t compact_every
    int64_t compact_acc
    int32_t compact_cursor
    # defer_compaction(): after an attempt found nothing to migrate, the next
    # 1 << compact_defer_shift attempts are skipped (compaction_deferred())
    int32_t compact_defer_shift
    int32_t compact_considered
    int32_t _pad_compact
    # The per-CPU free lists' pages (since v6.7 nr_pcp_high() lets pcp->high grow
    # to high_max on frees): neither free (not in NR_FREE_PAGES, MemFree or a
    # watermark check) nor on an LRU until kswapd's first balance_pgdat() sets
    # ZONE_RECLAIM_ACTIVE and the lists shrink to high_min, when they go back to
    # the buddy lists (config pcp_pages). They are ZONE_NORMAL's top pfns
    int32_t nr_pcp_held
    int32_t _pad_pcp
    layout_stamps layout         # last: not machine state, outside the state image (MEM_STATE_BYTES)

# --- list.h --------------------------------------------------------------------
cdef inline folio_idx_t list_head(mem* m, int head) noexcept nogil:
    return m.nr_frames + head

cdef inline void __list_add(mem* m, folio_idx_t new, folio_idx_t prev, folio_idx_t next) noexcept nogil:
    m.folios[next].prev = new
    m.folios[new].next = next
    m.folios[new].prev = prev
    m.folios[prev].next = new

cdef inline void list_add(mem* m, folio_idx_t new, folio_idx_t head) noexcept nogil:
    __list_add(m, new, head, m.folios[head].next)

cdef inline void list_add_tail(mem* m, folio_idx_t new, folio_idx_t head) noexcept nogil:
    __list_add(m, new, m.folios[head].prev, head)

cdef inline void list_del(mem* m, folio_idx_t entry) noexcept nogil:
    cdef folio_idx_t p = m.folios[entry].prev
    cdef folio_idx_t n = m.folios[entry].next
    m.folios[n].prev = p
    m.folios[p].next = n
    m.folios[entry].prev = -1
    m.folios[entry].next = -1

cdef inline void list_move(mem* m, folio_idx_t entry, folio_idx_t head) noexcept nogil:
    list_del(m, entry)
    list_add(m, entry, head)

cdef inline void list_move_tail(mem* m, folio_idx_t entry, folio_idx_t head) noexcept nogil:
    list_del(m, entry)
    list_add_tail(m, entry, head)

cdef inline bint list_empty(mem* m, folio_idx_t head) noexcept nogil:
    return m.folios[head].next == head

cdef inline void list_init(mem* m, folio_idx_t head) noexcept nogil:
    m.folios[head].next = head
    m.folios[head].prev = head

# --- page flags ----------------------------------------------------------------
cdef inline void node_lru_add(mem* m, folio_idx_t pfn, bint tail) noexcept nogil:
    # lruvec_add_folio() / _tail() on the node's lists: the one the flags select;
    # update_lru_size() counts the folio's pages (folio_nr_pages())
    cdef int lru = folio_lru_list(m, pfn)
    if tail:
        list_add_tail(m, pfn, m.nr_frames + HEAD_LRU + lru)
    else:
        list_add(m, pfn, m.nr_frames + HEAD_LRU + lru)
    m.vmstat[NR_INACTIVE_ANON + lru] += folio_nr_pages(m, pfn)
    if pfn < m.nr_dma:
        m.nr_lru_dma[lru] += folio_nr_pages(m, pfn)

cdef inline void node_lru_del(mem* m, folio_idx_t pfn) noexcept nogil:
    list_del(m, pfn)
    m.vmstat[NR_INACTIVE_ANON + folio_lru_list(m, pfn)] -= folio_nr_pages(m, pfn)
    if pfn < m.nr_dma:
        m.nr_lru_dma[folio_lru_list(m, pfn)] -= folio_nr_pages(m, pfn)

cdef inline int folio_zone(mem* m, folio_idx_t f) noexcept nogil:
    return ZONE_DMA if f < m.nr_dma else ZONE_NORMAL

cdef inline int pgskip_item(mem* m, folio_idx_t f) noexcept nogil:
    # __count_zid_vm_events(PGSCAN_SKIP, zid, ..) counts by the folio's zone. The one
    # above ZONE_DMA is x86_64's ZONE_DMA32 wherever a skip can happen: ZONE_DMA takes
    # a movable allocation only above its lowmem_reserve (managed pages above / 256),
    # so only while the zone above holds under 3,840 x 256 pages (3.75 GiB), below
    # MAX_DMA32_PFN; the rig's guests count pgskip_dma32
    return PGSKIP_DMA if f < m.nr_dma else PGSKIP_DMA32

cdef inline folio_idx_t free_pfn(mem* m, int32_t i) noexcept nogil:
    """The i-th of the nr_free free frames: ZONE_NORMAL's stack, then ZONE_DMA's."""
    cdef int32_t nr_normal = m.nr_free - m.nr_free_dma
    if i < nr_normal:
        return m.free_stack[i]
    return m.free_stack[m.nr_frames - m.nr_free_dma + (i - nr_normal)]

cdef inline int64_t dma_wmark(mem* m, int which) noexcept nogil:
    # wmark_pages(zone, i): the zone's mark plus its watermark boost (mmzone.h)
    return m.zone_wmark[ZONE_DMA * 3 + which] + m.watermark_boost_dma

cdef inline int64_t normal_wmark(mem* m, int which) noexcept nogil:
    return m.zone_wmark[ZONE_NORMAL * 3 + which] + m.watermark_boost_normal

cdef inline bint frame_is_hole(mem* m, folio_idx_t f) noexcept nogil:
    # a frame of a pageblock of another migratetype (zone_*_holes): the first pfns of its zone
    if f < m.nr_dma:
        return f < m.nr_holes_dma
    return f - m.nr_dma < m.nr_holes_normal

cdef inline bint zone_watermark_ok(mem* m, int which) noexcept nogil:
    """Some zone of the zonelist is above its `which` mark, as the page
    allocator's zone_watermark_ok() over ZONE_NORMAL then ZONE_DMA (whose
    lowmem_reserve is added), and as pgdat_balanced() for order 0 (any
    eligible zone balanced). One zone: the node's free pages against its mark."""
    if m.nr_free - m.nr_free_dma > normal_wmark(m, which):
        return True
    return m.nr_dma > 0 and m.nr_free_dma > dma_wmark(m, which) + m.lowmem_reserve_dma

cdef inline bint pgdat_balanced(mem* m, int highest_zoneidx) noexcept nogil:
    """Mirrors mm/vmscan.c:pgdat_balanced() for order 0: some zone up to
    highest_zoneidx above its high mark (the boost included). For ZONE_DMA alone
    its lowmem_reserve against itself is 0."""
    if highest_zoneidx == ZONE_DMA:
        return m.nr_dma > 0 and m.nr_free_dma > dma_wmark(m, WMARK_HIGH)
    return zone_watermark_ok(m, WMARK_HIGH)

cdef enum:
    LAYOUT_BLOCK_SHIFT = 6       # 64 frames a stamp: 16 KiB of stamps at 1 Mi frames

cdef inline void folio_flags_changed(mem* m, folio_idx_t f) noexcept nogil:
    # Every write of folio.flags is followed by this: the layout pass then
    # reads only the blocks written since the caller's last pass.
    if m.layout.stamp != NULL:
        m.layout.stamp[f >> LAYOUT_BLOCK_SHIFT] = m.layout.seq

cdef inline uint32_t folio_order(mem* m, folio_idx_t f) noexcept nogil:
    # the order of the (7.3 page-cache) folio this page belongs to; 0 = a small folio
    return (m.folios[f].flags & FOLIO_ORDER_MASK) >> FOLIO_ORDER_PGOFF

cdef inline int64_t flags_nr_pages(uint32_t flags) noexcept nogil:
    # the pages of a folio whose flags word this is (its order field)
    return (<int64_t>1) << ((flags & FOLIO_ORDER_MASK) >> FOLIO_ORDER_PGOFF)

cdef inline int64_t folio_nr_pages(mem* m, folio_idx_t f) noexcept nogil:
    return flags_nr_pages(m.folios[f].flags)

cdef inline bint folio_mapped(mem* m, folio_idx_t f) noexcept nogil:
    # include/linux/mm.h:folio_mapped(): a PTE maps one of its pages (a large
    # folio counts its mapped pages on its head, as the kernel's _nr_pages_mapped)
    if m.folios[f].flags & FOLIO_ORDER_MASK:
        return m.folios[f].swap != 0
    return m.folios[f].mapcount != 0

cdef inline folio_idx_t page_folio(mem* m, folio_idx_t pfn) noexcept nogil:
    # include/linux/page-flags.h:page_folio(): a tail page names its head in the
    # word the head uses for its LRU link (compound_head aliases lru.next)
    if m.folios[pfn].flags & PG_tail:
        return m.folios[pfn].next
    return pfn

cdef inline bint folio_test(mem* m, folio_idx_t f, uint32_t flag) noexcept nogil:
    return (m.folios[f].flags & flag) != 0

cdef inline void folio_set(mem* m, folio_idx_t f, uint32_t flag) noexcept nogil:
    m.folios[f].flags |= flag
    folio_flags_changed(m, f)

cdef inline void folio_clear(mem* m, folio_idx_t f, uint32_t flag) noexcept nogil:
    m.folios[f].flags &= ~flag
    folio_flags_changed(m, f)

cdef inline bint folio_test_clear(mem* m, folio_idx_t f, uint32_t flag) noexcept nogil:
    cdef bint was = (m.folios[f].flags & flag) != 0
    m.folios[f].flags &= ~flag
    folio_flags_changed(m, f)
    return was

cdef inline bint folio_is_file_lru(mem* m, folio_idx_t f) noexcept nogil:
    return (m.folios[f].flags & PG_swapbacked) == 0

cdef inline int folio_type(mem* m, folio_idx_t f) noexcept nogil:
    # LRU_GEN_ANON / LRU_GEN_FILE, as folio_is_file_lru()
    return 1 if (m.folios[f].flags & PG_swapbacked) == 0 else 0

cdef inline int folio_lru_list(mem* m, folio_idx_t f) noexcept nogil:
    # folio_lru_list(): which classic list the flags select
    cdef uint32_t fl = m.folios[f].flags
    if fl & PG_unevictable:
        return LRU_UNEVICTABLE
    return 2 * folio_type(m, f) + (1 if fl & PG_active else 0)

cdef inline int folio_lru_gen(mem* m, folio_idx_t f) noexcept nogil:
    # gen + 1 is stored; -1 when not on a generation list
    return <int>((m.folios[f].flags & LRU_GEN_MASK) >> LRU_GEN_PGOFF) - 1

cdef inline int folio_lru_refs_field(mem* m, folio_idx_t f) noexcept nogil:
    return <int>((m.folios[f].flags & LRU_REFS_MASK) >> LRU_REFS_PGOFF)

cdef inline bint vma_has_recency(uint32_t vm_flags) noexcept nogil:
    return (vm_flags & (VM_SEQ_READ | VM_RAND_READ)) == 0

# private list of an isolation batch: flags for move_folios_to_lru's event.
# _pad = reason (bits 0-7) | kind code (8-9: 0 none, 1 putback, 2 activate,
# 3 deactivate; other kinds read as putback) | folio_check_references()'s
# inputs (10-11 referenced_ptes capped at 3, 12 PG_referenced before, 13
# VM_EXEC, 14 inputs recorded), which a later decision keeps.
cdef enum:
    DECISION_INPUTS = 0x7C00
    DECISION_INPUTS_SET = 1 << 14

cdef inline void folio_set_decision(mem* m, folio_idx_t f, int kind, int reason) noexcept nogil:
    cdef int code = 1 if kind == EV_PUTBACK else 2 if kind == EV_PGACTIVATE else 3 if kind == EV_PGDEACTIVATE else 0
    m.folios[f]._pad = <uint16_t>((m.folios[f]._pad & DECISION_INPUTS) | (code << 8) | (reason & 0xFF))

cdef inline int folio_decision_kind(mem* m, folio_idx_t f) noexcept nogil:
    cdef int code = (m.folios[f]._pad >> 8) & 3
    return EV_PUTBACK if code == 1 else EV_PGACTIVATE if code == 2 else EV_PGDEACTIVATE if code == 3 else 0

cdef inline int folio_decision_reason(mem* m, folio_idx_t f) noexcept nogil:
    return m.folios[f]._pad & 0xFF

cdef inline void folio_set_references(mem* m, folio_idx_t f, int referenced_ptes, bint referenced,
                                      uint32_t vm_flags) noexcept nogil:
    # what folio_check_references() read, for the event of the decision it leads to
    cdef int n = referenced_ptes if referenced_ptes < 3 else 3
    m.folios[f]._pad = <uint16_t>((m.folios[f]._pad & ~DECISION_INPUTS) | DECISION_INPUTS_SET
                                  | ((n if n > 0 else 0) << 10) | ((1 if referenced else 0) << 12)
                                  | ((1 if vm_flags & VM_EXEC else 0) << 13))

cdef inline vm_event_rec* last_event(mem* m) noexcept nogil:
    # the record emit() just wrote (only while m.events_on), to add its decision inputs
    return &m.events[(m.events_seq - 1) & <uint64_t>(m.events_cap - 1)]

cdef inline void event_set_references(vm_event_rec* e, uint16_t pad) noexcept nogil:
    # a decision's event: the folio_check_references() inputs its _pad kept
    if not (pad & DECISION_INPUTS_SET):
        return
    e.why_a = (pad >> 10) & 3
    e.why = (WHY_REFERENCED if pad & (1 << 12) else 0) | (WHY_EXEC if pad & (1 << 13) else 0) \
        | (WHY_YOUNG if pad & (3 << 10) else 0)

# --- hashing of the page-table and page-cache tables (open addressing) --------
cdef extern from *:
    """
    #define RL_HASH_MUL 0x9E3779B97F4A7C15ULL
    """
    const uint64_t HASH_MUL "RL_HASH_MUL"

cdef inline uint64_t hash64(uint64_t key) noexcept nogil:
    cdef uint64_t h = key * HASH_MUL
    return h ^ (h >> 31)

cdef inline uint64_t pc_key(uint32_t file, uint64_t pgoff) noexcept nogil:
    # the page-cache key of (file, pgoff); 0 marks an empty slot
    return (((<uint64_t>file) << 40) | (pgoff & ((1ULL << 40) - 1))) + 1

# the pages on the four evictable LRU lists: what lru_note_cost() and 7.3's
# prepare_scan_control() decay the reclaim costs against
cdef inline int64_t lru_pages(mem* m) noexcept nogil:
    return (m.vmstat[<int>NR_INACTIVE_ANON] + m.vmstat[<int>NR_ACTIVE_ANON]
            + m.vmstat[<int>NR_INACTIVE_FILE] + m.vmstat[<int>NR_ACTIVE_FILE])

# The counters of the root memcg's lruvec that classic reclaim reads through
# lruvec_page_state(): the four LRU sizes (+ lru), WORKINGSET_ACTIVATE_* and
# WORKINGSET_RESTORE_* (+ file), NR_VMSCAN_WRITE and 7.3's PGROTATE_* (+ file).
cdef enum:
    MS_LRU = 0
    MS_WS_ACTIVATE = 4
    MS_WS_RESTORE = 6
    MS_VMSCAN_WRITE = 8
    MS_ROTATED = 9
    NR_MEMCG_STATS = 11

cdef inline int64_t memcg_stat_exact(mem* m, int i) noexcept nogil:
    if i < MS_WS_ACTIVATE:
        return m.vmstat[<int>NR_INACTIVE_ANON + i]
    if i < MS_WS_RESTORE:
        return m.vmstat[<int>WORKINGSET_ACTIVATE_ANON + i - MS_WS_ACTIVATE]
    if i < MS_VMSCAN_WRITE:
        return m.vmstat[<int>WORKINGSET_RESTORE_ANON + i - MS_WS_RESTORE]
    if i == MS_VMSCAN_WRITE:
        return m.vmstat[<int>NR_VMSCAN_WRITE]
    return m.vmstat[<int>PGROTATE_ANON + i - MS_ROTATED]

# mm/memcontrol.c:cgroup_rstat_flush() via do_flush_stats(): the per-CPU
# deltas folded into the memcg's counters, all of them at once
cdef inline void memcg_flush_stats(mem* m) noexcept nogil:
    cdef int i
    for i in range(NR_MEMCG_STATS):
        m.lv.stat[i] = memcg_stat_exact(m, i)

# mm/memcontrol.c:lruvec_page_state(): the memcg's flushed copy. 6.1's
# shrink_node() flushes whenever more than num_online_cpus() batches
# of 64 updates are pending (6.1 vmscan.c:2822, memcontrol.c:640-644), within
# ~200 pages of exact, read here as exact; 6.12 and 7.3 only flush when the
# 2 s periodic worker is a full cycle late (mem_cgroup_flush_stats_ratelimited(),
# 6.12 vmscan.c:2292 and workingset.c:481, 7.3 vmscan.c:2296 and :490), so
# they read what flush_memcg_stats_dwork() left up to 2 s ago. That is a
# matter of time, so only a machine whose clock runs at a measured pace has
# it (config flush_time_ms, set by engine/kernels.py guest_machine(pace="rig"))
cdef inline int64_t lruvec_page_state(mem* m, int i) noexcept nogil:
    if m.kernel < 612 or m.lv.stat_flush_ns == 0:
        return memcg_stat_exact(m, i)
    return m.lv.stat[i]

# mm/workingset.c:workingset_test_recent() (classic): what a refault distance
# is compared against; used by the classic policy and by page_state()
cdef inline int64_t workingset_size(mem* m, bint file) noexcept nogil:
    cdef int64_t size = m.vmstat[<int>NR_ACTIVE_FILE]
    if not file:
        size += m.vmstat[<int>NR_INACTIVE_FILE]
    if m.nr_swap_free > 0:
        size += m.vmstat[<int>NR_ACTIVE_ANON]
        if file:
            size += m.vmstat[<int>NR_INACTIVE_ANON]
    return size

# --- functions in core.pyx (no policy calls; see policy.pyx for reclaim) ---------
cdef void emit(mem* m, int kind, int reason, int fn, folio_idx_t pfn, int src, int dst,
               int64_t src_seq, int64_t dst_seq) noexcept nogil
cdef void emit_arg(mem* m, int kind, int reason, int fn, uint32_t mapping, uint64_t arg) noexcept nogil
cdef int64_t actor_now(mem* m) noexcept nogil             # clock of the running actor
cdef void charge(mem* m, int64_t ns) noexcept nogil        # advance the running actor's clock
# page tables
cdef uint32_t* pte_lookup(mem* m, uint32_t mm, uint64_t vpn) noexcept nogil            # NULL if no page-table page
cdef uint32_t* pte_alloc(mem* m, uint32_t mm, uint64_t vpn) except NULL nogil         # creates the ptp
cdef int pt_hash_insert(mem* m, uint64_t key1, int32_t val) noexcept nogil             # key1 = ptp key + 1, known absent
cdef uint64_t file_vma_vpn(uint32_t file, uint64_t pgoff) noexcept nogil               # vpn of pgoff in a file mapping
# page cache
cdef uint64_t pc_lookup(mem* m, uint32_t file, uint64_t pgoff) noexcept nogil          # 0 = none
cdef int pc_store(mem* m, uint32_t file, uint64_t pgoff, uint64_t entry) except -1 nogil
cdef void pc_erase(mem* m, uint32_t file, uint64_t pgoff) noexcept nogil
cdef uint64_t pc_erase_entry(mem* m, uint32_t file, uint64_t pgoff) noexcept nogil     # leaves the node's counts; returns the entry
# the page cache's xarray leaf nodes (mm/workingset.c shadow nodes)
cdef int xa_init(mem* m, int32_t cap, int64_t hcap) noexcept nogil                    # -1: out of memory
cdef int32_t xa_find(mem* m, uint64_t key) noexcept nogil                              # pool slot of a node key, -1 = none
cdef int xa_count_entry(mem* m, uint32_t file, uint64_t pgoff, int dcount, int dvalues) noexcept nogil  # counts only, -1: out of memory
cdef void xa_list_add_tail(mem* m, int32_t idx) noexcept nogil
cdef void shrink_shadow_nodes(mem* m, int priority) noexcept nogil                     # shrink_slab()'s shadow shrinker
# swap slots
cdef int32_t swap_alloc(mem* m) noexcept nogil                                         # -1 if full
cdef void swap_free(mem* m, int32_t slot) noexcept nogil
# frames
cdef folio_idx_t alloc_frame(mem* m) noexcept nogil                                    # -1 if none free
cdef int folio_alloc_zone(mem* m, int32_t nr) noexcept nogil                          # the zone a folio of nr pages comes from
cdef folio_idx_t alloc_frame_zone(mem* m, int zone) noexcept nogil                     # a frame of that zone
cdef void free_frame(mem* m, folio_idx_t pfn) noexcept nogil
# writeback queues
cdef void wb_submit(mem* m, int queue, folio_idx_t pfn, int64_t done_ns) noexcept nogil
cdef void advise_huge(void* p, size_t size) noexcept nogil                          # MADV_HUGEPAGE on the 2 MiB-aligned interior (a hint)
cdef void populate_write(void* p, size_t size) noexcept nogil                        # MADV_POPULATE_WRITE on the page-aligned interior (a hint)
cdef void wb_cancel(mem* m, folio_idx_t pfn) noexcept nogil                           # drop a freed folio's queued completion
# --- added by the engine core (core.pyx) -----------------------------------------
cdef uint64_t int_sqrt(uint64_t x) noexcept nogil                                      # lib/math/int_sqrt.c
cdef void folio_mark_dirty(mem* m, folio_idx_t pfn) noexcept nogil                     # PG_dirty (+ NR_DIRTY for file folios)
cdef void folio_clear_dirty(mem* m, folio_idx_t pfn) noexcept nogil
cdef void folio_start_writeback(mem* m, folio_idx_t pfn, int queue, int64_t latency) noexcept nogil  # clears dirty, PG_writeback, queued
cdef int folio_free_swap(mem* m, folio_idx_t pfn) noexcept nogil                       # drop the swap slot of a mapped swap-cache folio; 1 if done
cdef int64_t wakeup_flusher_threads(mem* m) noexcept nogil                             # write back every dirty file folio; returns folios queued
cdef uint32_t mm_of_owner(uint32_t owner) noexcept nogil                               # anon owner -> mm id (0, 1: the M / X address spaces, 2: the system's)
cdef void prefetch_rmap(mem* m, folio_idx_t pfn, int stage) noexcept nogil            # reclaim batch: stage 0 hash slots, 1 PTEs
cdef folio_idx_t folio_page(mem* m, folio_idx_t head, int64_t i) noexcept nogil        # page i of the folio at head (a tail: from the page cache)
cdef uint64_t pc_replace(mem* m, uint32_t file, uint64_t pgoff, uint64_t entry) noexcept nogil  # store over a present entry, return it
