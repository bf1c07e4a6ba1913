"""No code outside a policy's own files tests a policy's key: what differs
between policies comes from their descriptions (engine/registry.py). The
wire names that are debugfs file names (the `lru_gen` message and frame
field, docs/protocol.md) are not tests of a key and are not matched."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = r"""["'](?:lru|lru_gen|clock|clock_py|s3fifo)["']"""
# a comparison with a key, membership ("lru_gen" not in policies), or a
# lookup by key (policies.index("lru_gen"), panes.includes("lru"))
TEST = re.compile(rf"""(?:[=!]==?\s*{KEY})|(?:{KEY}\s*(?:[=!]==?|(?:not\s+)?in\s))|(?:case\s+{KEY}\s*:)"""
                  rf"""|(?:\.(?:index|includes|has|count|startswith)\(\s*{KEY})""")


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


def test_the_key_test_finds_what_it_forbids():
    for line in ('if unit == "aging" and "lru_gen" not in self.policies:',
                 'return self.policies.index("lru_gen")', 'p.policy === "lru"',
                 'if (kinds.includes("lru_gen")) x();', "if policy != 'lru':"):
        assert TEST.search(line), line
    assert not TEST.search('"lru_gen": sim.lru_gen_text() if self.infos[k].debugfs else None,')
