// folio.flags bits, mirroring engine/_types.pxd (PG_* and the MGLRU fields).
export const FLAGS = Object.freeze({
  PG_lru: 1 << 0,
  PG_active: 1 << 1,
  PG_referenced: 1 << 2,
  PG_workingset: 1 << 3,
  PG_swapbacked: 1 << 4,
  PG_dirty: 1 << 5,
  PG_writeback: 1 << 6,
  PG_reclaim: 1 << 7,
  PG_unevictable: 1 << 8,
  PG_mlocked: 1 << 9,
  PG_swapcache: 1 << 10,
  PG_locked: 1 << 11,
  PG_anon: 1 << 12,
  PG_readahead: 1 << 13,
  PG_tail: 1 << 14,
  // Not a kernel bit: compaction migrated the folio (engine/_types.pxd FOLIO_MIGRATED).
  FOLIO_MIGRATED: 1 << 15,
  LRU_GEN_PGOFF: 16,
  LRU_GEN_MASK: 7 << 16,
  LRU_REFS_PGOFF: 19,
  LRU_REFS_MASK: 3 << 19,
  // Not a kernel bit: the server ORs it in when any PTE mapping the folio is young.
  YOUNG: 1 << 30,
});
