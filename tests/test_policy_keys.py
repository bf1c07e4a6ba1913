"""No code outside a policy's own files tests a policy's key: what differs
between policies comes from their descriptions (engine/registry.py). The
wire names that are debugfs file names (the `lru_gen` message and frame
field, docs/protocol.md) are not tests of a key and are not matched."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = r"""["'](?:lru|lru_gen|clock|clock_py|s3fifo)["']"""
TEST = re.compile(rf"""(?:[=!]==?\s*{KEY})|(?:{KEY}\s*(?:[=!]==?|in\s))|(?:case\s+{KEY}\s*:)""")


def _sources():
    for pattern in ("backend/**/*.py", "frontend/js/**/*.js", "engine/*.py", "engine/*.pyx"):
        for f in ROOT.glob(pattern):
            rel = f.relative_to(ROOT).as_posix()
            # a policy's own files may name themselves
            if rel.startswith(("engine/lru_gen", "engine/lru.", "engine/lru_info", "engine/clock")):
                continue
            yield rel, f.read_text()


def test_no_policy_key_is_tested_outside_its_own_files():
    hits = []
    for rel, text in _sources():
        for n, line in enumerate(text.splitlines(), 1):
            if TEST.search(line) and "case \"lru_gen\":" not in line:   # the protocol message
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert hits == [], "\n".join(hits)
