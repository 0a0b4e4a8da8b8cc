"""Option types and option groups shared by the commands: click checks every flag (type, range,
list shape) before a job runs, so the layers below never name a flag."""
from __future__ import annotations

import math

import click


class NumberList(click.ParamType):
    """A comma-separated list of finite numbers (``kind`` float or int; ints may be written "1e4"
    but must be whole) or of names (``kind`` str), with optional bounds and exact length.
    The value arrives at the command as a tuple."""

    name = "list"

    def __init__(self, kind: type = float, count: int | None = None, min: float | None = None,
                 max: float | None = None, min_open: bool = False, choices: tuple[str, ...] | None = None,
                 max_open: bool = False):
        self.kind, self.count, self.choices = kind, count, choices
        self.min, self.max, self.min_open, self.max_open = min, max, min_open, max_open

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value)
        if self.kind is str:
            names = tuple(v.strip() for v in text.split(",") if v.strip())
            if not names:
                self.fail("empty list", param, ctx)
            bad = [n for n in names if self.choices and n not in self.choices]
            if bad:
                self.fail(f"unknown value '{bad[0]}' (choose from {', '.join(self.choices)})", param, ctx)
            return names
        what = f"{self.count} " if self.count else ""
        try:
            vals = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            self.fail(f"expected {what}comma-separated numbers, got '{text}'", param, ctx)
        if not vals or (self.count and len(vals) != self.count):
            self.fail(f"expected {what or 'at least one '}comma-separated numbers, got '{text}'", param, ctx)
        if not all(math.isfinite(v) for v in vals):
            self.fail(f"values must be finite, got '{text}'", param, ctx)
        for v in vals:
            if self.min is not None and (v < self.min or (self.min_open and v == self.min)):
                self.fail(f"values must be {'>' if self.min_open else '>='} {self.min:g}, got {v:g}", param, ctx)
            if self.max is not None and (v > self.max or (self.max_open and v == self.max)):
                self.fail(f"values must be {'<' if self.max_open else '<='} {self.max:g}, got {v:g}", param, ctx)
        if self.kind is int:
            if any(v != int(v) for v in vals):
                self.fail(f"expected whole numbers, got '{text}'", param, ctx)
            return tuple(int(v) for v in vals)
        return tuple(vals)


class FiniteFloat(click.ParamType):
    """A finite float (no nan / inf), optionally bounded below (``min``; ``min_open`` excludes it)
    and above."""

    name = "float"

    def __init__(self, min: float | None = None, max: float | None = None, min_open: bool = False,
                 max_open: bool = False):
        self.min, self.max, self.min_open, self.max_open = min, max, min_open, max_open

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            v = value
        else:
            try:
                v = float(value)
            except (TypeError, ValueError):
                self.fail(f"'{value}' is not a number", param, ctx)
        if not math.isfinite(v):
            self.fail(f"must be finite, got {value}", param, ctx)
        if self.min is not None and (v < self.min or (self.min_open and v == self.min)):
            self.fail(f"must be {'>' if self.min_open else '>='} {self.min:g}, got {v:g}", param, ctx)
        if self.max is not None and (v > self.max or (self.max_open and v == self.max)):
            self.fail(f"must be {'<' if self.max_open else '<='} {self.max:g}, got {v:g}", param, ctx)
        return v


class ScheduleSpec(click.ParamType):
    """A schedule spec (``cltk.schedules.parse`` grammar), converted to a :class:`Schedule`."""

    name = "spec"

    def convert(self, value, param, ctx):
        from cltk.schedules import Schedule, ScheduleError, parse

        if isinstance(value, Schedule):
            return value
        try:
            return parse(str(value))
        except ScheduleError as e:
            self.fail(str(e), param, ctx)


POSITIVE = FiniteFloat(min=0, min_open=True)

class DeviceName(click.ParamType):
    """A torch device as every command takes it: ``auto`` (CUDA when torch sees one), ``cpu``,
    ``cuda`` or ``cuda:N`` (resolved by :func:`cltk.runtime.resolve_device` when the job runs)."""

    name = "auto|cpu|cuda[:N]"

    def convert(self, value, param, ctx):
        text = str(value).strip().lower()
        if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
            return text
        self.fail(f"'{value}' is not a device (auto, cpu, cuda or cuda:N)", param, ctx)


def device_option(default: str | None, what: str, note: str = ""):
    """``--device``: one type and one wording in every command; ``what`` says what runs there."""
    return click.option("--device", type=DeviceName(), default=default, show_default=default is not None,
                        metavar="[auto|cpu|cuda[:N]]",
                        help=f"Where {what} runs: auto (CUDA when available), cpu, cuda or cuda:N{note}.")


#: the --device option of the batched simulators (nqm, river-valley, rehearsal): the models are small,
# so the CPU is the default (faster unless --seeds is large)
DEVICE = device_option("cpu", "the batched simulation", "; the CPU is usually faster unless --seeds is large")


class OutDir(click.ParamType):
    """An output folder: not a file, and creatable and writable here (checked before any work,
    so an unwritable ``--out`` is one line, not a failure after an hour of training)."""

    name = "folder"

    def convert(self, value, param, ctx):
        from pathlib import Path

        from cltk.analytics.output_folder import check_out_dir
        from cltk.errors import InputError

        path = Path(value)
        try:
            check_out_dir(path)
        except InputError as e:
            self.fail(str(e), param, ctx)
        return path


def schedule_options(default: str):
    """``--schedule SPEC`` (repeatable, parsed to Schedules) and ``--steps``, as the schedule-driven
    simulators take them; ``default`` says which schedules run when none is given."""
    def apply(f):
        f = click.option("--steps", type=click.IntRange(min=2), default=None,
                         help="Steps to simulate (default: longest schedule).")(f)
        return click.option("--schedule", "schedules", multiple=True, metavar="SPEC", type=ScheduleSpec(),
                            help="LR schedule spec (repeatable), e.g. 'wsd:peak=0.5,steps=500,decay=0.2'; "
                                 "'cyclic:peak=..,steps=..,cycles=4' is cosine with warm restarts. "
                                 f"Default: {default}.")(f)
    return apply


class MultiValueCommand(click.Command):
    """A command whose ``multi_value_options`` each take several values after one flag
    (``--predict A B C``), as the documented usages read; click alone would silently treat B and C
    as positional arguments. Subclass it and name the options."""

    multi_value_options: tuple[str, ...] = ()

    def parse_args(self, ctx, args):
        out, current, given = [], None, 0
        for a in [*args, "--"]:  # the sentinel "--" ends a trailing --predict (and is dropped below)
            if current is not None and not given and a.startswith("-"):
                raise click.UsageError(f"{current}: give at least one file after it", ctx)
            if a in self.multi_value_options:
                current, given = a, 0
                continue
            if a.startswith("-"):
                current = None
            elif current is not None:
                out.append(current)
                given += 1
            out.append(a)
        return super().parse_args(ctx, out[:-1])
