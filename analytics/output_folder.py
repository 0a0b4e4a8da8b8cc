"""A job's output set moves into its folder as one piece, never over an input.

:func:`cltk.analytics.result.write_result` writes every output into a staging folder beside the
output folder, lists them in ``.cltk-manifest.json``, then commits:

- a folder that is new, empty, or holds nothing but an earlier output set of cltk (its manifest
  lists every file) is *swapped*: the old folder is renamed aside, the staged one renamed into
  place, the old one deleted. A run killed at any moment leaves the previous outputs or the new
  ones, never a mix (between the two renames the previous set is whole, beside the folder);
- a folder that also holds other things (a proxy run's checkpoints, a demo's section folders, a
  user's own files) is updated *in place*: each staged file is renamed over its target (report.html
  and the manifest last, so a folder whose report.html is new is complete), files that the previous
  manifest listed and the new set lacks are removed, and nothing else is touched.

Inputs are never overwritten: an input file inside the output folder is refused before the job
runs (:func:`check_out_dir`)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from cltk.errors import InputError
from cltk.files import atomic_write_json, umask_mode

MANIFEST = ".cltk-manifest.json"


def check_out_dir(out_dir: Path, inputs: Iterable = ()) -> None:
    """Refuse, before any work, an output folder that is a file, cannot be created or written, or
    holds one of the job's input files (which the commit would replace)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file, not a folder for the outputs")
    root = out_dir.resolve()
    for p in inputs:
        p = Path(p).resolve()
        if p == root or root in p.parents:
            raise InputError(f"{p}: is an input of this run and lies inside its output folder {out_dir}, which "
                             "the run replaces; choose another output folder")
    parent = out_dir if out_dir.is_dir() else _existing_parent(out_dir)
    try:  # a real probe: os.access says yes to root on read-only or virtual file systems (/proc)
        os.rmdir(tempfile.mkdtemp(prefix=".cltk-probe-", dir=parent))
    except OSError as e:
        raise InputError(f"{out_dir}: cannot write here ({parent}: {e.strerror or e})") from None


def _existing_parent(path: Path) -> Path:
    p = path.absolute().parent
    while not p.exists():
        p = p.parent
    if not p.is_dir():
        raise InputError(f"{path}: cannot create the output folder ({p} is a file)")
    return p


def commit(out_dir: Path, write: Callable[[Path], object]) -> object:
    """Call ``write(stage)`` to write the output set into a fresh staging folder, then move it into
    ``out_dir`` (see the module docstring); returns what ``write`` returned."""
    out_dir = Path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:80]}.cltk-new-", dir=out_dir.parent))
    except OSError as e:
        raise InputError(f"{out_dir}: cannot create the output folder ({e.strerror or e})") from None
    try:
        os.chmod(stage, umask_mode(0o777))  # mkdtemp makes 0700; reports are read by others
        value = write(stage)
        files = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
        atomic_write_json(stage / MANIFEST, {"generator": "cltk", "files": files})
        if _swappable(out_dir):
            _swap(stage, out_dir)
        else:
            _in_place(stage, out_dir, files)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return value


def _manifest(folder: Path) -> list[str] | None:
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        return [str(f) for f in files] if isinstance(files, list) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _swappable(out_dir: Path) -> bool:
    if not out_dir.exists():
        return True
    entries = [p for p in out_dir.rglob("*") if not p.is_dir()]
    if not entries:
        return True
    listed = _manifest(out_dir)
    return listed is not None and {str(p.relative_to(out_dir)) for p in entries} <= {*listed, MANIFEST}


def _swap(stage: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(stage, out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:80]}.cltk-old-", dir=out_dir.parent))
    os.rmdir(old)  # only its unique name is wanted
    os.rename(out_dir, old)
    os.rename(stage, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _in_place(stage: Path, out_dir: Path, files: list[str]) -> None:
    previous = _manifest(out_dir) or []
    last = [f for f in ("report.html",) if f in files]
    for rel in [f for f in files if f not in last] + last + [MANIFEST]:
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, out_dir / rel)
    for rel in set(previous) - set(files) - {MANIFEST}:  # stale outputs of the previous run only
        target = out_dir / rel
        if target.is_file() and out_dir.resolve() in target.resolve().parents:
            target.unlink()
