"""Offline corpora for the proxy: byte-level tokens, a memmapped token cache, deterministic batches.

Built-in domains need no download (every Python install has them):
- ``prose``: the standard library's docstrings (module, class and function) and the
  ``pydoc_data.topics`` help pages — English technical prose;
- ``code``: the standard library's ``.py`` sources (tests excluded) with docstrings removed.
Train/val are split by file (a hash of the file's path), so no file feeds both splits; a file's
docstrings and code land on the same side. Users add domains from their own text files or from a
token ``.bin`` file (numpy ``tofile`` layout, uint8/uint16/uint32).

Tokens are raw UTF-8 bytes (vocabulary 256, byte 0 separates documents), the byte-level
vocabulary of Radford et al. (2019, GPT-2 Sec. 2.2) without the BPE merges — tiktoken would need
to download its merge tables. Batches are a pure function of (seed, step): windows at random
offsets (Karpathy's nanoGPT ``get_batch``), with the domain of each row chosen by a golden-ratio
low-discrepancy sequence (Weyl 1916) so a 5% replay mix gets 5% of the rows up to O(log n / n)
even at tiny batch sizes. Resuming at a step therefore resumes the data stream exactly.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cltk.errors import InputError

__all__ = ["BUILTIN_DOMAINS", "DataError", "Domain", "batch_at", "check_domain", "default_cache_dir", "load_domain",
           "row_domains", "strip_docstrings", "val_batches"]

BUILTIN_DOMAINS = ("prose", "code")
CACHE_VERSION = 1
EOT = 0  # document separator; never occurs in text files
_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}
_PHI = (5 ** 0.5 - 1) / 2
_DTYPES = {"uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32}


class DataError(InputError):
    """A data source is missing, unreadable or too small (the message names the file or key)."""


@dataclass
class Domain:
    """One data domain: memmapped train and val token arrays and the vocabulary they need."""

    name: str
    train: np.ndarray
    val: np.ndarray
    vocab_size: int
    source: str


def default_cache_dir() -> Path:
    """``$CLTK_CACHE_DIR``, else ``$XDG_CACHE_HOME/cltk/proxy``, else ``~/.cache/cltk/proxy``."""
    if os.environ.get("CLTK_CACHE_DIR"):
        return Path(os.environ["CLTK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cltk" / "proxy"


def _in_split(key: str, fraction: float, salt: str) -> bool:
    """Deterministic membership test by hash, stable across runs and machines."""
    return zlib.crc32(f"{salt}:{key}".encode()) % 100_000 < fraction * 100_000


def _docstring_nodes(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                yield node, first


def strip_docstrings(source: bytes, tree: ast.AST | None = None) -> bytes:
    """The source with every module/class/function docstring removed, keeping it valid Python:
    a docstring on lines of its own is deleted, one that is its body's only statement becomes ``...``."""
    tree = tree if tree is not None else ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []
    for owner, doc in _docstring_nodes(tree):
        edits.append((doc.lineno - 1, doc.col_offset, doc.end_lineno - 1, doc.end_col_offset, len(owner.body) == 1))
    for l0, c0, l1, c1, only in sorted(edits, reverse=True):
        before, after = lines[l0][:c0], lines[l1][c1:]
        if not only and not before.strip() and after.strip() in (b"", b";"):
            del lines[l0:l1 + 1]
        else:
            lines[l0:l1 + 1] = [before + b"..." + after]
    return b"".join(lines)


def _stdlib_documents(fraction: float):
    """(key, prose bytes, code bytes) for each stdlib source file in the subset, plus pydoc topics."""
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if _SKIP_DIRS & set(rel.split("/")) or not _in_split(rel, fraction, "subset"):
            continue
        try:
            src = path.read_bytes()
            tree = ast.parse(src)
        except (OSError, SyntaxError, ValueError):
            continue  # a stdlib file this interpreter cannot parse is simply not part of the corpus
        docs = [ast.get_docstring(owner) or "" for owner, _ in _docstring_nodes(tree)]
        prose = "\n\n".join(d for d in docs if d).encode("utf-8", "replace")
        yield rel, prose, strip_docstrings(src, tree)
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip pydoc_data; the docstrings remain
        topics = {}
    for key in sorted(topics):
        rel = f"pydoc_data/topics:{key}"
        if _in_split(rel, fraction, "subset"):
            yield rel, topics[key].encode("utf-8", "replace"), b""


def _write_tokens(path: Path, chunks: list[bytes]) -> int:
    data = bytes([EOT]).join(chunks)
    path.write_bytes(data)
    return len(data)


def _build_stdlib(dest: Path, fraction: float, val_fraction: float) -> None:
    """Build the four token files of the built-in domains in a temporary directory, then rename it
    into place, so a crash or a concurrent build never leaves a half-written cache."""
    parts = {(d, s): [] for d in BUILTIN_DOMAINS for s in ("train", "val")}
    n_files = {"train": 0, "val": 0}
    for rel, prose, code in _stdlib_documents(fraction):
        split = "val" if _in_split(rel, val_fraction, "val") else "train"
        n_files[split] += 1
        if prose:
            parts[("prose", split)].append(prose)
        if code:
            parts[("code", split)].append(code)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        sizes = {f"{d}.{s}": _write_tokens(tmp / f"{d}.{s}.bin", c) for (d, s), c in parts.items()}
        meta = {"version": CACHE_VERSION, "python": sys.version, "fraction": fraction,
                "val_fraction": val_fraction, "files": n_files, "tokens": sizes}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        try:
            os.replace(tmp, dest)
        except OSError:  # another process finished the same cache first
            if not (dest / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cache_key(*items) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:16]


def _memmap(path: Path, dtype=np.uint8) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def _stdlib_domain(name: str, cache_dir: Path, fraction: float, val_fraction: float) -> Domain:
    key = _cache_key(CACHE_VERSION, sys.version, sysconfig.get_paths()["stdlib"], fraction, val_fraction)
    dest = cache_dir / f"stdlib-{key}"
    if not (dest / "meta.json").exists():
        _build_stdlib(dest, fraction, val_fraction)
    return Domain(name, _memmap(dest / f"{name}.train.bin"), _memmap(dest / f"{name}.val.bin"), 256,
                  f"Python {sys.version.split()[0]} standard library ({name}, fraction {fraction:g})")


def _text_domain(name: str, files: list, cache_dir: Path, val_fraction: float) -> Domain:
    paths = [Path(f).expanduser() for f in files]
    for p in paths:
        if not p.is_file():
            raise DataError(f"data.domains.{name}.files: no such file '{p}'")
    stamp = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    dest = cache_dir / f"text-{name}-{_cache_key(CACHE_VERSION, stamp, val_fraction)}"
    if not (dest / "train.bin").exists():
        dest.mkdir(parents=True, exist_ok=True)
        if len(paths) == 1:  # one file cannot be split by file: hold out its tail
            data = paths[0].read_bytes()
            cut = len(data) - int(len(data) * val_fraction)
            train, val = [data[:cut]], [data[cut:]]
        else:
            train, val = [], []
            for p in paths:
                (val if _in_split(str(p), val_fraction, "val") else train).append(p.read_bytes())
            if not val:  # a tiny file list can hash entirely to train; hold out the last file
                val.append(train.pop())
        for split, chunks in (("val", val), ("train", train)):  # train.bin last: it marks completion
            fd, tmp = tempfile.mkstemp(dir=dest, suffix=".tmp")
            os.close(fd)
            _write_tokens(Path(tmp), chunks)
            os.replace(tmp, dest / f"{split}.bin")
    return Domain(name, _memmap(dest / "train.bin"), _memmap(dest / "val.bin"), 256, f"text files {files}")


def _bin_domain(name: str, spec: dict, val_fraction: float) -> Domain:
    dtype_name = spec.get("dtype", "uint16")
    if dtype_name not in _DTYPES:
        raise DataError(f"data.domains.{name}.dtype: '{dtype_name}' is not one of {', '.join(_DTYPES)}")
    dtype = _DTYPES[dtype_name]
    arrays = []
    for key in ("bin", "val_bin"):
        if key not in spec:
            continue
        p = Path(spec[key]).expanduser()
        if not p.is_file():
            raise DataError(f"data.domains.{name}.{key}: no such file '{p}'")
        if p.stat().st_size % np.dtype(dtype).itemsize:
            raise DataError(f"data.domains.{name}.{key}: size of '{p}' is not a multiple of {dtype_name}")
        arrays.append(_memmap(p, dtype))
    if len(arrays) == 1:
        cut = len(arrays[0]) - int(len(arrays[0]) * val_fraction)
        arrays = [arrays[0][:cut], arrays[0][cut:]]
    top = max(int(a.max()) if len(a) else 0 for a in arrays)
    return Domain(name, arrays[0], arrays[1], top + 1, f"token file {spec['bin']}")


#: domain names become cache file names (``text-<name>-<key>``)
SAFE_DOMAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def load_domain(name: str, spec: dict | None, cache_dir: Path, *, stdlib_fraction: float = 1.0,
                val_fraction: float = 0.1) -> Domain:
    """A domain by name: built-in (``prose``/``code``) when ``spec`` is None, else from ``spec``'s
    ``files`` (text) or ``bin`` (+ optional ``val_bin``, ``dtype``) keys."""
    if not SAFE_DOMAIN_NAME.fullmatch(name):  # the name becomes part of a cache path: no '../' escapes
        raise DataError(f"data.domains.{name}: a domain name may use only letters, digits, '_', '.', '-' "
                        f"and may not start with '.'")
    if spec is None:
        if name not in BUILTIN_DOMAINS:
            raise DataError(f"unknown domain '{name}': built-in domains are {', '.join(BUILTIN_DOMAINS)}; "
                            f"define others under [data.domains.{name}]")
        dom = _stdlib_domain(name, Path(cache_dir), stdlib_fraction, val_fraction)
    elif "files" in spec:
        files = spec["files"]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise DataError(f"data.domains.{name}.files: must be a non-empty list of file names, got {files!r:.60}")
        dom = _text_domain(name, list(spec["files"]), Path(cache_dir), val_fraction)
    elif "bin" in spec:
        dom = _bin_domain(name, spec, val_fraction)
    else:
        raise DataError(f"data.domains.{name}: give 'files' (text files) or 'bin' (a token file)")
    return dom


def check_domain(dom: Domain, seq_len: int) -> None:
    """Both splits must hold at least one full window of ``seq_len + 1`` tokens."""
    for split in ("train", "val"):
        n = len(getattr(dom, split))
        if n < seq_len + 1:
            raise DataError(f"domain '{dom.name}' ({dom.source}): the {split} split has {n} tokens, "
                            f"fewer than model.seq_len + 1 = {seq_len + 1}")


def _windows(tokens: np.ndarray, offsets: np.ndarray, seq_len: int) -> np.ndarray:
    idx = offsets[:, None] + np.arange(seq_len + 1)[None, :]
    return np.asarray(tokens[idx], dtype=np.int64)


def row_domains(step: int, batch_size: int, weights: dict[str, float]) -> list[str]:
    """The domain of each row of global step ``step``: row ``g = step * B + j`` takes the domain
    whose cumulative-weight interval holds frac(g * phi) (a Weyl sequence)."""
    names = sorted(weights)
    cum = np.cumsum([weights[n] for n in names]) / sum(weights.values())
    g = step * batch_size + np.arange(batch_size)
    u = (g * _PHI) % 1.0
    return [names[i] for i in np.minimum(np.searchsorted(cum, u, side="right"), len(names) - 1)]


def batch_at(domains: dict[str, Domain], weights: dict[str, float], step: int, batch_size: int, seq_len: int,
             seed: int) -> tuple[np.ndarray, dict[str, int]]:
    """Training windows (B, T+1) of global step ``step`` — a pure function of its arguments —
    and how many rows came from each domain."""
    rows = row_domains(step, batch_size, weights)
    out = np.empty((batch_size, seq_len + 1), dtype=np.int64)
    counts = {}
    for name in sorted(set(rows)):
        sel = np.flatnonzero(np.array(rows) == name)
        tokens = domains[name].train
        rng = np.random.default_rng([seed, step, zlib.crc32(name.encode())])
        out[sel] = _windows(tokens, rng.integers(0, len(tokens) - seq_len, size=len(sel)), seq_len)
        counts[name] = len(sel)
    return out, counts


def val_batches(dom: Domain, n_batches: int, batch_size: int, seq_len: int) -> list[np.ndarray]:
    """A fixed evaluation set: ``n_batches * batch_size`` windows spread evenly over the val split."""
    n = n_batches * batch_size
    offsets = np.linspace(0, len(dom.val) - seq_len - 1, n).astype(np.int64)
    win = _windows(dom.val, offsets, seq_len)
    return [win[i * batch_size:(i + 1) * batch_size] for i in range(n_batches)]
