"""The internal import graph of cltk: modules, import edges between them, the longest import chain,
and the layer rules (cli -> analytics -> toolkit; toolkit imports neither; no analytics job package
imports another). Exit status 1 when a rule is broken. Works on this checkout or any other tree
with the same top folders (pass --root), and reads old layouts too (top-level toolkit/analytics/cli
imports) so figures before and after a change compare.

    python benchmarks/import_graph.py [--root .]
"""
from __future__ import annotations

import argparse
import ast
import sys
from functools import cache
from pathlib import Path

FOLDERS = {"toolkit": "cltk", "analytics": "cltk.analytics", "cli": "cltk.cli"}
OLD_NAMES = {"toolkit": "cltk", "analytics": "cltk.analytics", "cli": "cltk.cli"}


def module_name(root: Path, path: Path) -> str:
    top, *rest = path.relative_to(root).with_suffix("").parts
    parts = [FOLDERS[top], *rest]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _canon(name: str) -> str:
    head, _, tail = name.partition(".")
    if head in OLD_NAMES:
        return OLD_NAMES[head] + ("." + tail if tail else "")
    return name


def graph(root: Path) -> dict[str, set[str]]:
    """module -> internal modules it imports (at any depth in the file: lazy imports count)."""
    files = {module_name(root, p): p for top in FOLDERS for p in (root / top).rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for mod, path in files.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for n in names:
                n = _canon(n)
                while n and n not in files:
                    n = n.rpartition(".")[0]
                if n and n != mod:
                    out.add(n)
        edges[mod] = out
    return edges


def violations(edges: dict[str, set[str]], jobs: set[str]) -> list[str]:
    bad = []
    for mod, deps in edges.items():
        for d in deps:
            # cltk.__main__ (``python -m cltk``) is the command's entry point, not a library module
            if (not mod.startswith(("cltk.analytics", "cltk.cli")) and mod != "cltk.__main__"
                    and d.startswith(("cltk.analytics", "cltk.cli"))):
                bad.append(f"toolkit module {mod} imports {d}")
            if mod.startswith("cltk.analytics") and d.startswith("cltk.cli"):
                bad.append(f"analytics module {mod} imports {d}")
            job = next((j for j in jobs if mod == j or mod.startswith(j + ".")), None)
            other = next((j for j in jobs if d == j or d.startswith(j + ".")), None)
            if job and other and job != other:
                bad.append(f"job module {mod} imports another job's module {d}")
    return sorted(bad)


def longest_chain(edges: dict[str, set[str]]) -> int:
    @cache
    def depth(m: str, seen: frozenset = frozenset()) -> int:
        return 1 + max((depth(d, seen | {m}) for d in edges.get(m, ()) if d not in seen), default=0)

    return max(depth(m) for m in edges)


def job_packages(root: Path) -> set[str]:
    return {f"cltk.analytics.{p.parent.name}" for p in (root / "analytics").glob("*/__init__.py")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = ap.parse_args()
    edges = graph(args.root)
    an = {m: d for m, d in edges.items() if m.startswith("cltk.analytics")}
    print(f"modules {len(edges)}, internal imports {sum(map(len, edges.values()))}, "
          f"longest chain {longest_chain(edges)} modules")
    print(f"analytics: modules {len(an)}, imports inside analytics "
          f"{sum(1 for d in an.values() for x in d if x.startswith('cltk.analytics'))}, longest chain inside "
          f"analytics {longest_chain({m: {x for x in d if x in an} for m, d in an.items()})} modules")
    bad = violations(edges, job_packages(args.root))
    for b in bad:
        print("RULE BROKEN:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
