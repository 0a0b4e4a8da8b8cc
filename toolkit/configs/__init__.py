"""Configs shipped with cltk (package data, so they work from any install):

- ``proxy/tiny_cpu.toml``, ``proxy/tiny_schedules.toml``, ``proxy/gpu_50m.toml``: proxy runs;
- ``validate/cpu.toml`` (the plan ``cltk demo`` runs), ``validate/gpu.toml``: validation plans.

``cltk`` commands take them by path; :func:`path` finds one in any install."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(name: str) -> Path:
    """The file of a shipped config, e.g. ``path("validate/cpu.toml")``."""
    return Path(str(files("cltk.configs").joinpath(name)))
