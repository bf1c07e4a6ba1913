"""Kernel profiles: which Debian kernel release the engine imitates.

A profile is a small table of facts; the engine branches on its ``version``
code (major * 100 + minor, so ``m.kernel < 614`` reads "before v6.14") at the
few points where reclaim changed between the releases. docs/kernels.md lists
every branch with the kernel function and the release it changed in; the
real-kernel rig's recorded counters for each profile are in validation/.
"""
from __future__ import annotations

__all__ = ["DEFAULT_KERNEL", "KERNELS", "kernel_version"]

# key -> facts. "debian" is the package the real-kernel rig boots (its uname -r);
# "source" the linux-source package whose mm/ the branches were read from.
KERNELS = {
    "6.1": {"version": 601, "release": "6.1.192", "debian": "6.1.0-56-amd64",
            "source": "linux-source-6.1 6.1.192-3",
            "title": "Linux 6.1 (Debian 12 bookworm)"},
    "6.12": {"version": 612, "release": "6.12.117", "debian": "6.12.117+deb13-amd64",
             "source": "linux-source-6.12 6.12.117-1",
             "title": "Linux 6.12 (Debian 13 trixie)"},
    "7.3": {"version": 703, "release": "7.3.4", "debian": "7.3.4+deb13-amd64",
            "source": "linux-source-7.3 7.3.4-1~bpo13+1",
            "title": "Linux 7.3 (Debian 13 trixie-backports)"},
}
DEFAULT_KERNEL = "7.3"


def kernel_version(key: str) -> int:
    """The version code the engine branches on (601, 612, 703)."""
    return KERNELS[key]["version"]
