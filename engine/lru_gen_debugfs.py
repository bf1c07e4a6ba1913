"""Parse and format the text of /sys/kernel/debug/lru_gen and lru_gen_full.

The format is mm/vmscan.c:lru_gen_seq_show() and lru_gen_seq_show_full():

    memcg %5hu %s            before the first node of a memcg
     node %5d
     %10lu %10u              seq, age in ms, then per type (anon, file):
      %10lu%c                pages and a marker (' ', or 'x' below min_seq in lru_gen_full)
    lru_gen_full only, after each generation line:
                %10d         tier (12 spaces first), then per type three
      %10lu%c                fields: R/T/x on max_seq, r/e/p on min_seq, else x
                          %10lu%c x4   the page-table walk line (22 spaces): T Y F A

parse_lru_gen(text) -> dict and format_lru_gen(dict) -> text are exact
inverses for every text the kernel (or the engine) prints.
"""

from __future__ import annotations

import re

__all__ = ["parse_lru_gen", "format_lru_gen"]

_MEMCG = re.compile(r"memcg (?P<id>[ \d]{5,}) (?P<path>.*)")
_NODE = re.compile(r" node (?P<nid>[ \d]{5,})")
_FIELD = r" ([ \d]{10,})(.)"
_GEN = re.compile(r" (?P<seq>[ \d]{10,}) (?P<age>[ \d]{10,})" + _FIELD + _FIELD)
_TIER = re.compile(r" {12}(?P<tier>[ \d]{10,})" + _FIELD * 6)
_WALK = re.compile(r" {22}" + _FIELD * 4)


def _fields(match, first_group: int, count: int) -> list:
    return [[int(match.group(first_group + 2 * i)), match.group(first_group + 2 * i + 1)]
            for i in range(count)]


def parse_lru_gen(text: str) -> dict:
    """Parse lru_gen / lru_gen_full text into
    {"memcgs": [{"id", "path", "nodes": [{"nid", "gens": [{"seq", "age_ms",
    "nr_pages": [anon, file], "marks": [c, c], "tiers": [[[n, c] x3 anon, [n, c] x3 file] x4],
    "mm_walk": [[n, c] x4]}]}]}]}; "tiers" and "mm_walk" only for lru_gen_full.
    Raises ValueError naming the line that does not fit the format."""
    out: dict = {"memcgs": []}
    gen = None
    node = None
    for lineno, line in enumerate(text.split("\n"), 1):
        if line == "" and lineno == len(text.split("\n")):
            break
        m = _MEMCG.fullmatch(line)
        if m:
            out["memcgs"].append({"id": int(m.group("id")), "path": m.group("path"), "nodes": []})
            node = gen = None
            continue
        m = _NODE.fullmatch(line)
        if m:
            if not out["memcgs"]:
                raise ValueError(f"line {lineno}: node before any memcg line")
            node = {"nid": int(m.group("nid")), "gens": []}
            out["memcgs"][-1]["nodes"].append(node)
            gen = None
            continue
        m = _WALK.fullmatch(line)
        if m:
            if gen is None:
                raise ValueError(f"line {lineno}: page-table walk line before a generation line")
            gen["mm_walk"] = _fields(m, 1, 4)
            continue
        m = _TIER.fullmatch(line)
        if m:
            if gen is None:
                raise ValueError(f"line {lineno}: tier line before a generation line")
            f = _fields(m, 2, 6)
            gen.setdefault("tiers", []).append({"tier": int(m.group("tier")), "anon": f[:3], "file": f[3:]})
            continue
        m = _GEN.fullmatch(line)
        if m:
            if node is None:
                raise ValueError(f"line {lineno}: generation line before a node line")
            gen = {"seq": int(m.group("seq")), "age_ms": int(m.group("age")),
                   "nr_pages": [int(m.group(3)), int(m.group(5))], "marks": [m.group(4), m.group(6)]}
            node["gens"].append(gen)
            continue
        raise ValueError(f"line {lineno}: not lru_gen format: {line!r}")
    return out


def format_lru_gen(data: dict) -> str:
    """The inverse of parse_lru_gen()."""
    out = []
    for memcg in data["memcgs"]:
        out.append("memcg %5d %s\n" % (memcg["id"], memcg["path"]))
        for node in memcg["nodes"]:
            out.append(" node %5d\n" % node["nid"])
            for gen in node["gens"]:
                out.append(" %10d %10d" % (gen["seq"], gen["age_ms"]))
                for n, c in zip(gen["nr_pages"], gen["marks"]):
                    out.append(" %10d%s" % (n, c))
                out.append("\n")
                for tier in gen.get("tiers", []):
                    out.append("            %10d" % tier["tier"])
                    for n, c in tier["anon"] + tier["file"]:
                        out.append(" %10d%s" % (n, c))
                    out.append("\n")
                if "mm_walk" in gen:
                    out.append("                      ")
                    for n, c in gen["mm_walk"]:
                        out.append(" %10d%s" % (n, c))
                    out.append("\n")
    return "".join(out)
