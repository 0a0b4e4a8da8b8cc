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

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from cltk.curves import Curve, lr_history_from_log
from cltk.errors import InputError
from cltk.files import atomic_write_frame
from cltk.schedules import Schedule

STEP_ALIASES = ("step", "_step", "iter", "iteration", "Step", "global_step", "trainer/global_step", "train/step")
LR_ALIASES = ("lr", "learning_rate", "train/lr", "train_lr", "train/learning_rate", "lr-AdamW", "optim/lr")
LOSS_ALIASES = ("loss", "train/loss", "val/loss", "val_loss", "Metrics/loss", "train_loss", "eval/loss",
                "validation/loss")


class _Rows:
    """Raw cells of a log, column -> list of values (None = not logged on that row) plus a
    human-readable location for each row ("line 7", "event step 300")."""

    def __init__(self, columns: dict[str, list], where: list[str]):
        self.columns, self.where = columns, where


def _read_csv(path: Path) -> _Rows:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                         sep=None if path.suffix.lower() == ".tsv" else ",", engine="python")
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not a readable CSV file ({str(e).splitlines()[0]})") from None
    cols = {str(c).strip(): [v if v.strip() != "" else None for v in df[c].tolist()] for c in df.columns}
    return _Rows(cols, [f"line {i + 2}" for i in range(len(df))])


def _read_jsonl(path: Path) -> _Rows:
    cols: dict[str, list] = {}
    where: list[str] = []
    with open(path, encoding="utf-8", errors="strict") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}: line {lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}: line {lineno}: expected one JSON object per line")
            n = len(where)
            for k, v in obj.items():
                cols.setdefault(k, [None] * n).append(v)
            for v in cols.values():
                if len(v) == n:
                    v.append(None)
            where.append(f"line {lineno}")
    return _Rows(cols, where)


def _read_tensorboard(path: Path) -> _Rows:
    from tbparse import SummaryReader

    try:
        df = SummaryReader(str(path), extra_columns={"wall_time"}).scalars
    except Exception as e:  # noqa: BLE001 - tbparse raises many types for corrupt files
        raise InputError(f"{path}: not a readable TensorBoard event file ({e})") from None
    if df is None or len(df) == 0:
        raise InputError(f"{path}: no scalar summaries in the TensorBoard events")
    df = df.sort_values("wall_time", kind="stable")
    cols: dict[str, list] = {"step": df["step"].tolist()}
    for tag in df["tag"].unique():
        cols[tag] = [v if t == tag else None for t, v in zip(df["tag"], df["value"])]
    where = [f"tag '{t}' at step {s}" for t, s in zip(df["tag"], df["step"])]
    return _Rows(cols, where)


def _read_rows(path: Path) -> _Rows:
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir() or "tfevents" in path.name:
        return _read_tensorboard(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    if path.suffix.lower() in (".pkl", ".pickle", ".pt", ".pth", ".npy", ".npz"):
        raise InputError(f"{path}: binary/pickle files are not read (export the log as CSV, JSONL or TensorBoard)")
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _read_jsonl(path)
    return _read_csv(path)


def _pick(rows: _Rows, path: Path, what: str, given: str | None, aliases: tuple[str, ...], option: str):
    if given is not None:
        if given not in rows.columns:
            raise InputError(f"{path}: no column '{given}' (given by {option}); columns: {', '.join(rows.columns)}")
        return given
    for a in aliases:
        if a in rows.columns:
            return a
    lower = {c.lower(): c for c in rows.columns}
    for a in aliases:
        if a.lower() in lower:
            return lower[a.lower()]
    return None


def _number(v, path: Path, where: str, col: str) -> float:
    if isinstance(v, bool):
        raise InputError(f"{path}: {where}: column '{col}' holds {v!r}, not a number")
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        try:
            x = float(str(v).strip())
        except ValueError:
            raise InputError(f"{path}: {where}: column '{col}' holds '{v}', not a number") from None
    if not math.isfinite(x):
        raise InputError(f"{path}: {where}: column '{col}' is {v} (NaN or infinite)")
    return x


def _column_points(rows: _Rows, path: Path, step_col: str, col: str):
    """(steps, values, where) of the rows where ``col`` was logged, last value kept per step."""
    last: dict[int, tuple[float, str]] = {}
    seen_max = -1
    for i, v in enumerate(rows.columns[col]):
        if v is None:
            continue
        where = rows.where[i]
        s_raw = rows.columns[step_col][i]
        if s_raw is None:
            raise InputError(f"{path}: {where}: '{col}' is logged without a step")
        s = _number(s_raw, path, where, step_col)
        if s != int(s) or s < 0:
            raise InputError(f"{path}: {where}: step {s_raw} is not a non-negative integer")
        s = int(s)
        if s < seen_max and s not in last:
            raise InputError(f"{path}: {where}: step {s} is lower than step {seen_max} logged before it "
                             "and is not a re-logged step of a resumed run (steps must increase)")
        seen_max = max(seen_max, s)
        last[s] = (_number(v, path, where, col), where)  # a resumed run re-logs a step: keep the last
    steps = np.array(sorted(last), dtype=np.int64)
    return steps, np.array([last[s][0] for s in steps]), [last[s][1] for s in steps]


def read_curve(path, *, name: str | None = None, step_col: str | None = None, lr_col: str | None = None,
               loss_col: str | None = None, warmup_steps: int | None = None,
               schedule: Schedule | None = None) -> Curve:
    """Read one training curve from a CSV / JSONL / W&B export / TensorBoard log into a Curve.

    The LR history comes from ``schedule`` if given, else from the logged LR column (see
    :func:`cltk.curves.lr_history_from_log`; ``warmup_steps`` sets the assumed linear warmup
    before the first logged LR).
    """
    path = Path(path)
    rows = _read_rows(path)
    if not rows.where:
        raise InputError(f"{path}: no data rows")
    sc = _pick(rows, path, "step", step_col, STEP_ALIASES, "--step-col")
    if sc is None:
        raise InputError(f"{path}: no step column (looked for {', '.join(STEP_ALIASES)}; name one with --step-col)")
    lc = _pick(rows, path, "loss", loss_col, LOSS_ALIASES, "--loss-col")
    if lc is None:
        raise InputError(f"{path}: no loss column (looked for {', '.join(LOSS_ALIASES)}; name one with --loss-col)")
    steps, loss, where = _column_points(rows, path, sc, lc)
    if len(steps) == 0:
        raise InputError(f"{path}: column '{lc}' has no values")
    bad = np.flatnonzero(loss <= 0)
    if len(bad):
        raise InputError(f"{path}: {where[bad[0]]}: loss {loss[bad[0]]:g} is not positive")
    meta = {"source": str(path), "step_column": sc, "loss_column": lc}
    if schedule is not None:
        if schedule.steps is not None and schedule.steps <= steps[-1]:
            raise InputError(f"{path}: schedule '{schedule.spec}' has {schedule.steps} steps but the log "
                             f"reaches step {int(steps[-1])}")
        lrs = schedule.render(int(steps[-1]) + 1)
        meta["schedule"] = schedule.spec
    else:
        rc = _pick(rows, path, "lr", lr_col, LR_ALIASES, "--lr-col")
        if rc is None:
            raise InputError(f"{path}: no learning-rate column (looked for {', '.join(LR_ALIASES)}; name one "
                             "with --lr-col or give the schedule with --schedule)")
        lr_steps, lr_vals, lr_where = _column_points(rows, path, sc, rc)
        if len(lr_steps) == 0:
            raise InputError(f"{path}: column '{rc}' has no values")
        neg = np.flatnonzero(lr_vals < 0)
        if len(neg):
            raise InputError(f"{path}: {lr_where[neg[0]]}: learning rate {lr_vals[neg[0]]:g} is negative")
        if np.all(lr_vals == 0):
            raise InputError(f"{path}: column '{rc}': every learning rate is 0")
        if warmup_steps is not None and warmup_steps < 0:
            raise InputError(f"warmup_steps must be >= 0, got {warmup_steps}")
        lrs = lr_history_from_log(lr_steps, lr_vals, int(max(steps[-1], lr_steps[-1])), warmup_steps)
        # the warmup can only end at or before the first logged LR (after it, logged LRs are interpolated)
        w_end = lr_steps[0] if warmup_steps is None else min(warmup_steps, lr_steps[0])
        meta.update(lr_column=rc, warmup_steps=int(w_end))
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
        atomic_write_frame(out_dir / "curves" / f"{c.name}.csv", _sparse_frame(c))
        f = _sparse_frame(c, f"{c.name}/lr", f"{c.name}/loss")
        wide = f if wide is None else wide.merge(f, on="step", how="outer")
    return atomic_write_frame(out_dir / "curves.csv", wide.sort_values("step"))

