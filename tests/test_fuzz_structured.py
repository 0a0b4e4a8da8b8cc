"""Fuzz suite of the structured inputs (issue 12): law files (JSON), proxy configs (TOML),
validation plans (TOML) and schedule specs. Each test mutates a valid input (wrong types, nan/inf/
huge/negative numbers, missing and extra keys, deep nesting, unsafe names) and checks the input
contract: the loader either returns a valid object or raises InputError with one line naming the
file (or spec); nothing else escapes and the file is left unchanged.

Budgets: ``N_*`` below (the module generates ``TOTAL_EXAMPLES`` inputs, ~1 min on 2 cores). A release
run multiplies them: ``CLTK_FUZZ_EXAMPLES=20 pytest tests/test_fuzz_structured.py``."""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cltk.analytics.validate.plan import load_plan
from cltk.errors import InputError
from cltk.laws import MomentumLaw, PowerAnnealLaw, read_law
from cltk.proxy.config import load_config
from cltk.schedules import MAX_SPEC_STEPS, parse

SCALE = max(1, int(os.environ.get("CLTK_FUZZ_EXAMPLES", "1")))
N_LAW, N_PROXY, N_PLAN, N_SPEC = 1500 * SCALE, 1000 * SCALE, 500 * SCALE, 1500 * SCALE
TOTAL_EXAMPLES = N_LAW + N_PROXY + N_PLAN + N_SPEC
FUZZ = {"deadline": None, "derandomize": True, "suppress_health_check": list(HealthCheck)}
WORK = Path(tempfile.mkdtemp(prefix="cltk-fuzz-"))
#: (test, "loaded" | "raised") -> count, for the report of a run (read it after pytest.main)
OUTCOMES: Counter = Counter()

# --- mutations of a JSON-like tree -------------------------------------------------------------
BAD = st.sampled_from([None, True, False, 0, -1, 1.5, -1e300, 1e300, 10**30, math.nan, math.inf, -math.inf,
                       "", "x", "../../../../escaped", ".hidden", "nan", [], [1], {}, {"a": 1}, 1e9, 10**9]
                      ).map(copy.deepcopy)  # a fresh copy: mutations must not edit the shared constants


def _paths(tree, prefix=()):
    yield prefix
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


def _nest(v, depth):
    for _ in range(depth):
        v = [v]
    return v


@st.composite
def mutated(draw, base):
    """``base`` (a dict) with 1-3 mutations: replace, delete, add a key, or nest deeply."""
    tree = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(tree) if p]
        path = draw(st.sampled_from(paths))
        parent = tree
        for k in path[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "nest"]))
        if op == "replace":
            parent[path[-1]] = draw(BAD)
        elif op == "delete":
            del parent[path[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["bogus", "../x", "lam", "steps", "files"]))] = draw(BAD)
        elif op == "nest":
            parent[path[-1]] = _nest(parent[path[-1]], draw(st.sampled_from([2, 30, 200])))
    return tree


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _check_contract(path: Path, load):
    """Load ``path``: the object, or None after a one-line InputError naming the file."""
    before = _digest(path)
    try:
        out = load(path)
    except InputError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith(f"{path}: "), msg
        out = None
    OUTCOMES[path.stem, "raised" if out is None else "loaded"] += 1
    assert _digest(path) == before
    return out


# --- law files ------------------------------------------------------------------------------------
def _law(cls, params):
    law = cls()
    law.params_ = params
    return json.loads(law.to_json())


LAW_BASES = [_law(MomentumLaw, {"L0": 3.0, "A": 0.6, "C": 5.0, "alpha": 0.45, "lam": 0.995}),
             _law(PowerAnnealLaw, {"L0": 3.1, "A": 0.5, "B": 0.2, "alpha": 0.5, "C": 200.0, "beta": 0.2,
                                   "rho": 0.6, "delta": 0.15})]


@settings(max_examples=N_LAW, **FUZZ)
@given(st.sampled_from(LAW_BASES).flatmap(mutated))
def test_law_files(data):
    p = WORK / "law.json"
    p.write_text(json.dumps(data))  # NaN / Infinity written as JSON's common extension
    law = _check_contract(p, read_law)
    if law is not None:
        assert all(math.isfinite(v) for v in law.params_.values())
        assert all(law.params_[n] >= 0 for n in law.lin_names)


# --- proxy configs and plans (TOML written as inline tables, so any tree is expressible) ------------
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(max(min(v, 2**63 - 1), -2**63))  # TOML integers are 64-bit
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return '""'  # None has no TOML form


def _toml(tree: dict) -> str:
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in tree.items())


PROXY = {"name": "fuzz", "seed": 0,
         "model": {"seq_len": 64, "d_model": 64, "n_layer": 2, "n_head": 4, "vocab_size": 256},
         "data": {"val_fraction": 0.1, "domains": {"notes": {"files": ["a.txt"]}}},
         "train": {"batch_size": 16, "weight_decay": 1e-4, "eval_every": 20, "threads": 1},
         "phases": [{"name": "A", "steps": 40, "mix": {"prose": 1.0},
                     "schedule": "cosine:peak=3e-3,steps=40,final=3e-4,warmup=4"},
                    {"name": "B", "steps": 40, "mix": {"notes": 1.0}, "replay": 0.1,
                     "schedule": "constant:lr=1e-3,steps=40"}]}
LIMITS = {"d_model": 65_536, "n_layer": 1_024, "n_head": 1_024, "seq_len": 1_048_576, "vocab_size": 1_048_576}


@settings(max_examples=N_PROXY, **FUZZ)
@given(mutated(PROXY))
def test_proxy_configs(tree):
    p = WORK / "proxy.toml"
    p.write_text(_toml(tree))
    cfg = _check_contract(p, load_config)
    if cfg is not None:
        assert all(1 <= cfg["model"][k] <= hi for k, hi in LIMITS.items())
        assert all(".." not in n and "/" not in n for n in cfg["data"]["domains"])
        assert all(1 <= ph["steps"] <= MAX_SPEC_STEPS for ph in cfg["phases"])


BASE_PROXY = WORK / "base_proxy.toml"
BASE_PROXY.write_text(_toml(PROXY))
PLAN = {"name": "fuzz", "proxy": str(BASE_PROXY), "set": ["model.d_model=32"], "seeds": [0],
        "laws": ["poweranneal", "momentum"], "executor": "local", "workers": 2, "domain": "prose",
        "schedules": {"fit": ["constant:lr=3e-3,steps=100", "cosine:peak=3e-3,steps=100,final=3e-4,warmup=10",
                              "twostage:peak=3e-3,low=3e-4,switch=60,steps=100,warmup=10"],
                      "heldout": ["wsd:peak=3e-3,steps=100,decay=0.2,warmup=10"]},
        "cpt": {"old": "prose", "new": "notes", "pretrain": "cosine:peak=3e-3,steps=50,final=3e-4,warmup=5",
                "steps": 50, "final_ratio": 0.1, "weight_old": 0.5,
                "fit": [{"peak": 3e-3, "warmup": 5, "replay": 0.0}, {"peak": 1e-3, "warmup": 5, "replay": 0.0},
                        {"peak": 3e-3, "warmup": 5, "replay": 0.2}],
                "heldout": [{"peak": 1e-3, "warmup": 5, "replay": 0.2}]}}


@settings(max_examples=N_PLAN, **FUZZ)
@given(mutated(PLAN))
def test_validate_plans(tree):
    p = WORK / "plan.toml"
    p.write_text(_toml(tree))
    plan = _check_contract(p, load_plan)
    if plan is not None:
        assert isinstance(plan["workers"], int) and not isinstance(plan["workers"], bool) and plan["workers"] >= 1
        assert plan["laws"] and all(isinstance(s, int) and s >= 0 for s in plan["seeds"])


# --- schedule specs ---------------------------------------------------------------------------------
SPECS = [("cosine", {"peak": "3e-3", "steps": "100", "final": "3e-4", "warmup": "10"}),
         ("wsd", {"peak": "3e-3", "steps": "100", "decay": "0.2", "shape": "sqrt", "warmup": "10"}),
         ("twostage", {"peak": "3e-3", "low": "3e-4", "switch": "60", "steps": "100"}),
         ("piecewise", {"at": "0/50", "lr": "1e-3/1e-4"}), ("constant", {"lr": "1e-3"}),
         ("wsds", {"peak": "1e-3", "budgets": "50/100", "decay": "0.1"})]
BAD_TEXT = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1.5", "1e400", "1e300", "x", "", "1e9", "1e12",
                            "3/4", "1//2", "=", ","])


@st.composite
def spec(draw):
    name, args = draw(st.sampled_from(SPECS))
    args = dict(args)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "delete", "add", "rename"]))
        if op == "replace":
            args[draw(st.sampled_from(sorted(args) or ["steps"]))] = draw(BAD_TEXT)
        elif op == "delete" and args:
            del args[draw(st.sampled_from(sorted(args)))]
        elif op == "add":
            args[draw(st.sampled_from(["bogus", "steps", "lr", ""]))] = draw(BAD_TEXT)
        else:
            name = draw(st.sampled_from(["cosin", "", "COSINE", "wsd", "constant"]))
    text = f"{name}:" + ",".join(f"{k}={v}" for k, v in args.items())
    return text + draw(st.sampled_from(["", " + constant:lr=1e-4,steps=10", "+", " + nope"]))


@settings(max_examples=N_SPEC, **FUZZ)
@given(spec())
def test_schedule_specs(text):
    try:
        s = parse(text)
    except InputError as e:
        assert "\n" not in str(e) and "spec '" in str(e) or str(e) == "empty schedule spec", str(e)
        OUTCOMES["spec", "raised"] += 1
        return
    OUTCOMES["spec", "loaded"] += 1
    assert s.steps is None or 0 <= s.steps <= 2 * MAX_SPEC_STEPS


# --- regressions of the cases issue 12 lists, and one CLI-level case per entry point -------------
def _plan_error(**change) -> str:
    p = WORK / "plan_case.toml"
    p.write_text(_toml({**PLAN, **change}))
    try:
        load_plan(p)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(f"{p}: "), str(e)
        return str(e)
    raise AssertionError(f"plan with {change} loaded")


def test_plan_regressions():
    for workers in ("x", 0, -1, 1.5, True):
        assert ": workers: expected an integer" in _plan_error(workers=workers)
    assert ": set: " in _plan_error(set=5)
    assert ": laws: " in _plan_error(laws=[])
    assert ": cpt.steps: " in _plan_error(cpt={**PLAN["cpt"], "steps": math.inf})
    assert ": schedules.fit[0]: " in _plan_error(schedules={"fit": ["cosine:peak=1e-3"]})


def test_cli_entry_points_print_one_line(bad_flag):
    from click.testing import CliRunner

    from cltk.cli.main import cli

    plan = WORK / "plan_cli.toml"
    plan.write_text(_toml({**PLAN, "workers": 0}))
    r = CliRunner().invoke(cli, ["validate", str(plan), "--out", str(WORK / "out-v")])
    bad_flag(r, "workers: expected an integer")
    proxy = WORK / "proxy_cli.toml"
    proxy.write_text(_toml({**PROXY, "data": {"domains": {"../../../../escaped": {"files": ["a.txt"]}}}}))
    r = CliRunner().invoke(cli, ["proxy", "train", str(proxy), "--out", str(WORK / "out-p")])
    bad_flag(r, "a domain name may use only")
    assert not (WORK / "out-v").exists() and not (WORK / "out-p").exists()
