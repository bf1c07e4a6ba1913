"""Kernel profiles: which Debian kernel release the engine imitates.

A profile is a small table of facts; the engine branches on its ``version``
code (major * 100 + minor, so ``m.kernel < 614`` reads "before v6.14") at the
few points where reclaim changed between the releases. docs/kernels.md lists
every branch with the kernel function and the release it changed in; the
real-kernel rig's recorded counters for each profile are in validation/.
"""
from __future__ import annotations

__all__ = ["DEFAULT_KERNEL", "GUEST_MIN_AVAILABLE_PAGES", "KERNELS", "guest_machine", "kernel_version"]

# key -> facts. "debian" is the package the real-kernel rig boots (its uname -r);
# "source" the linux-source package whose mm/ the branches were read from.
KERNELS = {
    "6.1": {"version": 601, "release": "6.1.192", "debian": "6.1.0-56-amd64",
            "source": "linux-source-6.1 6.1.192-3",
            "title": "Linux 6.1 (Debian 12 bookworm)",
            "boot": {"free_over_available_pages": -1595, "system_pages": 1730}},
    "6.12": {"version": 612, "release": "6.12.117", "debian": "6.12.117+deb13-amd64",
             "source": "linux-source-6.12 6.12.117-1",
             "title": "Linux 6.12 (Debian 13 trixie)",
             "boot": {"free_over_available_pages": 403, "system_pages": 1804}},
    "7.3": {"version": 703, "release": "7.3.4", "debian": "7.3.4+deb13-amd64",
            "source": "linux-source-7.3 7.3.4-1~bpo13+1",
            "title": "Linux 7.3 (Debian 13 trixie-backports)",
            "boot": {"free_over_available_pages": 434, "system_pages": 1915}},
}
DEFAULT_KERNEL = "7.3"

# "boot": what a booted Debian guest of that release holds beside the memory
# available to a workload, measured on the real-kernel rig (validation/real/*.csv,
# each replay's MEMINFO_MARK start line, means over 28-48 boots at MemAvailable
# ~64 MiB; the spread is under 0.03 MiB):
#   free_over_available_pages  MemFree - MemAvailable. si_mem_available() takes
#       totalreserve_pages (watermarks + lowmem_reserve) out of MemFree and adds
#       the reclaimable slab, which the engine has no model of: 6.1 boots with
#       ~9.7 MiB of it (-6.2 MiB), 6.12 and 7.3 with ~1 MiB (+1.6 / +1.7 MiB).
#   system_pages  Shmem + AnonPages: the guest's tmpfs and init, swappable, idle.
# docs/kernels.md "Boot footprint".


# Below 64 MiB (the rig's guests, and where the engine starts modelling ZONE_DMA)
# the machine is bare: ~7.5 MiB of system pages would be most of a teaching
# example's memory.
GUEST_MIN_AVAILABLE_PAGES = 16384


def guest_machine(key: str, available_pages: int) -> dict:
    """The config keys of a guest of profile `key` on which `available_pages`
    are available to the workload when it starts (MemAvailable, the way the
    real-kernel rig sizes its guests): the frames the workload can take once
    the system's pages are swapped out, and those pages, faulted in at boot.
    Below GUEST_MIN_AVAILABLE_PAGES, exactly `available_pages` frames."""
    if available_pages < GUEST_MIN_AVAILABLE_PAGES:
        return {"ram_pages": available_pages, "system_pages": 0}
    boot = KERNELS[key]["boot"]
    system = boot["system_pages"]
    return {"ram_pages": available_pages + boot["free_over_available_pages"] + system,
            "system_pages": system}


def kernel_version(key: str) -> int:
    """The version code the engine branches on (601, 612, 703)."""
    return KERNELS[key]["version"]
