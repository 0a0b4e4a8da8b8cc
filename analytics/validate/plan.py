"""Validation plans (TOML): which proxy runs to train, which laws to fit on which, what to predict.

```toml
name = "cpu"
proxy = "../proxy/tiny_cpu.toml"   # base proxy config (relative to the plan file)
set = ["model.d_model=64"]          # proxy overrides, as `cltk proxy train --set`
seeds = [0]
laws = ["poweranneal", "multipower", "momentum"]
executor = "local"                  # local | submitit
workers = 1                         # local: the cores are split between the workers (train.threads overrides)
domain = "prose"                    # the single-domain runs train and are evaluated on this domain

[schedules]                         # single-phase runs: fit the laws on `fit`, predict `heldout`
fit = ["constant:lr=3e-3,steps=300", "cosine:peak=3e-3,steps=300,final=3e-4,warmup=30"]
heldout = ["wsd:peak=3e-3,steps=300,decay=0.2,warmup=30"]

[cpt]                               # optional: continual pre-training old -> new domain
old = "prose"
new = "code"
pretrain = "cosine:peak=3e-3,steps=200,final=3e-4,warmup=20"   # any bounded spec, joined ones too
steps = 200
final_ratio = 0.1                   # each re-warmed phase decays to final_ratio * peak
weight_old = 0.5                    # selection minimises weight_old * L_old + (1 - weight_old) * L_new
fit = [{peak = 3e-3, warmup = 20, replay = 0.0}, ...]
heldout = [{peak = 1e-3, warmup = 20, replay = 0.1}]
```

:func:`load_plan` checks every key once and parses every spec once: the plan it returns carries
:class:`Schedule` objects (``fit``, ``heldout``, ``cpt.pretrain``, and each CPT setting's
``phase`` and ``whole`` schedules) and the resolved base proxy config (``base``). Every problem is
one line naming the plan file and the plan's own key.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from cltk.analytics.executors import EXECUTORS
from cltk.errors import InputError
from cltk.laws import LAWS, CPTLaw
from cltk.proxy import ConfigError, apply_overrides, domains, load_config
from cltk.proxy.config import read_toml
from cltk.schedules import Schedule, ScheduleError, parse
from cltk.selection import cpt_rewarm, cpt_schedule

TOP_KEYS = {"name", "proxy", "set", "seeds", "laws", "executor", "workers", "domain", "schedules", "cpt",
            "submitit"}
CPT_KEYS = {"old", "new", "pretrain", "steps", "final_ratio", "weight_old", "fit", "heldout"}
SETTING_KEYS = {"peak", "warmup", "replay"}


class _Checker:
    """Type checks of one plan file: each failure is ``InputError('<plan>: <key>: <problem>')``."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, msg: str):
        raise InputError(f"{self.path}: {key}: {msg}")

    def integer(self, key: str, v, lo: int, hi: int = 10**9) -> int:
        """An integer in [lo, hi]: no bool, no float (workers = 1.5 or true is an error, not 1)."""
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.fail(key, f"expected an integer in [{lo}, {hi:,}], got {v!r:.60}")
        return v

    def number(self, key: str, v, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
            span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
            self.fail(key, f"expected a number in {span}, got {v!r}")
        return float(v)

    def text(self, key: str, v) -> str:
        if not isinstance(v, str) or not v:
            self.fail(key, f"expected a non-empty string, got {v!r}")
        return v

    def items(self, key: str, v, of: type, non_empty: bool = True) -> list:
        ok = isinstance(v, list) and all(isinstance(x, of) and not isinstance(x, bool) for x in v)
        if not ok or (non_empty and not v):
            self.fail(key, f"expected a {'non-empty ' if non_empty else ''}list of {of.__name__}s, got {v!r}")
        return list(v)

    def table(self, key: str, v, allowed: set | None) -> dict:
        """A table whose keys are ``allowed`` (None: any key)."""
        if not isinstance(v, dict):
            self.fail(key, f"expected a table, got {v!r}")
        unknown = set(v) - allowed if allowed is not None else set()
        if unknown:
            self.fail(key, f"unknown key(s) {sorted(unknown)} (allowed: {', '.join(sorted(allowed))})")
        return v

    def schedule(self, key: str, spec) -> Schedule:
        """A bounded schedule (it sets the run's length)."""
        try:
            s = parse(self.text(key, spec))
        except ScheduleError as e:
            self.fail(key, str(e))
        if s.steps is None:
            self.fail(key, f"schedule '{spec}' needs a length (steps=...)")
        return s

    def domain(self, key: str, v, known: set) -> str:
        if self.text(key, v) not in known:
            self.fail(key, f"unknown domain '{v}' (the proxy config knows {', '.join(sorted(known))})")
        return v


def load_plan(path) -> dict:
    """Read and check a plan (see the module docstring)."""
    path = Path(path)
    raw = read_toml(path, "plan")
    ck = _Checker(path)
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise InputError(f"{path}: unknown key(s) {sorted(unknown)} (allowed: {', '.join(sorted(TOP_KEYS))})")
    if "proxy" not in raw:
        raise InputError(f"{path}: missing 'proxy' (the base proxy config file)")
    plan = {"name": ck.text("name", raw.get("name", path.stem)),
            "proxy": str((path.parent / ck.text("proxy", raw["proxy"])).resolve()),
            "set": ck.items("set", raw.get("set", []), str, non_empty=False),
            "seeds": ck.items("seeds", raw.get("seeds", [0]), int),
            "laws": ck.items("laws", raw.get("laws", list(LAWS)), str),
            "executor": raw.get("executor", "local"),
            "workers": ck.integer("workers", raw.get("workers", 1), 1, 4096),
            "submitit": dict(ck.table("submitit", raw.get("submitit", {}), None)),
            "path": str(path)}
    if any(not 0 <= s < 2**32 for s in plan["seeds"]):  # numpy / torch seeds are 32-bit
        ck.fail("seeds", f"seeds must lie in [0, 2^32), got {plan['seeds']!r:.60}")
    for law in plan["laws"]:
        if law not in LAWS:
            ck.fail("laws", f"unknown law '{law}' (choose from {', '.join(LAWS)})")
    if plan["executor"] not in EXECUTORS:
        ck.fail("executor", f"unknown executor {plan['executor']!r} (choose from {', '.join(EXECUTORS)})")
    plan["base"] = _base_config(ck, plan)
    known = domains(plan["base"])
    plan["domain"] = ck.domain("domain", raw.get("domain", "prose"), known)
    sch = ck.table("schedules", raw.get("schedules", {}), {"fit", "heldout"})
    for role in ("fit", "heldout"):
        specs = ck.items(f"schedules.{role}", sch.get(role, []), str, non_empty=False)
        plan[role] = [ck.schedule(f"schedules.{role}[{i}]", s) for i, s in enumerate(specs)]
    if plan["fit"] or plan["heldout"]:
        # the laws' own minimum (LossLaw.min_curves), the same number their fit() enforces
        need = max(LAWS[law].min_curves for law in plan["laws"])
        if len(plan["fit"]) < need:
            ck.fail("schedules.fit", f"{len(plan['fit'])} fit schedule(s); the laws {plan['laws']} need "
                                     f"at least {need}")
    plan["cpt"] = _load_cpt(ck, raw["cpt"], known) if "cpt" in raw else None
    if not (plan["fit"] or plan["cpt"]):
        raise InputError(f"{path}: nothing to validate: give [schedules] fit/heldout and/or a [cpt] table")
    return plan


def _base_config(ck: _Checker, plan: dict) -> dict:
    """The base proxy config with the plan's overrides, resolved once; its errors name ``proxy``
    (the file) or ``set`` (an override)."""
    try:
        base = load_config(plan["proxy"])
    except ConfigError as e:
        ck.fail("proxy", str(e))
    try:
        return apply_overrides(base, plan["set"])
    except ConfigError as e:
        ck.fail("set", str(e))


def _load_cpt(ck: _Checker, c, known: set) -> dict:
    ck.table("cpt", c, CPT_KEYS)
    for key in ("old", "new", "pretrain", "steps"):
        if key not in c:
            ck.fail("cpt", f"missing '{key}'")
    out = {"old": ck.domain("cpt.old", c["old"], known), "new": ck.domain("cpt.new", c["new"], known),
           "pretrain": ck.schedule("cpt.pretrain", c["pretrain"]),
           # a continual phase of one step has nothing to re-warm or select (select_cpt needs >= 2)
           "steps": ck.integer("cpt.steps", c["steps"], 2),
           "final_ratio": ck.number("cpt.final_ratio", c.get("final_ratio", 0.1), 0, 1),
           "weight_old": ck.number("cpt.weight_old", c.get("weight_old", 0.5), 0, 1)}
    if out["old"] == out["new"]:
        ck.fail("cpt", "'old' and 'new' must be different domains")
    for role in ("fit", "heldout"):
        out[role] = []
        for i, s in enumerate(ck.items(f"cpt.{role}", c.get(role, []), dict, non_empty=False)):
            key = f"cpt.{role}[{i}]"
            ck.table(key, s, SETTING_KEYS)
            if "peak" not in s:
                ck.fail(key, "missing 'peak'")
            st = {"peak": ck.number(f"{key}.peak", s["peak"], 0, math.inf, lo_open=True),
                  "warmup": ck.integer(f"{key}.warmup", s.get("warmup", 0), 0),
                  "replay": ck.number(f"{key}.replay", s.get("replay", 0.0), 0, 1, hi_open=True)}
            if st["warmup"] >= out["steps"]:
                ck.fail(f"{key}.warmup", f"{st['warmup']} must be shorter than cpt.steps = {out['steps']}")
            try:
                st["phase"], st["whole"] = cpt_phases(out, st)
            except ScheduleError as e:
                ck.fail(key, str(e))
            out[role].append(st)
    need = CPTLaw.min_curves
    if len(out["fit"]) < need:
        ck.fail("cpt.fit", f"{len(out['fit'])} setting(s); the CPT law needs at least {need}")
    return out


def cpt_phases(cpt: dict, setting: dict) -> tuple[Schedule, Schedule]:
    """The re-warmed continual phase of one CPT setting, and the whole schedule (pre-training, then
    that phase), both built by :mod:`cltk.selection` for the CPT law (Ibrahim et al. 2024, Sec. 5);
    tests check that ``join(pretrain, phase)`` renders the whole schedule exactly."""
    pre = cpt["pretrain"]
    phase = cpt_rewarm(pre, cpt["steps"], setting["peak"], setting["warmup"], cpt["final_ratio"])
    return phase, cpt_schedule(pre, cpt["steps"], setting["peak"], setting["warmup"], cpt["final_ratio"])


def config_hash(cfg: dict) -> str:
    """Identity of a run: the hash of its resolved proxy config (reused when it has finished)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]
