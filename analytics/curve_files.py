"""Readers: training logs (CSV, JSONL, W&B exports and histories, TensorBoard, the layouts of the
tools in :mod:`cltk.analytics.log_formats`) -> toolkit Curve.

Rules (the input rules of the project's design notes; docs/fit-scaling.md, docs/log-formats.md):
the layout is detected by content and picks the columns (the training loss unless ``loss="val"``),
or the user names them; W&B-style sparse rows (lr without loss or the reverse) are fine; a step
logged again (a resumed run) keeps the last value of each column; otherwise steps must increase. A
NaN loss (a logged divergence or skipped step) leaves its row out, counted in a warning; any other
non-finite cell is refused. The per-step LR history is rebuilt by
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

from cltk.analytics.log_files import LogTable
from cltk.analytics.log_formats import Run, generic, open_runs
from cltk.analytics.log_formats.base import is_val
from cltk.curves import Curve, lr_history_from_log
from cltk.errors import InputError
from cltk.files import atomic_write_frame, safe_file_name
from cltk.schedules import Schedule

STEP_ALIASES, LR_ALIASES, LOSS_ALIASES = generic.STEP, generic.LR, generic.TRAIN + generic.VAL

#: the most optimizer steps a run may have: the LR history is held per step (8 bytes each), and no
# pre-training run comes near 10^7 updates; a larger "step" is a token or sample count
MAX_STEPS = 10_000_000


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


def _numbers(table: LogTable, col: str, skip_nan: list | None = None) -> np.ndarray:
    """Column ``col`` as floats, NaN where nothing was logged; a bad cell is an InputError, except
    in the last row, which a writer still running may have cut off: dropped with a warning, and
    NaN cells when ``skip_nan`` is a list (their rows are appended to it)."""
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
        if skip_nan is not None and _is_nan(cells[i]):
            vals[i] = np.nan
            skip_nan.append(i)
            continue
        # raises with the cell's own words, or reads what pandas would not ("1_000")
        vals[i] = _number(cells[i], table.path, table.where(i), col)
    return vals


def _is_nan(v) -> bool:
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and v.strip().lower() in ("nan", "+nan", "-nan")


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


def _column_points(table: LogTable, step_col: str, col: str, steps_all: np.ndarray, vals: np.ndarray,
                   shift: int = 0):
    """(steps, values, row indices) of the rows where ``col`` (values ``vals``) was logged, the last
    value kept per step; ``shift`` moves the steps to cltk's convention (see ``Choice.shifts``),
    dropping any that land before step 0."""
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
    keep = uniq + shift >= 0
    return uniq[keep] + shift, vals[rows[last]][keep], rows[last][keep]


def read_curve(path, *, name: str | None = None, step_col: str | None = None, lr_col: str | None = None,
               loss_col: str | None = None, warmup_steps: int | None = None,
               schedule: Schedule | None = None, loss: str = "train", run: str | None = None) -> Curve:
    """Read one training curve from a log (any layout of docs/log-formats.md) into a Curve.

    ``loss``: "train" (default) or "val" picks which loss the layout's columns give; ``run`` picks
    one run of a file holding several (a W&B panel export). The LR history comes from ``schedule``
    if given, else from the logged LR column (see :func:`cltk.curves.lr_history_from_log`;
    ``warmup_steps`` sets the assumed linear warmup before the first logged LR). ``meta`` records
    the format and the columns read (``meta["format"]``, ``meta["columns"]``) and what was left out
    on the way (``meta["warnings"]``).
    """
    curves = read_runs([path], step_col=step_col, lr_col=lr_col, loss_col=loss_col, warmup_steps=warmup_steps,
                       schedule=schedule, loss=loss)[0]
    runs = [c.meta.get("run", c.name) for c in curves]
    if run is not None:
        if run not in runs:
            raise InputError(f"{path}: no run '{run}' (runs: {', '.join(runs)})")
        curves = [curves[runs.index(run)]]
    if len(curves) > 1:
        raise InputError(f"{path}: holds {len(curves)} runs ({', '.join(runs)}): pick one with run=NAME, or read "
                         "them all with read_curves")
    if name is not None:
        curves[0].name = name
    return curves[0]


def read_runs(paths, *, loss: str = "train", step_col: str | None = None, lr_col: str | None = None,
              loss_col: str | None = None, warmup_steps: int | None = None, schedule: Schedule | None = None,
              schedules: dict | None = None) -> list[list[Curve]]:
    """The curves of each log in ``paths``, a list per path in their order: one per run (a W&B panel
    export holds several). A run of an export whose panel has no LR column takes the LR of the run
    of the same name in another given export (its LR panel); a file holding only such LR panels
    gives no curve itself. ``schedules`` maps a path (as given) to its schedule; ``schedule`` is
    every file's. Column names given (``loss_col``...) are the run's own names (``train/loss``,
    not ``<run> - train/loss``)."""
    if loss not in ("train", "val"):
        raise InputError(f"loss must be 'train' or 'val', got {loss!r}")
    if warmup_steps is not None and warmup_steps < 0:
        raise InputError(f"warmup_steps must be >= 0, got {warmup_steps}")
    given = {"step": step_col, "loss": loss_col, "lr": lr_col}
    opened = [(p, [(r, _choice(Path(p), r, loss, given)) for r in open_runs(Path(p))]) for p in paths]
    partners = {}
    for p, runs in opened:
        for r, c in runs:
            if r.in_file and c.lr and c.step:
                partners.setdefault(r.name, (Path(p), r, c))
    out, used = [], set()
    for p, runs in opened:
        sched = schedule if schedule is not None else (schedules or {}).get(p)
        curves = []
        for r, c in runs:
            if r.in_file and c.loss is None:
                continue  # an LR panel: read as the LR of another file's run
            lr_from = (Path(p), r, c) if c.lr else None
            if sched is None and lr_from is None and r.in_file and r.name in partners:
                lr_from = partners[r.name]
                used.add(lr_from[0])
            curves.append(_curve(Path(p), r, c, lr_from, sched, warmup_steps))
        out.append(curves)
    for (p, runs), curves in zip(opened, out):
        if not curves and Path(p) not in used:
            _curve(Path(p), runs[0][0], runs[0][1], None, None, warmup_steps)  # raises: no loss column
    return out


def _choice(path: Path, run: Run, loss: str, given: dict):
    """The run's columns: the layout's choice, with the columns the user named put in."""
    c = run.choose(loss)
    for key, col in given.items():
        if col is None:
            continue
        if col not in run.table.names:
            if run.in_file:  # another run of the export may hold it
                setattr(c, key, None)
                c.asked[key] = col
                continue
            raise _no_column(path, "", col, key, run.table.names)
        setattr(c, key, col)
        if key == "loss":  # the user's choice: no note about the layout's
            c.notes, c.loss_kind = [], "val" if is_val(col) else "train"
    return c


def _no_column(path: Path, label: str, col: str, key: str, names) -> InputError:
    """The error of a column the user named (``key``: step, loss or lr) that the log lacks."""
    what = {"lr": "learning-rate"}.get(key, key)
    return InputError(f"{path}: {label}no column '{col}' (asked for as the {what} column); columns: {', '.join(names)}")


def _load(table: LogTable, cols, nan_col: str | None = None, skipped: list | None = None) -> dict:
    """The columns as floats, the cut-off last row dropped from all of them."""
    cols = list(dict.fromkeys(cols))
    table.cells(*cols)
    vals = {c: _numbers(table, c, skipped if c == nan_col else None) for c in cols}
    if table.drop_last:
        for v in vals.values():
            v[-1] = np.nan
    return vals


def _curve(path: Path, run: Run, c, lr_from, schedule: Schedule | None, warmup_steps: int | None) -> Curve:
    table, label = run.table, (f"run '{run.name}': " if run.in_file else "")
    for key in c.asked:  # a column the user named is in no run of this export
        if getattr(c, key) is None and (key != "lr" or (schedule is None and lr_from is None)):
            raise _no_column(path, label, c.asked[key], key, table.names)
    for key, what in (("step", "step"), ("loss", "loss")):
        if getattr(c, key) is None:
            raise InputError(f"{path}: {label}no {what} column (looked for {', '.join(c.looked_for.get(key, ()))}; "
                             "name the column to use)")
    if schedule is None and lr_from is None:
        if c.no_lr:
            raise InputError(f"{path}: {c.no_lr} (--schedule FILE=SPEC, or schedule= in Python)")
        extra = "give the export of its LR panel too, " if run.in_file else ""
        raise InputError(f"{path}: {label}no learning-rate column (looked for {', '.join(c.looked_for['lr'])}); "
                         f"{extra}name the column to use or give the schedule")
    sc, lc = c.step, c.loss
    lr_table = lr_from[1].table if lr_from else None
    skipped: list[int] = []
    own = [sc, lc] + ([lr_from[2].step, lr_from[2].lr] if lr_table is table else [])
    if len(table.cells(sc)[0]) == 0:
        raise InputError(f"{path}: no data rows")
    vals = _load(table, own, lc, skipped)
    steps, loss, where = _column_points(table, sc, lc, vals[sc], vals[lc], c.shifts.get(lc, 0))
    if len(steps) == 0:
        raise InputError(f"{path}: {label}column '{lc}' has no values")
    bad = np.flatnonzero(loss <= 0)
    if len(bad):
        raise InputError(f"{path}: {table.where(where[bad[0]])}: loss {loss[bad[0]]:g} is not positive")
    orig = table.original.get
    meta = {"source": str(path), "format": run.fmt, "columns": {"step": orig(sc, sc), "loss": orig(lc, lc), "lr": None},
            "loss_kind": c.loss_kind, "step_column": sc, "loss_column": lc}
    if run.in_file:
        meta["run"] = run.name
    warnings = [f"{path}: {label}{n}" for n in c.notes]
    if skipped:
        warnings.append(f"{path}: {label}{len(skipped)} row(s) of '{lc}' hold NaN (first: {table.where(skipped[0])}), "
                        "a logged divergence or skipped step; they were left out")
    if schedule is not None:
        if schedule.steps is not None and schedule.steps <= steps[-1]:
            raise InputError(f"{path}: schedule '{schedule.spec}' has {schedule.steps} steps but the log "
                             f"reaches step {int(steps[-1])}")
        lrs = schedule.render(int(steps[-1]) + 1)
        meta["schedule"] = schedule.spec
    else:
        lrs, w_end = _lr_history(lr_from, steps, vals if lr_table is table else None, warmup_steps)
        rc = lr_from[2].lr
        meta["columns"]["lr"] = lr_table.original.get(rc, rc)
        meta.update(lr_column=rc, warmup_steps=w_end)
        if lr_from[0] != path:
            meta["lr_source"] = str(lr_from[0])
            warnings += lr_table.warnings
    warnings += table.warnings
    if warnings:
        meta["warnings"] = list(dict.fromkeys(warnings))
    return Curve(run.name or _default_name(path), steps, loss, lrs, meta)


def _lr_history(lr_from, steps, vals, warmup_steps):
    """The per-step LR history from the logged LR column, and where its warmup ends."""
    p, run, c = lr_from
    table, sc, rc = run.table, c.step, c.lr
    vals = vals if vals is not None else _load(table, [sc, rc])
    lr_steps, lr_vals, lr_where = _column_points(table, sc, rc, vals[sc], vals[rc], c.shifts.get(rc, 0))
    if len(lr_steps) == 0:
        raise InputError(f"{p}: column '{rc}' has no values")
    neg = np.flatnonzero(lr_vals < 0)
    if len(neg):
        raise InputError(f"{p}: {table.where(lr_where[neg[0]])}: learning rate {lr_vals[neg[0]]:g} is negative")
    if np.all(lr_vals == 0):
        raise InputError(f"{p}: column '{rc}': every learning rate is 0")
    lrs = lr_history_from_log(lr_steps, lr_vals, int(max(steps[-1], lr_steps[-1])), warmup_steps)
    # the warmup can only end at or before the first logged LR (after it, logged LRs are interpolated)
    w_end = lr_steps[0] if warmup_steps is None else min(warmup_steps, lr_steps[0])
    return lrs, int(w_end)


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
    """Every run of several logs as curves (a W&B export gives one per run; see :func:`read_runs`);
    names are made unique by adding the parent folder where they clash."""
    return unique_names([c for cs in read_runs(paths, **kw) for c in cs])


def unique_names(curves: list[Curve]) -> list[Curve]:
    """Curves whose names clash (``a/metrics.csv`` and ``b/metrics.csv``; two Lightning runs named
    ``version_0``) are renamed ``<folders>/<name>`` with as few of their source's folders as tell
    them apart (a folder that is the name itself is skipped: ``exp2/version_0``, not
    ``version_0/version_0``); names that still clash are left for the caller to report."""
    groups: dict[str, list[Curve]] = {}
    for c in curves:
        groups.setdefault(c.name, []).append(c)
    for name, same in groups.items():
        if len(same) < 2 or not all(c.meta.get("source") for c in same):
            continue
        folders = [[p.name for p in Path(c.meta["source"]).parents if p.name and p.name != name] for c in same]
        for depth in range(1, max(map(len, folders)) + 1):
            new = ["/".join(reversed(f[:depth])) + f"/{name}" if f else name for f in folders]
            if len(set(new)) == len(new):
                break
        for c, n in zip(same, new):
            c.name = n
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

