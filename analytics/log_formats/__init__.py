"""Log adapters: each tool's log layout -> the runs it holds, with the step, loss and LR columns
of each (docs/log-formats.md). One module per tool, all registered in :data:`FORMATS`.

Reading a file: its text (or TensorBoard tags) is probed; the first format whose ``read`` applies
parses a file that is not a plain table (trainer_state.json, nanoGPT text), else the file is parsed
as CSV/TSV/JSON Lines by content (:mod:`cltk.analytics.log_files`); a format whose ``split``
applies cuts it into runs (W&B panel exports); each run's columns are then chosen by the first
format that detects its names, the generic aliases last."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cltk.analytics.log_files import LogTable, is_tensorboard, parse_text, read_text, tensorboard
from cltk.analytics.log_formats import (
    generic,
    hf_trainer,
    lightning,
    litgpt,
    nanogpt,
    olmo_core,
    torchtitan,
    wandb_export,
    wandb_history,
)
from cltk.analytics.log_formats.base import Choice, LogFormat, Probe

__all__ = ["FORMATS", "Choice", "LogFormat", "Run", "open_runs"]

#: every adapter, in the order they are tried (the most specific first; ``table`` matches anything)
FORMATS: tuple[LogFormat, ...] = (
    hf_trainer.FORMAT,     # read: a JSON document with log_history
    nanogpt.FORMAT,        # read: iter/step console lines
    wandb_export.FORMAT,   # split: "<run> - <metric>" columns, one table per run
    litgpt.FORMAT,         # choose: the rest by column names
    lightning.FORMAT,
    olmo_core.FORMAT,
    torchtitan.FORMAT,
    wandb_history.FORMAT,
    generic.FORMAT,
)

HEAD_CHARS = 65536


@dataclass
class Run:
    """One run found in a log file: its table, the format that chooses its columns, the name of the
    run inside the file (W&B exports) or from the folder layout, and the formats that read it
    (``wandb-export+olmo-core``)."""

    table: LogTable
    chooser: LogFormat
    fmt: str
    name: str | None
    in_file: bool  # several runs share the file (a run name is needed to tell them apart)

    def choose(self, loss: str) -> Choice:
        return self.chooser.choose(self.table.names, loss)


def open_runs(path: Path) -> list[Run]:
    """The runs a log file (or TensorBoard folder) holds, detected by content."""
    path = Path(path)
    reader = None
    if is_tensorboard(path):
        table, head = tensorboard(path), None
    else:
        text = read_text(path)
        head = text[:HEAD_CHARS]
        probe = Probe(path, head=head)
        reader = next((f for f in FORMATS if f.read is not None and f.detect(probe)), None)
        table = reader.read(path, text) if reader else parse_text(path, text)
    if reader is not None:
        return [Run(table, reader, reader.name, _name(reader, path), False)]
    probe = Probe(path, head=head, names=tuple(table.names))
    splitter = next((f for f in FORMATS if f.split is not None and f.detect(probe)), None)
    if splitter is None:
        chooser = _chooser(probe)
        return [Run(table, chooser, chooser.name, _name(chooser, path), False)]
    runs = []
    for run, part in splitter.split(table):
        chooser = _chooser(Probe(path, head=head, names=tuple(part.names)))
        fmt = splitter.name if chooser is generic.FORMAT or chooser is wandb_history.FORMAT \
            else f"{splitter.name}+{chooser.name}"
        runs.append(Run(part, chooser, fmt, run, True))
    return runs


def _chooser(probe: Probe) -> LogFormat:
    return next(f for f in FORMATS if f.choose is not None and f.read is None and f.detect(probe))


def _name(fmt: LogFormat, path: Path) -> str | None:
    return fmt.run_name(path) if fmt.run_name else None
