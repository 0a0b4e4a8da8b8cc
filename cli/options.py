"""Parsing of option values shared by the commands."""
from __future__ import annotations

import math

import click

from analytics.errors import InputError


def schedule_options(default: str):
    """``--schedule SPEC`` (repeatable) and ``--steps``, as the schedule-driven simulators take them;
    ``default`` says which schedules run when none is given."""
    def apply(f):
        f = click.option("--steps", type=int, default=None,
                         help="Steps to simulate (default: longest schedule).")(f)
        return click.option("--schedule", "specs", multiple=True, metavar="SPEC",
                            help="LR schedule spec (repeatable), e.g. 'wsd:peak=0.5,steps=500,decay=0.2'; "
                                 "'cyclic:peak=..,steps=..,cycles=4' is cosine with warm restarts. "
                                 f"Default: {default}.")(f)
    return apply


def number_list(text: str | None, option: str, kind: type = float, count: int | None = None) -> list | None:
    """A comma-separated option value as a list of finite ``kind`` (float or int) values, or of
    names when ``kind`` is str; None stays None. Integers may be written as floats ("1e4") but
    must be whole."""
    if text is None:
        return None
    if kind is str:
        names = [v.strip() for v in str(text).split(",") if v.strip()]
        if not names:
            raise InputError(f"{option}: empty list")
        return names
    what = f"{count} " if count else ""
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{option}: expected {what}comma-separated numbers, got '{text}'") from None
    if not vals or (count and len(vals) != count):
        raise InputError(f"{option}: expected {what or 'at least one '}comma-separated numbers, got '{text}'")
    if not all(math.isfinite(v) for v in vals):
        raise InputError(f"{option}: values must be finite, got '{text}'")
    if kind is int:
        if any(v != int(v) for v in vals):
            raise InputError(f"{option}: expected whole numbers, got '{text}'")
        return [int(v) for v in vals]
    return vals
