"""Atomic output: every file is written to a temporary sibling and renamed into place, so a crash
never leaves a half-written report, and an input file is never opened for writing."""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_UMASK = os.umask(0)
os.umask(_UMASK)


def safe_file_name(name: str, limit: int = 120) -> str:
    """``name`` as one file-name component: characters other than letters, digits, ``._-`` become
    ``_`` (no separators, control characters or leading dot), and a name longer than ``limit`` is
    cut; a changed name gets a short hash of the original, so two names stay distinct, and the temporary
    sibling of :func:`atomic_write` stays under the 255-byte limit of file systems."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe == name and len(safe) <= limit:
        return safe
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe[: limit - 9]}-{digest}"


def umask_mode(mode: int) -> int:
    """``mode`` as the user's umask leaves it (what a plain ``open`` or ``mkdir`` would create)."""
    return mode & ~_UMASK


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(f)`` on a temporary sibling of ``path`` opened for binary writing, then rename it
    into place (so a SIGKILL never leaves a torn file, e.g. a checkpoint ``torch.save`` d into it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, umask_mode(0o666))  # mkstemp creates 0600; outputs are read by others (reports)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def atomic_write_frame(path: str | os.PathLike, frame) -> Path:
    """A pandas DataFrame as CSV (no index)."""
    return atomic_write_text(path, frame.to_csv(index=False))
