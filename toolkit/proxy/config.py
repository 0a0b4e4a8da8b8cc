"""Proxy run configuration: defaults, TOML files, ``key=value`` overrides, validation, TOML output.

A config is a nested dict with a fixed schema (``DEFAULTS``); every key a user gives must exist
there, so a typo stops the run with one line instead of being silently ignored. Free-form tables
(a phase's ``mix``, ``data.domains``) accept any name. ``phases`` is a list of tables; overrides
address its items by index: ``phases.1.replay=0.05``.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
import tomllib
from pathlib import Path

from cltk.errors import InputError
from cltk.proxy.data import BUILTIN_DOMAINS, SAFE_DOMAIN_NAME
from cltk.proxy.model import ModelConfig
from cltk.schedules import MAX_SPEC_STEPS, ScheduleError, parse

__all__ = ["DEFAULTS", "ConfigError", "apply_overrides", "domains", "dump_toml", "load_config", "resolve"]


class ConfigError(InputError):
    """A bad config key, value or file (the message names the key and the problem)."""


DEFAULTS: dict = {
    "name": "",
    "seed": 0,
    "device": "auto",  # auto | cpu | cuda | cuda:N
    "model": dataclasses.asdict(ModelConfig()),
    "data": {
        "cache_dir": "",  # "" = the user cache dir (cltk.proxy.data.default_cache_dir)
        "stdlib_fraction": 1.0,  # share of stdlib files used by the built-in domains (tests use less)
        "val_fraction": 0.1,
        "domains": {},  # NAME = {files = [...]} or {bin = "...", val_bin = "...", dtype = "uint16"}
    },
    "train": {
        "batch_size": 32,  # sequences per optimizer step, over all ranks and micro-batches
        "grad_accum": 1,
        # independent of the LR (Wortsman et al. 2023, Sec. 3.2.2): the fraction of each weight removed
        # per step at peak LR, i.e. coupled decay x peak LR (0.1 x 1e-3 = 1e-4, their setting)
        "weight_decay": 1e-4,
        "beta1": 0.9,
        "beta2": 0.95,
        "eps": 1e-8,
        "grad_clip": 1.0,
        "z_loss": 1e-4,
        "eval_every": 50,
        "eval_batches": 8,
        "eval_domains": [],  # [] = every domain any phase uses
        "ckpt_every": 100,
        "dtype": "auto",  # auto (bfloat16 autocast on CUDA, float32 on CPU) | float32 | bfloat16
        "compile": False,
        "threads": 0,  # torch CPU threads; 0 = torch's default
        "deterministic": True,
    },
    "phases": [],
}
PHASE_DEFAULTS = {"name": "", "steps": 100, "mix": {}, "schedule": "", "replay": 0.0}
_FREE_TABLES = {("data", "domains"), ("mix",)}
_CHOICES = {("device",): ("auto", "cpu", "cuda", "cuda:N"), ("train", "dtype"): ("auto", "float32", "bfloat16")}


def _merge(base: dict, new: dict, path: tuple) -> dict:
    """``new`` merged into a copy of ``base``; keys must exist in ``base`` and types must agree."""
    out = copy.deepcopy(base)
    for key, val in new.items():
        where = ".".join(path + (key,))
        if key not in base:
            known = ", ".join(sorted(base)) or "(none)"
            raise ConfigError(f"unknown config key '{where}' (known keys here: {known})")
        out[key] = _coerce(base[key], val, path + (key,))
    return out


def _coerce(default, val, path: tuple):
    where = ".".join(map(str, path))
    if path[-1:] == ("phases",) or (path and path[0] == "phases" and len(path) == 1):
        if not isinstance(val, list) or not all(isinstance(p, dict) for p in val):
            raise ConfigError(f"'{where}' must be a list of tables ([[phases]] in TOML)")
        return [_merge(PHASE_DEFAULTS, p, (f"phases.{i}",)) for i, p in enumerate(val)]
    if path[-2:] in _FREE_TABLES or path[-1:] in _FREE_TABLES:
        if not isinstance(val, dict):
            raise ConfigError(f"'{where}' must be a table")
        return copy.deepcopy(val)
    if isinstance(default, dict):
        if not isinstance(val, dict):
            raise ConfigError(f"'{where}' must be a table, got {val!r}")
        return _merge(default, val, path)
    if isinstance(default, bool):
        if not isinstance(val, bool):
            raise ConfigError(f"'{where}' must be true or false, got {val!r}")
    elif isinstance(default, int):
        if isinstance(val, bool) or not (isinstance(val, int) or (isinstance(val, float) and val.is_integer())):
            raise ConfigError(f"'{where}' must be an integer, got {val!r}")
        val = int(val)
    elif isinstance(default, float):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise ConfigError(f"'{where}' must be a number, got {val!r}")
        val = float(val)
    elif isinstance(default, str) and not isinstance(val, str):
        raise ConfigError(f"'{where}' must be a string, got {val!r}")
    elif isinstance(default, list) and not isinstance(val, list):
        raise ConfigError(f"'{where}' must be a list, got {val!r}")
    if tuple(path) == ("device",) and re.fullmatch(r"cuda:\d+", str(val)):  # one GPU of several
        return val
    if tuple(path) in _CHOICES and val not in _CHOICES[tuple(path)]:
        raise ConfigError(f"'{where}' must be one of {', '.join(_CHOICES[tuple(path)])}, got {val!r}")
    return val


#: upper bounds on sizes: the proxy is a small CPU/1-GPU model; past these one weight matrix or one
#: batch's activations (d_model^2, vocab x d_model, batch x seq_len x d_model floats) exceeds
#: 100 GB, so a larger value is a typo, not a run (checked before anything is allocated)
_MAX_SIZE = {"model.d_model": 65_536, "model.n_layer": 1_024, "model.n_head": 1_024, "model.seq_len": 1_048_576,
             "model.vocab_size": 1_048_576, "train.batch_size": 1_048_576}


def _parse_value(text: str):
    """A TOML value (``3e-4``, ``true``, ``[1, 2]``, ``"x"``), else the bare text as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(cfg: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Apply ``key.path=value`` overrides (list items by index: ``phases.0.steps=50``)."""
    cfg = copy.deepcopy(cfg)
    for item in overrides:
        key, eq, text = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"override '{item}': expected KEY=VALUE")
        parts = key.strip().split(".")
        node, schema = cfg, DEFAULTS
        for i, part in enumerate(parts[:-1]):
            where = ".".join(parts[:i + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"override '{item}': '{where}' is not an index of a list of {len(node)} item(s)")
                node, schema = node[int(part)], PHASE_DEFAULTS
                continue
            if part not in node:
                if schema == {} or (isinstance(schema, dict) and isinstance(schema.get(part), dict)):
                    node[part] = {}
                else:
                    raise ConfigError(f"override '{item}': unknown config key '{where}'")
            node, schema = node[part], (schema.get(part) if isinstance(schema, dict) else None)
        last = parts[-1]
        if isinstance(node, list):
            raise ConfigError(f"override '{item}': give an item index after '{'.'.join(parts[:-1])}'")
        node[last] = _parse_value(text.strip())
    return resolve(cfg)


def read_toml(path: Path, what: str = "config") -> dict:
    """The table of a TOML file; a missing or malformed file is a one-line ConfigError naming it."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such {what} file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({' '.join(str(e).split())})") from None
    except RecursionError:  # tomllib recurses on nested arrays and inline tables
        raise ConfigError(f"{path}: nested too deeply to be a {what} file") from None


def load_config(path: str | Path | None, overrides=()) -> dict:
    """Read a TOML config (or start from the defaults when ``path`` is None) and apply overrides."""
    raw: dict = {}
    if path is not None:
        path = Path(path)
        raw = read_toml(path)
    try:
        cfg = resolve(raw)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}" if path is not None else str(e)) from None
    return apply_overrides(cfg, overrides) if overrides else cfg


def resolve(raw: dict) -> dict:
    """Defaults merged with ``raw``, then checked: the one function every entry point goes through."""
    cfg = _merge(DEFAULTS, raw, ())
    errs = ModelConfig(**cfg["model"]).check()
    if errs:
        raise ConfigError(errs[0])
    for key, hi in _MAX_SIZE.items():
        sect, k = key.split(".")
        if cfg[sect][k] > hi:
            raise ConfigError(f"{key}: {cfg[sect][k]} is beyond any machine this trains on (limit {hi:,})")
    t = cfg["train"]
    for key in ("batch_size", "grad_accum", "eval_every", "eval_batches", "ckpt_every"):
        if t[key] < 1:
            raise ConfigError(f"train.{key} must be >= 1, got {t[key]}")
    if t["batch_size"] % t["grad_accum"]:
        raise ConfigError(f"train.batch_size={t['batch_size']} is not divisible by train.grad_accum={t['grad_accum']}")
    for key in ("weight_decay", "grad_clip", "z_loss", "eps", "threads"):
        if t[key] < 0:
            raise ConfigError(f"train.{key} must be >= 0, got {t[key]}")
    if not (0 <= t["beta1"] < 1 and 0 <= t["beta2"] < 1):
        raise ConfigError("train.beta1 and train.beta2 must lie in [0, 1)")
    d = cfg["data"]
    if not (0 < d["stdlib_fraction"] <= 1) or not (0 < d["val_fraction"] < 1):
        raise ConfigError("data.stdlib_fraction must lie in (0, 1] and data.val_fraction in (0, 1)")
    for name, spec in d["domains"].items():
        if not SAFE_DOMAIN_NAME.fullmatch(name):  # the name becomes a cache file name: no '../' escapes
            raise ConfigError(f"data.domains.{name}: a domain name may use only letters, digits, '_', '.', '-' "
                              f"and may not start with '.'")
        if not isinstance(spec, dict) or not set(spec) <= {"files", "bin", "val_bin", "dtype"}:
            raise ConfigError(f"data.domains.{name} must be a table with keys files | bin, val_bin, dtype")
        files = spec.get("files", ["x"])
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise ConfigError(f"data.domains.{name}.files: must be a non-empty list of file names, got {files!r:.60}")
    if not cfg["phases"]:
        raise ConfigError("no [[phases]] given: a run needs at least one phase (steps, mix, schedule)")
    for i, ph in enumerate(cfg["phases"]):
        _check_phase(i, ph, cfg)
    return cfg


def domains(cfg: dict) -> set[str]:
    """Every domain a phase's mix (or a plan built on this config) may name: the built-in ones and
    the config's ``data.domains``."""
    return set(cfg["data"]["domains"]) | set(BUILTIN_DOMAINS)


def _check_phase(i: int, ph: dict, cfg: dict) -> None:
    where = f"phases.{i}"
    if not 1 <= ph["steps"] <= MAX_SPEC_STEPS:
        raise ConfigError(f"{where}.steps must lie in [1, {MAX_SPEC_STEPS:.0e}], got {ph['steps']}")
    if not ph["mix"]:
        raise ConfigError(f"{where}.mix is empty: give domain weights, e.g. mix = {{prose = 1.0}}")
    known = domains(cfg)
    for dom, w in ph["mix"].items():
        if dom not in known:
            raise ConfigError(f"{where}.mix: unknown domain '{dom}' (known: {', '.join(sorted(known))})")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0 or not math.isfinite(w):
            raise ConfigError(f"{where}.mix.{dom} must be a weight >= 0, got {w!r}")
    if sum(ph["mix"].values()) <= 0:
        raise ConfigError(f"{where}.mix: the weights sum to 0")
    if not 0 <= ph["replay"] < 1:
        raise ConfigError(f"{where}.replay must lie in [0, 1), got {ph['replay']}")
    if ph["replay"] and i == 0:
        raise ConfigError(f"{where}.replay: the first phase has no earlier data to replay")
    if not ph["schedule"]:
        raise ConfigError(f"{where}.schedule is empty: give a schedule spec, e.g. cosine:peak=1e-3,steps=300")
    try:
        sched = parse(ph["schedule"])
        sched.render(min(ph["steps"], 1))
    except ScheduleError as e:
        raise ScheduleError(f"{where}.schedule: {e}") from None
    if sched.steps is not None and sched.steps != ph["steps"]:
        # rendering would silently cut a longer schedule or hold a shorter one's last LR
        raise ConfigError(f"{where}.schedule lasts {sched.steps} steps but {where}.steps = {ph['steps']}: "
                          "make them equal (or give an unbounded schedule)")


def phase_weights(cfg: dict) -> list[dict[str, float]]:
    """Each phase's normalised domain weights, with its replay share drawn from the previous phase's
    mix (Ibrahim et al. 2024, Sec. 5: replay = a fraction of each batch from the earlier data)."""
    out: list[dict[str, float]] = []
    for ph in cfg["phases"]:
        total = sum(ph["mix"].values())
        w = {k: (1 - ph["replay"]) * v / total for k, v in ph["mix"].items() if v > 0}
        if ph["replay"]:
            for k, v in out[-1].items():
                w[k] = w.get(k, 0.0) + ph["replay"] * v
        out.append(w)
    return out


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dump_toml(cfg: dict) -> str:
    """The config as TOML that :func:`load_config` reads back to the same dict."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in cfg.items() if not isinstance(v, (dict, list))]
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
    for ph in cfg.get("phases", []):
        lines += ["", "[[phases]]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in ph.items()]
    return "\n".join(lines) + "\n"
