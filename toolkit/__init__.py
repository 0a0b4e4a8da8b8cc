"""cltk: theory of training dynamics and continual learning.

What users import (each name is loaded on first use, so ``import cltk`` and the ``cltk`` command
start fast)::

    from cltk import MultiPowerLaw, read_curve, select_schedule, schedules
    law = MultiPowerLaw().fit([read_curve("cosine.csv"), read_curve("constant.csv")])
    choice = select_schedule(law, total_steps=24000, peak_lr=3e-4, family="wsd")

Subpackages: ``cltk.schedules`` (schedules as pure functions step -> lr), ``cltk.curves``,
``cltk.laws`` (loss-curve laws as estimators), ``cltk.selection``, ``cltk.models`` (analytic
models), ``cltk.proxy`` (small-transformer proxy), ``cltk.analytics`` (readers, jobs, reports) and
``cltk.cli`` (the ``cltk`` command).
"""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

# public name -> module that defines it
_EXPORTS = {
    "InputError": "cltk.errors",
    "Schedule": "cltk.schedules",
    "ScheduleError": "cltk.schedules",
    "Curve": "cltk.curves",
    "LossLaw": "cltk.laws",
    "LawError": "cltk.laws",
    "MultiPowerLaw": "cltk.laws",
    "MomentumLaw": "cltk.laws",
    "PowerAnnealLaw": "cltk.laws",
    "CPTLaw": "cltk.laws",
    "get_law": "cltk.laws",
    "load_law": "cltk.laws",
    "select_schedule": "cltk.selection",
    "select_cpt": "cltk.selection",
    "Selection": "cltk.selection",
    "read_curve": "cltk.analytics.curve_files",
    "read_curves": "cltk.analytics.curve_files",
}
_SUBMODULES = ("schedules", "curves", "laws", "selection", "models", "proxy", "analytics", "runtime", "errors")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"cltk.{name}")
    raise AttributeError(f"module 'cltk' has no attribute '{name}'")


def __dir__():
    return __all__
