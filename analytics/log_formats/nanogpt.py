"""nanoGPT (karpathy/nanoGPT ``train.py``, 2023-2024) console output saved as a text file:

    iter 100: loss 4.2100, time 35.12ms, mfu 3.21%
    step 250: train loss 4.2100, val loss 4.3000

``iter N`` lines hold the training loss of iteration N's last micro-batch; ``step N`` lines the
estimates of the train and validation loss (``eval_iters`` batches each). Both are measured after
N updates, cltk's step N. Other lines (configuration, "saving checkpoint") are skipped. nanoGPT
does not print the learning rate: a schedule spec must give it (``--schedule FILE=SPEC``); its
``get_lr(it)`` is the LR of update ``it + 1`` in cltk's convention."""
from __future__ import annotations

import re
from pathlib import Path

from cltk.analytics.log_files import records_table
from cltk.analytics.log_formats.base import LogFormat, choose_columns

_NUM = r"([^\s,]+)"
ITER = re.compile(rf"^iter (\d+): loss {_NUM}")
STEP = re.compile(rf"^step (\d+): train loss {_NUM}, val loss {_NUM}")
NO_LR = "a nanoGPT text log holds no learning rate (nanoGPT does not print it): give the schedule"


def detect(probe) -> bool:
    if probe.head is None:
        return False
    lines = probe.head.split("\n")[:2000]
    return any(ITER.match(ln) or STEP.match(ln) for ln in lines)


def read(path: Path, text: str):
    records, where, warnings = [], [], []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        line = line.rstrip("\r")
        m, e = ITER.match(line), STEP.match(line)
        if not (m or e):
            continue
        if i == len(lines) - 1:  # no newline after it: print() had not finished the line
            warnings.append(f"{path}: line {i + 1}: the last line is not complete (a log still being written?); "
                            "it was dropped")
            continue
        rec = {"step": int((m or e).group(1))}
        rec.update({"loss": m.group(2)} if m else {"train loss": e.group(2), "val loss": e.group(3)})
        records.append(rec)
        where.append(f"line {i + 1}")
    return records_table(path, records, where, warnings)


def choose(names, loss):
    return choose_columns(names, loss, step=("step",), train=("loss", "train loss"), val=("val loss",), lr=(),
                          no_lr=NO_LR)


FORMAT = LogFormat("nanogpt", "nanoGPT train.py console output (iter/step lines, 2023-2024)", detect, choose,
                   read=read)
