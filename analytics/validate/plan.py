"""Validation plans (TOML): which proxy runs to train, which laws to fit on which, what to predict.

```toml
name = "cpu"
proxy = "../proxy/tiny_cpu.toml"   # base proxy config (relative to the plan file)
set = ["model.d_model=64"]          # proxy overrides, as `cltk proxy train --set`
seeds = [0]
laws = ["multipower", "momentum"]
executor = "local"                  # local | submitit
workers = 1
domain = "prose"                    # the single-domain runs train and are evaluated on this domain

[schedules]                         # single-phase runs: fit the laws on `fit`, predict `heldout`
fit = ["constant:lr=3e-3,steps=300", "cosine:peak=3e-3,steps=300,final=3e-4,warmup=30"]
heldout = ["wsd:peak=3e-3,steps=300,decay=0.2,warmup=30"]

[cpt]                               # optional: continual pre-training old -> new domain
old = "prose"
new = "code"
pretrain = "cosine:peak=3e-3,steps=200,final=3e-4,warmup=20"
steps = 200
final_ratio = 0.1                   # each re-warmed phase decays to final_ratio * peak
weight_old = 0.5                    # selection minimises weight_old * L_old + (1 - weight_old) * L_new
fit = [{peak = 3e-3, warmup = 20, replay = 0.0}, ...]
heldout = [{peak = 1e-3, warmup = 20, replay = 0.1}]
```
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cltk.errors import InputError
from cltk.analytics.executors import EXECUTORS
from cltk.laws import LAWS
from cltk.proxy.config import ConfigError, read_toml
from cltk.schedules import ScheduleError, parse
from cltk.selection import cpt_schedule

TOP_KEYS = {"name", "proxy", "set", "seeds", "laws", "executor", "workers", "domain", "schedules", "cpt",
            "submitit"}
CPT_KEYS = {"old", "new", "pretrain", "steps", "final_ratio", "weight_old", "fit", "heldout"}
SETTING_KEYS = {"peak", "warmup", "replay"}
#: schedules a law needs to fit: its parameters are identified only with an annealed and a constant-ish run
MIN_FIT_RUNS = {"multipower": 2, "momentum": 2, "cpt": 3}


def _fail(plan_path: Path, msg: str):
    raise InputError(f"{plan_path}: {msg}")


def _spec(plan_path: Path, where: str, spec) -> str:
    if not isinstance(spec, str):
        _fail(plan_path, f"{where}: schedule spec must be a string, got {spec!r}")
    try:
        s = parse(spec)
    except ScheduleError as e:
        _fail(plan_path, f"{where}: {e}")
    if s.steps is None:
        _fail(plan_path, f"{where}: schedule '{spec}' needs a length (steps=...)")
    return s.spec


def load_plan(path) -> dict:
    """Read and check a plan; every problem is one line naming the plan file and the key."""
    path = Path(path)
    raw = read_toml(path, "plan")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        _fail(path, f"unknown key(s) {sorted(unknown)} (allowed: {', '.join(sorted(TOP_KEYS))})")
    if "proxy" not in raw:
        _fail(path, "missing 'proxy' (the base proxy config file)")
    plan = {"name": raw.get("name", path.stem), "proxy": str((path.parent / raw["proxy"]).resolve()),
            "set": list(raw.get("set", [])), "seeds": list(raw.get("seeds", [0])),
            "laws": list(raw.get("laws", list(LAWS))), "executor": raw.get("executor", "local"),
            "workers": int(raw.get("workers", 1)), "domain": raw.get("domain", "prose"),
            "submitit": dict(raw.get("submitit", {})), "path": str(path)}
    for law in plan["laws"]:
        if law not in LAWS:
            _fail(path, f"laws: unknown law '{law}' (choose from {', '.join(LAWS)})")
    if plan["executor"] not in EXECUTORS:
        _fail(path, f"executor: unknown executor '{plan['executor']}' (choose from {', '.join(EXECUTORS)})")
    if not plan["seeds"] or not all(isinstance(s, int) for s in plan["seeds"]):
        _fail(path, "seeds: expected a non-empty list of integers")
    sch = raw.get("schedules", {})
    if set(sch) - {"fit", "heldout"}:
        _fail(path, f"schedules: unknown key(s) {sorted(set(sch) - {'fit', 'heldout'})}")
    plan["fit"] = [_spec(path, f"schedules.fit[{i}]", s) for i, s in enumerate(sch.get("fit", []))]
    plan["heldout"] = [_spec(path, f"schedules.heldout[{i}]", s) for i, s in enumerate(sch.get("heldout", []))]
    if plan["fit"] or plan["heldout"]:
        need = max(MIN_FIT_RUNS[law] for law in plan["laws"])
        if len(plan["fit"]) < need:
            _fail(path, f"schedules.fit: {len(plan['fit'])} fit schedule(s); the laws {plan['laws']} need "
                        f"at least {need}")
    plan["cpt"] = _load_cpt(path, raw["cpt"]) if "cpt" in raw else None
    if not (plan["fit"] or plan["cpt"]):
        _fail(path, "nothing to validate: give [schedules] fit/heldout and/or a [cpt] table")
    return plan


def _load_cpt(path: Path, c: dict) -> dict:
    unknown = set(c) - CPT_KEYS
    if unknown:
        _fail(path, f"cpt: unknown key(s) {sorted(unknown)} (allowed: {', '.join(sorted(CPT_KEYS))})")
    for key in ("old", "new", "pretrain", "steps"):
        if key not in c:
            _fail(path, f"cpt: missing '{key}'")
    out = {"old": c["old"], "new": c["new"], "pretrain": _spec(path, "cpt.pretrain", c["pretrain"]),
           "steps": int(c["steps"]), "final_ratio": float(c.get("final_ratio", 0.1)),
           "weight_old": float(c.get("weight_old", 0.5))}
    if out["old"] == out["new"]:
        _fail(path, "cpt: 'old' and 'new' must be different domains")
    if not 0 <= out["weight_old"] <= 1:
        _fail(path, "cpt.weight_old must be in [0, 1]")
    for role in ("fit", "heldout"):
        out[role] = []
        for i, s in enumerate(c.get(role, [])):
            where = f"cpt.{role}[{i}]"
            if not isinstance(s, dict) or set(s) - SETTING_KEYS or "peak" not in s:
                _fail(path, f"{where}: expected {{peak = ..., warmup = ..., replay = ...}}")
            st = {"peak": float(s["peak"]), "warmup": int(s.get("warmup", 0)), "replay": float(s.get("replay", 0.0))}
            if st["peak"] <= 0 or not 0 <= st["replay"] < 1 or not 0 <= st["warmup"] < out["steps"]:
                _fail(path, f"{where}: need peak > 0, 0 <= replay < 1 and 0 <= warmup < cpt.steps")
            out[role].append(st)
    if len(out["fit"]) < MIN_FIT_RUNS["cpt"]:
        _fail(path, f"cpt.fit: {len(out['fit'])} setting(s); the CPT law needs at least {MIN_FIT_RUNS['cpt']}")
    return out


def cpt_spec(cpt: dict, setting: dict) -> str:
    """The whole LR schedule of one CPT setting (pre-training, then re-warm and decay)."""
    return cpt_schedule(parse(cpt["pretrain"]), cpt["steps"], setting["peak"], setting["warmup"],
                        cpt["final_ratio"]).spec


def config_hash(cfg: dict) -> str:
    """Identity of a run: the hash of its resolved proxy config (reused when it has finished)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]
