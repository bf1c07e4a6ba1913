"""Server settings: the data directory and every limit, overridable from the
environment as RECLAIMLAB_<NAME> (e.g. RECLAIMLAB_MAX_FRAMES=1048576).

The data directory comes from RECLAIMLAB_DATA (the CLI's `serve --data`
sets it); the default is ./data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

MiB = 1 << 20


def _default_max_count() -> dict[str, int]:
    return {"access": 10_000_000, "scan": 100_000, "shrink": 100_000, "aging": 1_000}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    max_frames: int = 4 * MiB                 # RAM frames per machine
    max_accesses: int = 20_000_000            # accesses per workload
    max_trace_bytes: int = 64 * MiB           # upload size
    max_live_sessions: int = 32               # sessions kept in memory (LRU beyond that)
    idle_seconds: float = 600.0               # idle sessions dropped from memory
    max_count: dict = field(default_factory=_default_max_count)
    max_ws_message: int = 65536               # bytes per client message
    max_events_per_frame: int = 4096
    max_history_events: int = 1 << 16         # folio events kept per pane (~88 B each)
    max_history_per_folio: int = 256          # events of one folio sent by `inspect`
    history_replay_s: float = 20.0            # rebuild a folio history by replay if step 0 -> cursor
                                              # cost at most this much engine time when measured
    checkpoint_every: int = 4096              # steps between checkpoints, at most
    # A seek = load a checkpoint (~35-45 ms at 1 Mi frames) + replay (at most
    # checkpoint_replay_ms of engine time, as measured when the steps were
    # applied) + one step + the state frame (~15-20 ms): <= 200 ms. A 10 M-
    # access history at 1 Mi frames holds 20-34 checkpoints of ~45 MB (0.9-1.5 GiB).
    checkpoint_replay_ms: float = 100.0       # engine time between checkpoints
    checkpoint_accesses: int = 512 << 10      # accesses between checkpoints, at most (~60-100 ms of replay)
    checkpoint_chunk: int = 1 << 16           # accesses per run-ahead/replay chunk (checkpoints land between)
    checkpoint_budget_bytes: int = 1536 * MiB  # per session
    checkpoint_total_bytes: int = 6144 * MiB  # all live sessions (each gets an equal share)
    order_layout_max_frames: int = 16384      # above: per-frame location array
    # Small steps of sessions with at most this many frames (all panes) run
    # on the event loop instead of a worker thread (docs/server.md); 0: never.
    inline_max_frames: int = 32768
    # ... and one-unit steps of sessions with up to this many frames, while
    # theirs is the server's only open connection (docs/server.md); 0: never.
    inline_alone_max_frames: int = 2 << 20
    # The owner's next step computed ahead for sessions with at most this
    # many frames (all panes; protocol.md §3.6): ~7 ms of engine copies a
    # step at 16 Ki frames, ~64x that at 1 Mi; 0: never.
    peek_max_frames: int = 32768
    # --- reliability (docs/server.md "Limits and admission")
    # Estimated bytes of all live sessions (engines, swap maps, page cache,
    # workloads, checkpoints); 0 = memory_budget_fraction of the machine's RAM.
    memory_budget_bytes: int = 0
    memory_budget_fraction: float = 0.5
    max_json_body: int = 1 * MiB              # a recipe is ~1 KB
    max_json_depth: int = 32                  # nesting of any JSON body or message
    max_trace_decompressed: int = 512 * MiB   # a trace after gzip/bzip2/xz/zstd
    max_trace_ratio: int = 200                # decompressed / compressed, above 1 MiB out
    store_on_damage: str = "move"             # "move" the damaged DB aside, or "refuse" to start
    park_idle_seconds: float = 120.0          # a connected session idle this long may be parked
    # --- `serve --workers N` (backend/workers.py): set by the server, not the environment
    workers: int = 1                          # processes serving this store
    worker_index: int = 0                     # which of them this is (owns ids routed to it)
    router_head_timeout: float = 10.0         # seconds the router waits for a request head

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        s = cls(data_dir=Path(os.environ.get("RECLAIMLAB_DATA", "data")))
        env = {}
        for f in fields(cls):
            if f.name in ("data_dir", "max_count", "workers", "worker_index"):
                continue
            raw = os.environ.get("RECLAIMLAB_" + f.name.upper())
            if raw is not None:
                env[f.name] = type(getattr(s, f.name))(raw)
        raw = os.environ.get("RECLAIMLAB_MAX_COUNT")
        if raw:  # "access=1000,scan=10"
            mc = dict(s.max_count)
            for part in raw.split(","):
                k, _, v = part.partition("=")
                mc[k.strip()] = int(v)
            env["max_count"] = mc
        env.update(overrides)
        if "data_dir" in env:
            env["data_dir"] = Path(env["data_dir"])
        return replace(s, **env)

    def budget_bytes(self) -> int:
        if self.memory_budget_bytes > 0:
            return self.memory_budget_bytes
        return int(machine_ram_bytes() * self.memory_budget_fraction)

    def for_worker(self, index: int, workers: int) -> "Settings":
        """This server's settings for worker `index` of `workers`: each
        admits against an equal share of the memory budget, of the checkpoint
        memory and of max_live_sessions, so that together they keep to what
        one process would."""
        if workers <= 1:
            return self
        return replace(self, workers=workers, worker_index=index,
                       memory_budget_bytes=max(1, self.budget_bytes() // workers),
                       checkpoint_total_bytes=max(1, self.checkpoint_total_bytes // workers),
                       max_live_sessions=max(1, -(-self.max_live_sessions // workers)))

    def public_limits(self) -> dict:
        return {
            "max_frames": self.max_frames,
            "max_accesses": self.max_accesses,
            "max_trace_bytes": self.max_trace_bytes,
            "max_live_sessions": self.max_live_sessions,
            "idle_seconds": self.idle_seconds,
            "max_count": dict(self.max_count),
            "max_ws_message": self.max_ws_message,
            "max_events_per_frame": self.max_events_per_frame,
            "max_json_body": self.max_json_body,
            "max_json_depth": self.max_json_depth,
            "max_trace_decompressed": self.max_trace_decompressed,
            "memory_budget_bytes": self.budget_bytes(),
            # which process answers (`serve --workers N`): the limits above are its share
            "worker": {"index": self.worker_index, "workers": self.workers, "pid": os.getpid()},
        }


def machine_ram_bytes() -> int:
    """MemTotal (or the cgroup's memory.max, when lower)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        raw = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if raw.isdigit():
            total = min(total, int(raw))
    except OSError:
        pass
    return total
