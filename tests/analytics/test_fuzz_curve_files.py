"""Fuzzing the curve readers (issue 12): generated logs, valid and hostile, in every format the readers
take. The contract for each one: either a Curve that holds exactly the logged values, or an
InputError whose message is one line naming the file; nothing else escapes, the file is never
modified. Budgets are fixed (derandomized, so CI is reproducible); CLTK_FUZZ_EXAMPLES=<factor>
multiplies them for a release run (``CLTK_FUZZ_EXAMPLES=10 pytest tests -k fuzz``)."""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cltk.analytics.curve_files import read_curve
from cltk.errors import InputError

FACTOR = float(os.environ.get("CLTK_FUZZ_EXAMPLES", "1"))
#: examples per test (summed in the closing note of issue 12: 2,500 + 2,500 + 1,500 = 6,500)
VALID_EXAMPLES, HOSTILE_EXAMPLES, BYTES_EXAMPLES = 2500, 2500, 1500


def _settings(n: int):
    return settings(max_examples=int(n * FACTOR), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@st.composite
def logs(draw):
    """A valid log: increasing steps from 1, positive LR and loss, sparse rows allowed."""
    n = draw(st.integers(1, 40))
    gaps = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n))
    steps = np.cumsum(gaps).tolist()
    lr = draw(st.lists(st.floats(1e-6, 1.0), min_size=n, max_size=n))
    loss = draw(st.lists(st.floats(1e-3, 20.0), min_size=n, max_size=n))
    return steps, lr, loss


def _cell(v: float) -> str:
    return repr(float(v))


def _render(fmt: str, steps, lr, loss, *, names=("step", "lr", "loss"), extra=False, comments=False,
            crlf=False, bom=False, spaces=False, order=(0, 1, 2)) -> bytes:
    """The log as the given format writes it (csv/tsv text, or JSON Lines)."""
    cols = [steps, lr, loss]
    if fmt == "jsonl":
        lines = [json.dumps({names[i]: cols[i][j] for i in order} | ({"note": "x"} if extra else {}))
                 for j in range(len(steps))]
    else:
        sep = "\t" if fmt == "tsv" else ","
        pad = " " if spaces else ""
        head = sep.join([names[i] for i in order] + (["note"] if extra else []))
        lines = [head] + [sep.join([pad + (str(cols[i][j]) if i == 0 else _cell(cols[i][j])) for i in order]
                                   + (["x y"] if extra else [])) for j in range(len(steps))]
        if comments:
            lines = ["# written by a logger"] + lines[:1] + ["", "# resumed"] + lines[1:]
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def _contract(path, expect=None):
    """Read ``path``; a Curve must hold ``expect`` (if given) and valid values; an error must be
    an InputError on one line naming the file; the file must be unchanged."""
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        c = read_curve(path)
    except InputError as e:
        msg = str(e)
        assert "\n" not in msg and str(path) in msg, msg
        assert expect is None, f"a valid log was refused: {msg}"
        c = None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the reader modified its input"
    if c is None:
        return None
    assert np.all(np.diff(c.steps) > 0) and c.steps[0] >= 0
    assert np.all(np.isfinite(c.loss)) and np.all(c.loss > 0)
    assert np.all(np.isfinite(c.lrs)) and np.all(c.lrs >= 0) and len(c.lrs) == c.steps[-1] + 1
    if expect is not None:
        steps, lr, loss = expect
        np.testing.assert_array_equal(c.steps, steps)
        np.testing.assert_allclose(c.loss, loss, rtol=1e-15)
        np.testing.assert_allclose(c.lrs[steps], lr, rtol=1e-12)
    return c


@_settings(VALID_EXAMPLES)
@given(log=logs(), fmt=st.sampled_from(["csv", "tsv", "jsonl"]), extra=st.booleans(), comments=st.booleans(),
       crlf=st.booleans(), bom=st.booleans(), spaces=st.booleans(), order=st.permutations([0, 1, 2]),
       names=st.sampled_from([("step", "lr", "loss"), ("_step", "learning_rate", "train/loss"),
                              ("Step", "train/lr", "train_loss"), ("global_step", "lr-AdamW", "Metrics/loss")]))
def test_fuzz_valid_logs_read_exactly(tmp_path_factory, log, fmt, extra, comments, crlf, bom, spaces, order, names):
    """Every valid log, written as loggers write it (any column order and aliases, extra columns,
    comments and blank lines, CRLF, BOM, padded cells), is read to exactly its values."""
    path = tmp_path_factory.mktemp("valid") / f"run.{fmt}"
    path.write_bytes(_render(fmt, *log, names=names, extra=extra, comments=comments and fmt != "jsonl",
                             crlf=crlf and fmt != "jsonl", bom=bom, spaces=spaces and fmt != "jsonl", order=order))
    _contract(path, expect=log)


JUNK = ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-1", "0", "abc", "3e-", "true", "null", "[]", "{}",
        "9" * 400, str(2**63), "1e12", "0x10", "1_000", "\u00e9", "\u2028", '"', "'", ",", "\\", "#"]


@_settings(HOSTILE_EXAMPLES)
@given(log=logs(), fmt=st.sampled_from(["csv", "tsv", "jsonl"]),
       edits=st.lists(st.tuples(st.integers(0, 41), st.integers(0, 3), st.sampled_from(JUNK)), min_size=1,
                      max_size=4),
       cut=st.one_of(st.none(), st.integers(1, 2000)))
def test_fuzz_hostile_cells_one_line_or_correct(tmp_path_factory, log, fmt, edits, cut):
    """Cells replaced by junk (NaN, infinities, huge integers, text, quotes, separators, steps past
    10^12), extra or missing fields, files cut off anywhere: a correct curve or one clean line."""
    steps, lr, loss = log
    rows = [["step", "lr", "loss"]] + [[str(s), _cell(a), _cell(b)] for s, a, b in zip(steps, lr, loss)]
    for r, c, junk in edits:
        row = rows[min(r, len(rows) - 1)]
        if c == 3:
            row.append(junk)  # one field too many
        else:
            row[c] = junk
    if fmt == "jsonl":
        text = "\n".join(json.dumps(dict(zip(rows[0], _json_value(r)))) for r in rows[1:]) + "\n"
    else:
        sep = "\t" if fmt == "tsv" else ","
        text = "\n".join(sep.join(r) for r in rows) + "\n"
    data = text.encode("utf-8")
    if cut is not None:
        data = data[: cut % (len(data) + 1)] or b"x"
    path = tmp_path_factory.mktemp("hostile") / f"run.{fmt}"
    path.write_bytes(data)
    _contract(path)


def _json_value(row):
    out = []
    for v in row:
        try:
            out.append(json.loads(v))
        except ValueError:
            out.append(v)
    return out


@_settings(BYTES_EXAMPLES)
@given(data=st.binary(max_size=600), prefix=st.sampled_from([b"", b"step,lr,loss\n", b'{"step": 1, "lr": 0.1, ']),
       fmt=st.sampled_from(["csv", "tsv", "jsonl", "json", "txt"]))
def test_fuzz_random_bytes_one_line(tmp_path_factory, data, prefix, fmt):
    """Arbitrary bytes (invalid UTF-8, NUL, deep brackets) after a plausible start: one clean line."""
    path = tmp_path_factory.mktemp("bytes") / f"run.{fmt}"
    path.write_bytes(prefix + data)
    _contract(path)
