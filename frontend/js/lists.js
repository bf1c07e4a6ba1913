// The lists in kernel order (enum lru_list: 2*file + active, then unevictable).
export const LRU_LISTS = Object.freeze([
  "LRU_INACTIVE_ANON",
  "LRU_ACTIVE_ANON",
  "LRU_INACTIVE_FILE",
  "LRU_ACTIVE_FILE",
  "LRU_UNEVICTABLE",
]);
