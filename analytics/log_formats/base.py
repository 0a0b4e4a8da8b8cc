"""What a log adapter is (:class:`LogFormat`), the columns it chose for one run (:class:`Choice`),
and the column matching by name that the adapters share."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cltk.analytics.log_files import LogTable

#: words that mark a column as a validation (held-out data) loss rather than the training loss
VAL_WORDS = frozenset({"val", "valid", "validation", "eval", "evaluation", "test", "validation_metrics"})


@dataclass(frozen=True)
class Probe:
    """What detection looks at: the first 64 KiB of the decoded text (``None`` for TensorBoard) or
    the column names of a table (``None`` before the file is parsed)."""

    path: Path
    head: str | None = None
    names: tuple[str, ...] | None = None


@dataclass
class Choice:
    """The columns of one run. ``shifts[col] = k``: the value logged at step ``s`` belongs to step
    ``s + k`` of cltk's convention (a loss measured after ``s + k`` updates; the LR of update
    ``s + k``). ``no_lr``: why this format holds no LR column, said when no schedule is given."""

    step: str | None
    loss: str | None
    lr: str | None
    loss_kind: str = "train"
    shifts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    no_lr: str | None = None
    looked_for: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: columns the user named that this run lacks (another run of the same export may hold them)
    asked: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LogFormat:
    """One tool's log layout. ``detect`` says whether a probe is this layout (by content: text,
    JSON keys, column names); then ``read`` parses a whole file that is not a plain table, ``split``
    cuts a table holding several runs into one table per run, and ``choose(names, loss)`` picks the
    step, loss (``loss`` = "train" or "val") and LR columns. ``run_name`` names a run after its
    folder layout (``None``: after the file)."""

    name: str
    follows: str
    detect: Callable[[Probe], bool]
    choose: Callable[[list[str], str], Choice] | None = None
    read: Callable[[Path, str], LogTable] | None = None
    split: Callable[[LogTable], list[tuple[str, LogTable]]] | None = None
    run_name: Callable[[Path], str | None] | None = None


def find(names, aliases, *, exclude_val: bool = False) -> str | None:
    """The first alias present among ``names``: exactly, then ignoring case, then as the end of a
    nested name (``metrics/loss`` for ``loss``, as flattened JSON writes it). With ``exclude_val``
    a nested match whose prefix names validation data (``eval/loss``) does not count."""
    names = list(names)
    for a in aliases:
        if a in names:
            return a
    lower = {n.lower(): n for n in reversed(names)}
    for a in aliases:
        if a.lower() in lower:
            return lower[a.lower()]
    for a in aliases:
        for n in names:
            if n.lower().endswith("/" + a.lower()):
                prefix = n[: -len(a) - 1]
                if not (exclude_val and is_val(prefix)):
                    return n
    return None


def is_val(name: str) -> bool:
    """Whether a column name speaks of validation data (``val_loss``, ``eval/loss``, ``valid loss``)."""
    return any(w in VAL_WORDS for w in re.split(r"[/_\s.\-:]+", name.lower()))


def choose_columns(names, loss: str, *, step, train, val, lr, shifts=None, no_lr=None) -> Choice:
    """A :class:`Choice` from alias lists: the training loss unless ``loss == "val"``; a log that
    has only a validation loss is read with a note saying so (never silently)."""
    step_col = find(names, step)
    lr_col = find(names, lr) if lr else None
    train_col = find(names, train, exclude_val=True)
    val_col = find(names, val)
    notes = []
    if loss == "val":
        loss_col, kind = val_col, "val"
    elif train_col is None and val_col is not None:
        loss_col, kind = val_col, "val"
        notes.append(f"no training-loss column; the validation loss '{val_col}' was read")
    else:
        loss_col, kind = train_col, "train"
    return Choice(step_col, loss_col, lr_col, kind, dict(shifts or {}), notes, no_lr,
                  {"step": tuple(step), "loss": tuple(val if loss == "val" else train), "lr": tuple(lr or ())})


def view(table: LogTable, mapping: dict[str, str]) -> LogTable:
    """A table showing ``table``'s columns under new names (``mapping``: new -> original), sharing
    its cells, row places and warnings; ``original`` maps a name back for reports."""
    def load(cols: list[str]) -> dict[str, np.ndarray]:
        return dict(zip(cols, table.cells(*(mapping[c] for c in cols))))

    out = LogTable(table.path, list(mapping), load, table.where, table.warnings)
    out.original = dict(mapping)
    return out


def folder_of(path: Path) -> Path:
    """The folder a log lives in (a TensorBoard folder given as such is its own)."""
    return path if path.is_dir() else path.parent
