"""Readers: training logs (CSV, JSONL, W&B exports, TensorBoard event files) -> toolkit Curve.

Rules (the input rules of the project's design notes; docs/fit-scaling.md): columns are found by
alias or named by the user; W&B-style sparse
rows (lr without loss or the reverse) are fine; a step logged again (a resumed run) keeps the last
value of each column; otherwise steps must increase. The per-step LR history is rebuilt by
:func:`cltk.curves.lr_history_from_log`, or rendered from a schedule spec. Any bad input raises
:class:`cltk.errors.InputError` with one line naming the file, the row and the problem.
Nothing here unpickles anything.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cltk.analytics.log_files import LogTable, open_log
from cltk.curves import Curve, lr_history_from_log
from cltk.errors import InputError
from cltk.files import atomic_write_frame, safe_file_name
from cltk.schedules import Schedule

STEP_ALIASES = ("step", "_step", "iter", "iteration", "Step", "global_step", "trainer/global_step", "train/step")
LR_ALIASES = ("lr", "learning_rate", "train/lr", "train_lr", "train/learning_rate", "lr-AdamW", "optim/lr")
LOSS_ALIASES = ("loss", "train/loss", "val/loss", "val_loss", "Metrics/loss", "train_loss", "eval/loss",
                "validation/loss")


#: the most optimizer steps a run may have: the LR history is held per step (8 bytes each), and no
# pre-training run comes near 10^7 updates; a larger "step" is a token or sample count
MAX_STEPS = 10_000_000


def _pick(table: LogTable, given: str | None, aliases: tuple[str, ...], what: str) -> str | None:
    if given is not None:
        if given not in table.names:
            raise InputError(f"{table.path}: no column '{given}' (asked for as the {what} column); "
                             f"columns: {', '.join(table.names)}")
        return given
    for a in aliases:
        if a in table.names:
            return a
    lower = {c.lower(): c for c in table.names}
    for a in aliases:
        if a.lower() in lower:
            return lower[a.lower()]
    return None


def _number(v, path: Path, where: str, col: str) -> float:
    """One cell as a finite float, or an InputError naming the cell."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise InputError(f"{path}: {where}: column '{col}' holds {_short(v)}, not a number")
    try:
        x = float(v.strip() if isinstance(v, str) else v)
    except OverflowError:
        raise InputError(f"{path}: {where}: column '{col}' holds a {len(str(v))}-digit integer, too large "
                         "for a number of a training log") from None
    except ValueError:
        raise InputError(f"{path}: {where}: column '{col}' holds {_short(v)}, not a number") from None
    if not math.isfinite(x):
        raise InputError(f"{path}: {where}: column '{col}' is {str(v).strip()[:40]} (NaN or infinite)")
    return x


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _numbers(table: LogTable, col: str) -> np.ndarray:
    """Column ``col`` as floats, NaN where nothing was logged; a bad cell is an InputError, except
    in the last row, which a writer still running may have cut off: dropped with a warning."""
    (cells,) = table.cells(col)
    vals = np.full(len(cells), np.nan)
    if cells.dtype.kind == "f":  # a CSV column pandas read as numbers (NaN = empty cell)
        present = ~np.isnan(cells)
        conv = pd.Series(cells[present])
    else:  # JSON values: numbers, text, or anything else (refused below with its place)
        present = np.array([c is not None and not (isinstance(c, str) and not c.strip()) for c in cells], dtype=bool)
        conv = pd.to_numeric(pd.Series(cells[present], dtype=object).map(_plain), errors="coerce")
    vals[present] = conv.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(present & ~np.isfinite(vals))
    for i in bad:
        if i == len(cells) - 1 and i > 0 and isinstance(cells[i], str) and _CUT_NUMBER.fullmatch(cells[i].strip()):
            table.warnings.append(f"{table.path}: {table.where(i)}: the last row's '{col}' cell {_short(cells[i])} "
                                  "is not a number (a log still being written?); the row was dropped")
            table.drop_last = True
            break
        # raises with the cell's own words, or reads what pandas would not ("1_000")
        vals[i] = _number(cells[i], table.path, table.where(i), col)
    return vals


# the start of a number cut off by a writer still running ("3e-", "-", "1.5E"); "abc" is not one
_CUT_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)?([eE][+-]?)?")


def _plain(v):
    """A cell for pandas' numeric parser; bools and containers become NaN (and are refused by
    :func:`_number` with their place)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return np.nan
    if isinstance(v, int) and abs(v) > 2**1000:
        return np.nan
    return v


def _column_points(table: LogTable, step_col: str, col: str, steps_all: np.ndarray, vals: np.ndarray):
    """(steps, values, row indices) of the rows where ``col`` (values ``vals``) was logged, the last
    value kept per step."""
    rows = np.flatnonzero(~np.isnan(vals))
    s = steps_all[rows]
    if np.isnan(s).any():
        i = rows[np.flatnonzero(np.isnan(s))[0]]
        raise InputError(f"{table.path}: {table.where(i)}: '{col}' is logged without a step")
    bad = np.flatnonzero((s != np.floor(s)) | (s < 0))
    if len(bad):
        raise InputError(f"{table.path}: {table.where(rows[bad[0]])}: step {s[bad[0]]:g} is not a non-negative integer")
    big = np.flatnonzero(s > MAX_STEPS)
    if len(big):
        raise InputError(f"{table.path}: {table.where(rows[big[0]])}: step {s[big[0]]:.6g} is beyond the "
                         f"{MAX_STEPS:.0e} optimizer steps a run may have (is '{step_col}' a token or sample "
                         "count? use the optimizer-step column)")
    s = s.astype(np.int64)
    # a step first seen below an earlier step is out of order; a resumed run re-logs steps it saw
    uniq, first = np.unique(s, return_index=True)
    first_of = np.zeros(len(s), dtype=bool)
    first_of[first] = True
    prev_max = np.concatenate([[-1], np.maximum.accumulate(s)[:-1]])
    wrong = np.flatnonzero(first_of & (s < prev_max))
    if len(wrong):
        j = wrong[0]
        raise InputError(f"{table.path}: {table.where(rows[j])}: step {s[j]} is lower than step {prev_max[j]} "
                         "logged before it and is not a re-logged step of a resumed run (steps must increase)")
    _, last_rev = np.unique(s[::-1], return_index=True)
    last = len(s) - 1 - last_rev  # the last row of each step (uniq order)
    return uniq, vals[rows[last]], rows[last]


def read_curve(path, *, name: str | None = None, step_col: str | None = None, lr_col: str | None = None,
               loss_col: str | None = None, warmup_steps: int | None = None,
               schedule: Schedule | None = None) -> Curve:
    """Read one training curve from a CSV / JSONL / W&B export / TensorBoard log into a Curve.

    The LR history comes from ``schedule`` if given, else from the logged LR column (see
    :func:`cltk.curves.lr_history_from_log`; ``warmup_steps`` sets the assumed linear warmup
    before the first logged LR). What was dropped on the way (a cut-off last row) is listed in
    ``meta["warnings"]``.
    """
    path = Path(path)
    table = open_log(path)
    sc = _pick(table, step_col, STEP_ALIASES, "step")
    if sc is None:
        raise InputError(f"{path}: no step column (looked for {', '.join(STEP_ALIASES)}; name the column to use)")
    lc = _pick(table, loss_col, LOSS_ALIASES, "loss")
    if lc is None:
        raise InputError(f"{path}: no loss column (looked for {', '.join(LOSS_ALIASES)}; name the column to use)")
    rc = None if schedule is not None else _pick(table, lr_col, LR_ALIASES, "learning-rate")
    if schedule is None and rc is None:
        raise InputError(f"{path}: no learning-rate column (looked for {', '.join(LR_ALIASES)}; name the column "
                         "to use or give the schedule)")
    used = [c for c in dict.fromkeys((sc, lc, rc)) if c]
    table.cells(*used)
    if len(table.cells(sc)[0]) == 0:
        raise InputError(f"{path}: no data rows")
    vals = {c: _numbers(table, c) for c in used}
    if table.drop_last:  # the cut-off last row goes from every column
        for v in vals.values():
            v[-1] = np.nan
    steps_all = vals[sc]
    steps, loss, where = _column_points(table, sc, lc, steps_all, vals[lc])
    if len(steps) == 0:
        raise InputError(f"{path}: column '{lc}' has no values")
    bad = np.flatnonzero(loss <= 0)
    if len(bad):
        raise InputError(f"{path}: {table.where(where[bad[0]])}: loss {loss[bad[0]]:g} is not positive")
    meta = {"source": str(path), "step_column": sc, "loss_column": lc}
    if schedule is not None:
        if schedule.steps is not None and schedule.steps <= steps[-1]:
            raise InputError(f"{path}: schedule '{schedule.spec}' has {schedule.steps} steps but the log "
                             f"reaches step {int(steps[-1])}")
        lrs = schedule.render(int(steps[-1]) + 1)
        meta["schedule"] = schedule.spec
    else:
        lr_steps, lr_vals, lr_where = _column_points(table, sc, rc, steps_all, vals[rc])
        if len(lr_steps) == 0:
            raise InputError(f"{path}: column '{rc}' has no values")
        neg = np.flatnonzero(lr_vals < 0)
        if len(neg):
            raise InputError(f"{path}: {table.where(lr_where[neg[0]])}: learning rate {lr_vals[neg[0]]:g} is negative")
        if np.all(lr_vals == 0):
            raise InputError(f"{path}: column '{rc}': every learning rate is 0")
        if warmup_steps is not None and warmup_steps < 0:
            raise InputError(f"warmup_steps must be >= 0, got {warmup_steps}")
        lrs = lr_history_from_log(lr_steps, lr_vals, int(max(steps[-1], lr_steps[-1])), warmup_steps)
        # the warmup can only end at or before the first logged LR (after it, logged LRs are interpolated)
        w_end = lr_steps[0] if warmup_steps is None else min(warmup_steps, lr_steps[0])
        meta.update(lr_column=rc, warmup_steps=int(w_end))
    if table.warnings:
        meta["warnings"] = list(dict.fromkeys(table.warnings))
    return Curve(name or _default_name(path), steps, loss, lrs, meta)


#: file extensions a curve name leaves out; anything else after a dot is part of the name
# (users name runs "wsd_linear_0.2.csv" or "lr3e-3.run1.csv")
LOG_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".json", ".ndjson", ".log")


def _default_name(path: Path) -> str:
    """The whole file name without its log extension (a TensorBoard event file: its folder's)."""
    if path.is_dir():
        return path.name
    if "tfevents" in path.name:
        return path.parent.name
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    for suffix in LOG_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def read_curves(paths, **kw) -> list[Curve]:
    """Read several curves; names are made unique by adding the parent folder where they clash."""
    return unique_names([read_curve(p, **kw) for p in paths])


def unique_names(curves: list[Curve]) -> list[Curve]:
    """Curves whose names clash (``version_0/metrics.csv``, ``version_1/metrics.csv``) are renamed
    ``<parent folder>/<name>`` after their source file; names that still clash are left for the
    caller to report."""
    names = [c.name for c in curves]
    for c in curves:
        src = c.meta.get("source")
        if names.count(c.name) > 1 and src:
            c.name = f"{Path(src).parent.name}/{c.name}"
    return curves


def write_curve_csv(curve: Curve, path) -> None:
    """Write a curve's logged points as CSV (step, lr, loss), the format :func:`read_curve` reads."""
    atomic_write_frame(path, curve.to_frame())


def _sparse_frame(c: Curve, lr_col: str = "lr", loss_col: str = "loss") -> pd.DataFrame:
    """One row per step 1..last (the LR of that update), loss only where it was logged: the
    W&B-style sparse rows the readers accept, which give them the exact LR history."""
    steps = np.arange(1, len(c.lrs))
    loss = np.full(len(steps), np.nan)
    loss[c.steps - 1] = c.loss
    return pd.DataFrame({"step": steps, lr_col: c.lrs[1:], loss_col: loss})


def write_curves(out_dir: Path, curves: list[Curve]) -> Path:
    """``curves/NAME.csv``: columns step, lr, loss (the readers' single-curve format, read by
    ``cltk fit-scaling`` with no options), and ``curves.csv``: all curves side by side as columns
    step, NAME/lr, NAME/loss (read one with ``--lr-col NAME/lr --loss-col NAME/loss``). Rows hold
    every step's LR; loss cells are empty between logged steps. Curve histories start with the
    LR 0 of "step 0" (see :func:`cltk.models.river_valley.to_curves`), so row ``s`` is update ``s``."""
    wide = None
    for c in curves:
        atomic_write_frame(out_dir / "curves" / f"{safe_file_name(c.name)}.csv", _sparse_frame(c))
        f = _sparse_frame(c, f"{c.name}/lr", f"{c.name}/loss")
        wide = f if wide is None else wide.merge(f, on="step", how="outer")
    return atomic_write_frame(out_dir / "curves.csv", wide.sort_values("step"))

