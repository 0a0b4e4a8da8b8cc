"""Raw training-log files -> :class:`LogTable` (named columns of cells, each row with its place in
the file), for CSV/TSV, JSON Lines and TensorBoard event files, safe on hostile files.

What a hostile or half-written file gets (every refusal is an :class:`cltk.errors.InputError`
naming the file and the line):
- size: files over :data:`MAX_BYTES` are refused before they are read;
- encoding: UTF-8 (a BOM is allowed); an invalid byte is refused with its line;
- CSV: ``# comment`` lines and blank lines (also ``, ,``) are skipped; only the columns a curve
  needs are parsed (a W&B export with hundreds of columns costs what three do), by pandas' C
  parser; a row with more fields than the header is refused with its line;
- a last row cut off by a writer still running (fewer fields than the header, or a cell that does
  not parse) is dropped with a warning that names the line, never a crash;
- JSON Lines: one object per line; nesting deeper than :data:`MAX_JSON_DEPTH` is refused, a cut-off
  last line dropped with a warning;
- TensorBoard: a folder must hold event files; nothing is unpickled anywhere.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cltk.errors import InputError

#: the largest log file read (a 10^6-step log with a dozen columns is ~100 MB)
MAX_BYTES = 2 * 1024**3
#: deeper JSON values are refused before they are decoded (json recurses once per level)
MAX_JSON_DEPTH = 64
_DEEP = re.compile(rf"[\[{{]{{{MAX_JSON_DEPTH + 1}}}")
# a line that holds no data: blank, only separators, or a comment
_SKIP_LINE = re.compile(r"^[ \t,;]*(#.*)?\r?$", re.M)


class LogTable:
    """Cells of a log by column (float64 arrays with NaN, or object arrays with ``None`` or ``""``,
    = not logged on that row), loaded lazily per column for CSV; ``where(i)`` names row ``i``'s
    place in the file ("line 7")."""

    def __init__(self, path: Path, names: list[str], load: Callable[[list[str]], dict[str, np.ndarray]],
                 where: Callable[[int], str], warnings: list[str] | None = None):
        self.path, self.names, self._load, self.where = path, names, load, where
        self.warnings = warnings if warnings is not None else []
        self.drop_last = False  # set when the last row turns out cut off (see curve_files._numbers)
        self._cache: dict[str, np.ndarray] = {}

    def cells(self, *cols: str) -> list[np.ndarray]:
        """The cells of ``cols`` (object arrays of equal length, one per row)."""
        todo = [c for c in dict.fromkeys(cols) if c not in self._cache]
        if todo:
            self._cache.update(self._load(todo))
        return [self._cache[c] for c in cols]


def open_log(path: Path) -> LogTable:
    """The :class:`LogTable` of a log file (CSV/TSV by default, JSON Lines by suffix, TensorBoard
    for event files and folders holding them)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        if not any("tfevents" in p.name for p in path.rglob("*")):
            raise InputError(f"{path}: is a folder without TensorBoard event files (give the log files themselves)")
        return _tensorboard(path)
    if "tfevents" in path.name:
        return _tensorboard(path)
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty")
    if size > MAX_BYTES:
        raise InputError(f"{path}: {size / 1024**3:.1f} GiB is larger than the {MAX_BYTES / 1024**3:.0f} GiB "
                         "a training log is read up to")
    if path.suffix.lower() in (".pkl", ".pickle", ".pt", ".pth", ".npy", ".npz"):
        raise InputError(f"{path}: binary/pickle files are not read (export the log as CSV, JSONL or TensorBoard)")
    text = _decode(path)
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _jsonl(path, text)
    return _csv(path, text, "\t" if path.suffix.lower() == ".tsv" else ",")


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: byte 0x{data[e.start]:02x} is not UTF-8 text "
                         "(save the log as UTF-8)") from None


def _csv(path: Path, text: str, sep: str) -> LogTable:
    lines = text.split("\n")
    if lines and lines[-1].strip() == "":
        lines.pop()  # the newline that ends the last line
    if _SKIP_LINE.search(text.rstrip("\r\n")):  # drop comment and blank lines, remembering where the rest were
        keep = [i for i, ln in enumerate(lines) if not _SKIP_LINE.fullmatch(ln)]
        lines = [lines[i] for i in keep]
        numbers = np.asarray(keep, dtype=np.int64) + 1
    else:
        numbers = np.arange(1, len(lines) + 1, dtype=np.int64)
    if not lines:
        raise InputError(f"{path}: no header line (only blank or comment lines)")
    header = next(csv.reader([lines[0]], delimiter=sep, skipinitialspace=True))
    names = [h.strip() for h in header]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{path}: line {numbers[0]}: column '{dup}' appears twice in the header")
    warnings: list[str] = []
    body = lines[1:]
    # a writer still running leaves a cut-off last row: fewer fields than the header
    if body and len(next(csv.reader([body[-1]], delimiter=sep))) < len(names):
        warnings.append(f"{path}: line {numbers[-1]}: the last row has fewer fields than the header "
                        "(a log still being written?); it was dropped")
        body, numbers = body[:-1], numbers[:-1]
    rows = numbers[1:]
    # pandas drops the surplus fields of a row silently when only some columns are read; a row that
    # has more fields than the header (an unquoted separator inside a value) would shift its cells
    n_sep = len(names) - 1
    for i in (i for i, ln in enumerate(body) if ln.count(sep) > n_sep):
        fields = len(next(csv.reader([body[i]], delimiter=sep)))
        if fields > len(names):
            raise InputError(f"{path}: line {rows[i]}: more fields than the header ({fields}, not {len(names)})")

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        if not body:
            return {c: np.empty(0, dtype=object) for c in cols}
        try:
            # empty cells are "not logged" (NaN); anything else that is not a number ("nan", "x")
            # leaves its column as text, which the curve reader refuses with the cell's place
            df = pd.read_csv(io.StringIO("\n".join([lines[0], *body])), sep=sep, usecols=cols,
                             keep_default_na=False, na_values=[""], skipinitialspace=True, engine="c")
        except (ValueError, csv.Error) as e:  # ParserError is a ValueError; surplus fields were refused above
            raise InputError(f"{path}: not a readable CSV file ({str(e).splitlines()[0]})") from None
        return {c: _column(df[c]) for c in cols}

    return LogTable(path, names, load, lambda i: f"line {rows[i]}", warnings)


def _column(col: pd.Series) -> np.ndarray:
    """A parsed CSV column: float64 when pandas read every cell as a number (NaN = empty), else
    an object array of the cells' text (None = empty)."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    out = col.astype(object).to_numpy().copy()
    out[pd.isna(col).to_numpy()] = None
    return out


def _jsonl(path: Path, text: str) -> LogTable:
    records, where, warnings = [], [], []
    lines = text.split("\n")
    last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        lineno = i + 1
        if _DEEP.search(line):
            raise InputError(f"{path}: line {lineno}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError, ValueError) as e:
            if i == last and not text.endswith("\n"):  # a writer still running cut the last line off
                warnings.append(f"{path}: line {lineno}: the last line is not complete JSON (a log still being "
                                "written?); it was dropped")
                continue
            msg = e.msg if isinstance(e, json.JSONDecodeError) else str(e).splitlines()[0]
            raise InputError(f"{path}: line {lineno}: not valid JSON ({msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}: line {lineno}: expected one JSON object per line")
        records.append(obj)
        where.append(lineno)
    names = list(dict.fromkeys(k for r in records for k in r))

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for c in cols:
            arr = np.empty(len(records), dtype=object)
            arr[:] = [r.get(c) for r in records]
            out[c] = arr
        return out

    return LogTable(path, names, load, lambda i: f"line {where[i]}", warnings)


def _tensorboard(path: Path) -> LogTable:
    from tbparse import SummaryReader

    try:
        df = SummaryReader(str(path), extra_columns={"wall_time"}).scalars
    except Exception as e:  # noqa: BLE001 - tbparse raises many types for corrupt files
        raise InputError(f"{path}: not a readable TensorBoard event file ({' '.join(str(e).split())})") from None
    if df is None or len(df) == 0:
        raise InputError(f"{path}: no scalar summaries in the TensorBoard events")
    df = df.sort_values("wall_time", kind="stable").reset_index(drop=True)
    tags = df["tag"].to_numpy(dtype=object)
    names = ["step", *dict.fromkeys(tags)]

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for c in cols:
            if c == "step":
                out[c] = df["step"].to_numpy(dtype=object)
            else:
                arr = np.full(len(df), None, dtype=object)
                hit = tags == c
                arr[hit] = df["value"].to_numpy()[hit]
                out[c] = arr
        return out

    return LogTable(path, names, load, lambda i: f"tag '{tags[i]}' at step {df['step'].iat[i]}")
