"""Raw training-log files -> :class:`LogTable` (named columns of cells, each row with its place in
the file), for CSV/TSV, JSON Lines, JSON documents and TensorBoard event files, safe on hostile files.
The tools' own layouts (W&B exports, trainer_state.json, nanoGPT text, ...) are read by
:mod:`cltk.analytics.log_formats` on top of these parsers.

What a hostile or half-written file gets (every refusal is an :class:`cltk.errors.InputError`
naming the file and the line):
- size: files over :data:`MAX_BYTES` are refused before they are read; a gzip file (found by its
  magic bytes, whatever its name) is refused once it unpacks to more than that;
- encoding: UTF-8 (a BOM is allowed); an invalid byte is refused with its line;
- kind by content, not by suffix: a first character ``[``, or a ``{`` whose first line is not a
  whole JSON value, is a JSON document; ``{`` with a whole first line is JSON Lines; anything else
  is CSV (TSV for ``.tsv`` or a header with tabs and no commas);
- CSV: ``# comment`` lines and blank lines (also ``, ,``) are skipped; only the columns a curve
  needs are parsed (a W&B export with hundreds of columns costs what three do), by pandas' C
  parser; a row with more fields than the header is refused with its line;
- a last row cut off by a writer still running (fewer fields than the header, or a cell that does
  not parse) is dropped with a warning that names the line, never a crash;
- JSON Lines: one object per line, nested objects flattened to ``outer/inner`` names; nesting
  deeper than :data:`MAX_JSON_DEPTH` is refused, a cut-off last line dropped with a warning;
- TensorBoard: a folder must hold event files; nothing is unpickled anywhere.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zlib
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
        self.original: dict[str, str] = {}  # a renamed view's names -> the file's own column names
        self._cache: dict[str, np.ndarray] = {}

    def cells(self, *cols: str) -> list[np.ndarray]:
        """The cells of ``cols`` (object arrays of equal length, one per row)."""
        todo = [c for c in dict.fromkeys(cols) if c not in self._cache]
        if todo:
            self._cache.update(self._load(todo))
        return [self._cache[c] for c in cols]


def open_log(path: Path) -> LogTable:
    """The :class:`LogTable` of a log file: TensorBoard for event files and folders holding them,
    else CSV/TSV, JSON Lines or a JSON document (a list of objects) by content."""
    if is_tensorboard(path):
        return tensorboard(path)
    return parse_text(path, read_text(path))


def is_tensorboard(path: Path) -> bool:
    """Whether ``path`` is a TensorBoard event file or a folder to read as one (a folder without
    event files is refused here, with the reason)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        if not any("tfevents" in p.name for p in path.rglob("*")):
            raise InputError(f"{path}: is a folder without TensorBoard event files (give the log files themselves)")
        return True
    return "tfevents" in path.name


def read_text(path: Path) -> str:
    """The text of a log file: size checked, gunzipped when it starts with gzip's magic bytes,
    decoded as UTF-8 (an invalid byte is refused with its line)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty")
    if size > MAX_BYTES:
        raise InputError(f"{path}: {size / 1024**3:.1f} GiB is larger than the {MAX_BYTES / 1024**3:.0f} GiB "
                         "a training log is read up to")
    if path.suffix.lower() in (".pkl", ".pickle", ".pt", ".pth", ".npy", ".npz"):
        raise InputError(f"{path}: binary/pickle files are not read (export the log as CSV, JSONL or TensorBoard)")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(path, data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: byte 0x{data[e.start]:02x} is not UTF-8 text "
                         "(save the log as UTF-8)") from None


def _gunzip(path: Path, data: bytes) -> bytes:
    # unpacked in bounded pieces: a small hostile file may unpack to terabytes
    z = zlib.decompressobj(wbits=31)
    try:
        out = z.decompress(data, MAX_BYTES + 1)
    except zlib.error as e:
        raise InputError(f"{path}: not a readable gzip file ({e})") from None
    if len(out) > MAX_BYTES:
        raise InputError(f"{path}: unpacks to more than the {MAX_BYTES / 1024**3:.0f} GiB a training log is read up to")
    if not z.eof:
        raise InputError(f"{path}: the gzip stream is cut off (a log still being written? unpack what there is "
                         "with zcat)")
    if not out:
        raise InputError(f"{path}: file is empty (after gunzip)")
    return out


def base_suffix(path: Path) -> str:
    """The suffix that names the log's kind, under a ``.gz``: ``run.tsv.gz`` -> ``.tsv``."""
    name = path.name.lower()
    return Path(name[:-3]).suffix if name.endswith(".gz") else path.suffix.lower()


def parse_text(path: Path, text: str) -> LogTable:
    """A decoded log as a table, its kind told by content (see the module notes)."""
    start = text.lstrip()
    if start.startswith("["):
        return records_table(path, *_document_records(path, json_document(path, text)))
    if start.startswith("{"):
        first = start.split("\n", 1)[0]
        try:
            json.loads(first) if not _DEEP.search(first) else None
        except (ValueError, RecursionError):
            return records_table(path, *_document_records(path, json_document(path, text)))
        return _jsonl(path, text)
    header = next((ln for ln in text.split("\n") if not _SKIP_LINE.fullmatch(ln)), "")
    tab = base_suffix(path) == ".tsv" or ("\t" in header and "," not in header)
    return _csv(path, text, "\t" if tab else ",")


def json_document(path: Path, text: str):
    """A whole-file JSON document (depth-checked before decoding), or an InputError naming the line."""
    if _DEEP.search(text):
        line = text[: _DEEP.search(text).start()].count("\n") + 1
        raise InputError(f"{path}: line {line}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    except (RecursionError, ValueError) as e:
        raise InputError(f"{path}: not valid JSON ({str(e).splitlines()[0]})") from None


def _document_records(path: Path, doc) -> tuple[list[dict], list[str]]:
    """The rows of a JSON document that is a list of objects."""
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise InputError(f"{path}: a JSON document that is not a list of objects (expected JSON Lines, a list of "
                         "log records, or a Hugging Face trainer_state.json)")
    return [flatten(r) for r in doc], [f"record {i + 1}" for i in range(len(doc))]


def flatten(obj: dict, prefix: str = "") -> dict:
    """Nested objects flattened to ``outer/inner`` keys (the names TensorBoard and W&B show for them)."""
    out = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "/"))
        else:
            out.setdefault(key, v)
    return out


def records_table(path: Path, records: list[dict], where: list[str], warnings: list[str] | None = None) -> LogTable:
    """A table of rows given as dicts (JSON records, parsed text lines); ``where[i]`` names row i."""
    names = list(dict.fromkeys(k for r in records for k in r))

    def load(cols: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for c in cols:
            arr = np.empty(len(records), dtype=object)
            arr[:] = [r.get(c) for r in records]
            out[c] = arr
        return out

    return LogTable(path, names, load, lambda i: where[i], warnings)


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
    header = _fields(path, lines[0], sep, numbers[0], skipinitialspace=True)
    names = [h.strip() for h in header]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{path}: line {numbers[0]}: column '{dup}' appears twice in the header")
    warnings: list[str] = []
    body = lines[1:]
    # a writer still running leaves a cut-off last row: fewer fields than the header
    if body and len(_fields(path, body[-1], sep, numbers[-1])) < len(names):
        warnings.append(f"{path}: line {numbers[-1]}: the last row has fewer fields than the header "
                        "(a log still being written?); it was dropped")
        body, numbers = body[:-1], numbers[:-1]
    rows = numbers[1:]
    # pandas drops the surplus fields of a row silently when only some columns are read; a row that
    # has more fields than the header (an unquoted separator inside a value) would shift its cells
    n_sep = len(names) - 1
    for i in (i for i, ln in enumerate(body) if ln.count(sep) > n_sep):
        fields = len(_fields(path, body[i], sep, rows[i]))
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


def _fields(path: Path, line: str, sep: str, lineno, **kw) -> list[str]:
    """One CSV line's fields; a line the csv module cannot split (a lone carriage return inside
    it) is refused with its number."""
    try:
        return next(csv.reader([line], delimiter=sep, **kw), [])
    except csv.Error as e:
        raise InputError(f"{path}: line {lineno}: not a readable CSV line ({e})") from None


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
        records.append(flatten(obj))
        where.append(f"line {lineno}")
    return records_table(path, records, where, warnings)


def tensorboard(path: Path) -> LogTable:
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
