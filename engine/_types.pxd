# Shared typedefs, enums and constants of the engine. See core.pxd for the
# machine state and policy.pxd for the reclaim-policy interface.
#
# Enum orders are part of the serialized state and of the event ring: append,
# never reorder. Every enum here has a name table in engine/names.py in the
# same order (tests/engine/test_names.py checks the lengths).

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

ctypedef int32_t folio_idx_t     # index into mem.folios: pfn for frames, >= nr_frames for list heads
ctypedef int64_t seq_t           # MGLRU sequence number
ctypedef uint64_t shadow_t       # packed shadow entry (see core.pxd: SHADOW_*)

# --- constants (spec §1.5) ---------------------------------------------------
cdef enum:
    DEF_PRIORITY = 12
    SWAP_CLUSTER_MAX = 32
    MIN_SWAPPINESS = 0
    MAX_SWAPPINESS = 200
    SWAPPINESS_ANON_ONLY = 201
    MAX_RECLAIM_RETRIES = 16
    MIN_NR_GENS = 2
    MAX_NR_GENS = 4
    MAX_NR_TIERS = 4
    LRU_REFS_WIDTH = 2
    MIN_LRU_BATCH = 64
    MAX_LRU_BATCH = 4096
    NR_HIST_GENS = 1
    PTRS_PER_PTE = 512           # PTEs per page-table page (one PMD entry)
    NR_LIST_HEADS = 24           # sentinel folios reserved after the frames

# --- LRU lists, indexed as the kernel does: 2*file + active -----------------
cdef enum lru_list:
    LRU_INACTIVE_ANON = 0
    LRU_ACTIVE_ANON = 1
    LRU_INACTIVE_FILE = 2
    LRU_ACTIVE_FILE = 3
    LRU_UNEVICTABLE = 4
    NR_LRU_LISTS = 5

cdef enum:
    LRU_GEN_ANON = 0
    LRU_GEN_FILE = 1
    ANON_AND_FILE = 2

# --- folio flags (bits of folio.flags) ---------------------------------------
cdef enum:
    PG_lru = 1 << 0
    PG_active = 1 << 1
    PG_referenced = 1 << 2
    PG_workingset = 1 << 3
    PG_swapbacked = 1 << 4       # anon (and shmem): anon LRU
    PG_dirty = 1 << 5
    PG_writeback = 1 << 6
    PG_reclaim = 1 << 7
    PG_unevictable = 1 << 8
    PG_mlocked = 1 << 9
    PG_swapcache = 1 << 10
    PG_locked = 1 << 11
    PG_anon = 1 << 12            # folio_test_anon(): anonymous memory (rmap by mm/vpn)
    PG_readahead = 1 << 13
    PG_tail = 1 << 14            # a tail page of a large folio: its `next` is the head's pfn (struct page's compound_head)
    # Not a kernel bit: compaction migrated this folio. The kernel's copy sits on a page
    # the free scanner found above the migrate scanner; the engine keeps the frame, and
    # this bit keeps the migrate scanner from taking the folio again until it is freed
    FOLIO_MIGRATED = 1 << 15
    # Not a kernel bit: a tmpfs (shmem) folio of the booted system that no process
    # maps. The kernel tells shmem by its mapping (swap-backed, not folio_test_anon());
    # until it is in the swap cache, reclaim under memalloc_nofs_save() cannot write
    # it (may_enter_fs())
    FOLIO_SHMEM = 1 << 21
    # MGLRU bit fields inside flags, as LRU_GEN_PGOFF / LRU_REFS_PGOFF
    LRU_GEN_PGOFF = 16           # 3 bits: gen + 1 while on a generation list, 0 otherwise
    LRU_GEN_MASK = 7 << 16
    LRU_REFS_PGOFF = 19          # 2 bits: refs field
    LRU_REFS_MASK = 3 << 19
    # 7.3 large folios (docs/kernels.md "Large folios"): the head page of a folio
    # page_cache_ra_order() made of 1 << order pages keeps the order here and all
    # the folio's state; its tail pages (PG_tail) keep the order too, and nothing else
    FOLIO_ORDER_PGOFF = 24       # 4 bits: folio_order(), 0 for a small folio
    FOLIO_ORDER_MASK = 15 << 24
    MAX_PAGECACHE_ORDER = 9      # x86-64: HPAGE_PMD_ORDER, ext4's cap with 4 KiB blocks
    PAGEVEC_SIZE = 31            # include/linux/folio_batch.h (15 in 6.1's pagevec.h)

# --- PTE encoding (uint32): flags in the top bits, pfn or swap slot below ----
cdef enum:
    PTE_PRESENT = 1 << 31        # maps a frame: low bits = pfn
    PTE_SWAP = 1 << 30           # swap entry: low bits = swap slot
    PTE_YOUNG = 1 << 29          # hardware accessed bit
    PTE_DIRTY = 1 << 28          # hardware dirty bit
    PTE_PFN_MASK = (1 << 28) - 1

# --- workload access ops (the trace format v1 letters) -----------------------
cdef enum access_op:
    OP_ANON = 0      # A <mm> <vpn> [w]
    OP_READ = 1      # R <file> <pgoff>
    OP_WRITE = 2     # W <file> <pgoff>
    OP_MMAP = 3      # M <file> <pgoff> [w]
    OP_EXEC = 4      # X <file> <pgoff>
    OP_EXIT = 5      # U <mm>

# --- reclaimer identity ------------------------------------------------------
cdef enum reclaimer:
    RECLAIMER_NONE = 0
    RECLAIMER_KSWAPD = 1
    RECLAIMER_DIRECT = 2
    RECLAIMER_DEBUGFS = 3        # lru_gen '-' command (proactive)

# --- folio_check_references() outcomes ---------------------------------------
cdef enum folioref:
    FOLIOREF_RECLAIM = 0
    FOLIOREF_RECLAIM_CLEAN = 1
    FOLIOREF_KEEP = 2
    FOLIOREF_ACTIVATE = 3

# --- event locations (event.src / event.dst) ---------------------------------
# 0..4 are enum lru_list; LOC_GEN means "generation src_seq/dst_seq of the
# folio's type"; the others are places a folio can be outside the LRU.
cdef enum loc:
    LOC_GEN = 5
    LOC_ISOLATED = 6
    LOC_FREE = 7
    LOC_SWAP = 8                 # on the swap device (shadow in swap slot)
    LOC_PAGECACHE_SHADOW = 9     # evicted file folio: shadow in the page cache
    LOC_STORAGE = 10             # never cached / shadow dropped
    LOC_NONE = 11

# --- vmstat items: /proc/vmstat names are the lower-case enum names (names.py).
# Gauges first (kept up to date incrementally), then event counters.
cdef enum vmstat_item:
    NR_FREE_PAGES = 0
    NR_INACTIVE_ANON
    NR_ACTIVE_ANON
    NR_INACTIVE_FILE
    NR_ACTIVE_FILE
    NR_UNEVICTABLE
    NR_ISOLATED_ANON
    NR_ISOLATED_FILE
    NR_ANON_PAGES
    NR_MAPPED
    NR_FILE_PAGES
    NR_DIRTY
    NR_WRITEBACK
    NR_SWAPCACHED
    WORKINGSET_NODES
    PGPGIN
    PGPGOUT
    PSWPIN
    PSWPOUT
    PGFAULT
    PGMAJFAULT
    PGACTIVATE
    PGDEACTIVATE
    PGLAZYFREE
    PGLAZYFREED
    PGREFILL
    PGSTEAL_KSWAPD
    PGSTEAL_DIRECT
    PGSCAN_KSWAPD
    PGSCAN_DIRECT
    PGSCAN_DIRECT_THROTTLE
    PGSCAN_ANON
    PGSCAN_FILE
    PGSTEAL_ANON
    PGSTEAL_FILE
    PGROTATED
    PGSKIP_DMA32                 # the zone above ZONE_DMA (core.pxd pgskip_item())
    ALLOCSTALL_MOVABLE           # do_try_to_free_pages(): reclaim_idx = gfp_zone(GFP_HIGHUSER_MOVABLE)
    PAGEOUTRUN
    KSWAPD_LOW_WMARK_HIT_QUICKLY
    KSWAPD_HIGH_WMARK_HIT_QUICKLY
    WORKINGSET_REFAULT_ANON
    WORKINGSET_REFAULT_FILE
    WORKINGSET_ACTIVATE_ANON
    WORKINGSET_ACTIVATE_FILE
    WORKINGSET_RESTORE_ANON
    WORKINGSET_RESTORE_FILE
    WORKINGSET_NODERECLAIM
    NR_VMSCAN_WRITE
    NR_VMSCAN_IMMEDIATE_RECLAIM
    UNEVICTABLE_PGS_CULLED
    UNEVICTABLE_PGS_SCANNED
    UNEVICTABLE_PGS_RESCUED
    OOM_KILL
    PGMIGRATE_SUCCESS
    PGROTATE_ANON                # 7.3 only: reclaim's rotations, the cost model's input
    PGROTATE_FILE
    PGSKIP_DMA
    NR_VMSTAT_ITEMS

# --- event kinds (tracepoint / vmstat vocabulary; names.py EVENT_KINDS) ------
cdef enum ev_kind:
    EV_PGFAULT = 0               # minor fault: folio mapped
    EV_PGMAJFAULT                # fault that needed I/O
    EV_LRU_ADD                   # mm_lru_insertion: lru_add / lruvec_add_folio
    EV_PGACTIVATE                # inactive -> active (or into max_seq)
    EV_PGDEACTIVATE              # active -> inactive
    EV_PGROTATED                 # moved to the inactive tail (writeback done / deactivate_file)
    EV_ISOLATE                   # mm_vmscan_lru_isolate: taken from the tail onto the private list
    EV_PUTBACK                   # move_folios_to_lru: back on a list (keep / rotate)
    EV_PGSTEAL                   # freed by reclaim
    EV_PSWPOUT                   # written to swap (add_to_swap + pageout)
    EV_WRITE_FOLIO               # mm_vmscan_write_folio: pageout() handed it to the writer
    EV_IMMEDIATE_RECLAIM         # nr_vmscan_immediate_reclaim: dirty file folio tagged PG_reclaim
    EV_WRITEBACK_END             # folio_end_writeback
    EV_PSWPIN                    # read back from swap
    EV_WORKINGSET_REFAULT        # shadow entry found on fault / read
    EV_WORKINGSET_ACTIVATE       # refault judged recent
    EV_WORKINGSET_RESTORE        # refault of a folio that was in the workingset
    EV_PGREFILL                  # MGLRU sort_folio re-filed the folio instead of isolating it
    EV_FOLIO_UPDATE_GEN          # MGLRU page-table walk / look-around saw a young PTE
    EV_FOLIO_INC_GEN             # MGLRU folio_inc_gen: moved to min_seq + 1
    EV_INC_MAX_SEQ               # MGLRU aging produced a new youngest generation
    EV_INC_MIN_SEQ               # MGLRU oldest generation retired
    EV_KSWAPD_WAKE               # mm_vmscan_kswapd_wake
    EV_KSWAPD_SLEEP              # mm_vmscan_kswapd_sleep
    EV_DIRECT_RECLAIM_BEGIN      # mm_vmscan_direct_reclaim_begin
    EV_DIRECT_RECLAIM_END        # mm_vmscan_direct_reclaim_end
    EV_SHRINK_ACTIVE             # mm_vmscan_lru_shrink_active (batch summary)
    EV_SHRINK_INACTIVE           # mm_vmscan_lru_shrink_inactive (batch summary)
    EV_MARK_ACCESSED             # folio_mark_accessed / lru_gen_inc_refs changed flags
    EV_REFERENCED                # folio_referenced(): young PTEs tested and cleared
    EV_FREE                      # folio freed outside reclaim (process exit)
    EV_OOM_KILL                  # oom_kill
    EV_UNEVICTABLE               # unevictable_pgs_culled
    EV_ACCESS                    # one workload access (hit: no folio moved)
    EV_EXTFRAG                   # mm_page_alloc_extfrag: an allocation fell back to another migratetype's free page
    EV_NODERECLAIM               # workingset_nodereclaim: the shadow shrinker freed a node of shadows
    NR_EV_KINDS

# --- kernel functions that decide (names.py KERNEL_FNS) ----------------------
cdef enum kfn:
    FN_NONE = 0
    FN_HANDLE_MM_FAULT
    FN_DO_ANONYMOUS_PAGE
    FN_DO_SWAP_PAGE
    FN_FILEMAP_FAULT
    FN_FILEMAP_READ
    FN_LRU_ADD
    FN_FOLIO_MARK_ACCESSED
    FN_LRU_ACTIVATE
    FN_WORKINGSET_REFAULT
    FN_WORKINGSET_EVICTION
    FN_ISOLATE_LRU_FOLIOS
    FN_SHRINK_ACTIVE_LIST
    FN_SHRINK_INACTIVE_LIST
    FN_SHRINK_FOLIO_LIST
    FN_FOLIO_CHECK_REFERENCES
    FN_MOVE_FOLIOS_TO_LRU
    FN_PAGEOUT
    FN_REMOVE_MAPPING            # __remove_mapping
    FN_FOLIO_ROTATE_RECLAIMABLE
    FN_FOLIO_END_WRITEBACK
    FN_WAKEUP_KSWAPD
    FN_BALANCE_PGDAT
    FN_KSWAPD_TRY_TO_SLEEP
    FN_TRY_TO_FREE_PAGES
    FN_OUT_OF_MEMORY
    FN_EXIT_MMAP
    FN_LRU_GEN_ADD_FOLIO
    FN_LRU_GEN_INC_REFS
    FN_FOLIO_UPDATE_GEN
    FN_LRU_GEN_LOOK_AROUND
    FN_LRU_GEN_SET_REFS
    FN_INC_MAX_SEQ
    FN_INC_MIN_SEQ
    FN_TRY_TO_INC_MIN_SEQ
    FN_SORT_FOLIO
    FN_ISOLATE_FOLIO
    FN_SCAN_FOLIOS
    FN_EVICT_FOLIOS
    FN_LRU_GEN_REFAULT
    FN_LRU_GEN_EVICTION
    FN_WALK_MM
    FN_FOLIO_INC_GEN
    FN_PAGE_CACHE_RA_UNBOUNDED
    FN_FILEMAP_MAP_PAGES
    FN_PAGE_CACHE_RA_ORDER
    FN_FOLIO_INC_REFS            # before v6.14: folio_mark_accessed() under MGLRU (6.1/6.12 swap.c)
    FN_RMQUEUE_FALLBACK
    FN_SHADOW_LRU_ISOLATE
    NR_KFNS

# --- decision reasons (names.py REASONS holds the sentence shown to people) --
cdef enum ev_reason:
    R_NONE = 0
    R_FAULT_ANON                 # first touch of an anon page
    R_FAULT_FILE                 # page-cache miss through a mapping
    R_READ_MISS                  # page-cache miss through read()/write()
    R_HIT                        # resident: access recorded, nothing moved
    R_SWAPIN                     # swap entry in the PTE
    R_SWAPCACHE_HIT              # folio still in the swap cache: minor fault
    R_REFAULT_RECENT             # workingset_test_recent: refault distance <= workingset size
    R_REFAULT_NOT_RECENT
    R_REFAULT_WORKINGSET         # shadow carried PG_workingset
    R_ACCESSED_FIRST             # folio_mark_accessed: PG_referenced set
    R_ACCESSED_ACTIVATE          # folio_mark_accessed: referenced twice -> active
    R_REFS_INC                   # lru_gen_inc_refs / folio_inc_refs: refs += 1 (tier may rise)
    R_REFS_WORKINGSET            # lru_gen_inc_refs: refs saturated -> PG_workingset
    R_FOLIOREF_ACTIVATE_TWICE    # young PTE and PG_referenced: referenced twice
    R_FOLIOREF_ACTIVATE_MULTI    # young in more than one VMA
    R_FOLIOREF_ACTIVATE_EXEC     # file folio young in a VM_EXEC mapping
    R_FOLIOREF_ACTIVATE_LOCKED   # VM_LOCKED
    R_FOLIOREF_KEEP              # young once, first sighting: PG_referenced set, rotate
    R_FOLIOREF_RECLAIM           # no young PTE
    R_FOLIOREF_RECLAIM_CLEAN     # only PG_referenced: free only if clean
    R_DEACTIVATE                 # shrink_active_list: deactivated (PG_workingset set)
    R_EXEC_ROTATE                # shrink_active_list: exec file folio kept active
    R_DIRTY_IMMEDIATE            # dirty file folio: PG_reclaim, activate, flusher writes it
    R_WRITEBACK_ACTIVATE         # under writeback: PG_reclaim, activate
    R_PAGEOUT_ASYNC              # written; stays until writeback completes
    R_PAGEOUT_SYNC               # written synchronously; freed now
    R_SWAP_FULL                  # add_to_swap failed: activate
    R_CLEAN_SWAPCACHE            # clean swap-cache folio: freed without I/O
    R_FREED                      # __remove_mapping: freed, shadow stored
    R_WRITEBACK_ROTATE           # PG_reclaim folio done with writeback: to the inactive tail
    R_INACTIVE_LOW               # inactive_is_low(): deactivate anon
    R_GEN_PROMOTED               # sort_folio: gen field was bumped by aging
    R_GEN_PROTECTED              # sort_folio: tier above tier_idx
    R_GEN_LAZY_PROMOTED          # sort_folio: refs saturated + PG_workingset
    R_GEN_INELIGIBLE             # sort_folio: not evictable now
    R_GEN_WRITEBACK              # sort_folio: dirty or under writeback -> min_seq + 1, PG_reclaim
    R_SET_REFS_KEEP              # lru_gen_set_refs: first young sighting -> keep
    R_SET_REFS_ACTIVATE          # lru_gen_set_refs: young again -> max_seq
    R_WALK_FIRST_SIGHTING        # folio_update_gen: first young PTE only sets PG_referenced
    R_WALK_PROMOTE               # folio_update_gen: young again -> gen of max_seq
    R_LOOK_AROUND                # young neighbour found by lru_gen_look_around
    R_INC_MIN_SEQ                # inc_min_seq: oldest generation moved up (protected)
    R_RETRY                      # evict_folios: clean unmapped survivor retried once
    R_REJECTED                   # evict_folios: survivor not put back into min_seq
    R_PROCESS_EXIT               # exit_mmap: the address space went away
    R_OOM                        # nothing reclaimable: a process was killed
    R_NO_RECLAIM_CONTEXT         # isolation refused (locked / !may_unmap ...)
    R_LRU_GEN_REFAULT_RECENT     # lru_gen_test_recent: < MAX_NR_GENS gens since eviction
    R_LRU_GEN_REFAULT_NOT_RECENT # lru_gen_test_recent: >= MAX_NR_GENS gens since eviction
    R_UNMAP_FAIL                 # shrink_folio_list: try_to_unmap() left a mapping: activate
    R_READAHEAD                  # read in by readahead (page_cache_sync_ra/async_ra, mmap read-around)
    R_NOT_PROTECTED              # sort_folio: not promoted, tier not above tier_idx: isolated
    R_FAULT_AROUND               # read fault on a cached page: filemap_map_pages() mapped it and its neighbours
    R_FOLIO_LOCKED               # shrink_folio_list: folio_trylock() failed, readahead's read still in flight
    R_ZONE_SKIP                  # isolate_lru_folios / sort_folio: zone above sc->reclaim_idx
    R_WATERMARK_BOOST            # kswapd woken for ZONE_DMA alone: its watermarks were boosted
    R_MIGRATED                   # compaction migrated it: off its list, back with its flags (folio_add_lru)
    R_REFS_SECOND                # folio_inc_refs (before v6.14): second access -> PG_workingset
    R_REFAULT_SAME_MIN_SEQ       # lru_gen_refault (before v6.14): min_seq unchanged since eviction
    R_REFAULT_MIN_SEQ_MOVED      # lru_gen_refault (before v6.14): min_seq moved since eviction
    R_FALLBACK_STEAL             # __rmqueue_fallback: another migratetype's free page, moved whole to the movable list
    R_FALLBACK_CLAIM             # __rmqueue_fallback: ... and its pageblock claimed for the movable type
    R_WATERMARK_BOOST_NORMAL     # kswapd woken with ZONE_NORMAL's watermarks boosted: reclaims past the high mark
    R_NOFS_KEEP                  # shrink_folio_list: a dirty tmpfs folio, reclaim without __GFP_FS (may_enter_fs)
    R_LRU_GEN_KEEP_REFERENCED    # shrink_folio_list (before v6.14): mapped and PG_referenced, kept unlooked-at
    R_SHADOW_NODES_OVER          # count_shadow_nodes(): more shadow-only nodes than one per 8 LRU pages
    NR_REASONS
