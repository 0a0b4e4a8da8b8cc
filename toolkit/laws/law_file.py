"""Reading a law file (``law.json``): every field checked against what the law can mean — the law's
name, finite parameters inside the domain its fit searches, bootstrap replicates and quantiles
likewise, constructor config keys and types — each failure one line naming the key as written."""
from __future__ import annotations

import json
import math

import numpy as np

from cltk.laws.errors import LawError
from cltk.laws.params import constructor_defaults


def law_from_json(cls, text: str):
    """A fitted law of class ``cls`` (LossLaw: whichever the file names) from the JSON its
    ``to_json`` writes; every field is checked and a bad one is a one-line LawError naming it."""
    from cltk.laws import ALL_LAWS  # the registry lives in the package
    from cltk.laws.base import FORMAT_VERSION, LossLaw

    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LawError(f"law file is not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise LawError("law file is nested too deeply to be a law file") from None
    if isinstance(data, dict) and "format_version" not in data and "params" not in data \
            and "law_params" in data:  # fit-scaling's metrics.json copies the parameters
        raise LawError("is a metrics.json of a cltk run, not a law file (use law.json)")
    if not isinstance(data, dict) or "law" not in data or "params" not in data:
        raise LawError("law file lacks the 'law' and 'params' fields of a fitted cltk law")
    if data.get("format_version") != FORMAT_VERSION:
        raise LawError(f"law file has format_version {data.get('format_version')!r}; this cltk reads "
                       f"version {FORMAT_VERSION} (refit the law with this version)")
    if not isinstance(data["law"], str) or data["law"] not in ALL_LAWS:
        raise LawError(f"law: expected one of {', '.join(ALL_LAWS)}, got {data['law']!r:.60}")
    law_cls = ALL_LAWS[data["law"]] if cls is LossLaw else cls
    if law_cls.name != data["law"]:
        raise LawError(f"law: the file holds a '{data['law']}' law, not '{law_cls.name}'")
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise LawError("config: must be an object")
    try:
        law = law_cls(**_checked_config(law_cls, config))
    except (TypeError, ValueError) as e:  # a constructor's own check (LawError) or conversion
        raise LawError(f"config: {' '.join(str(e).split())}") from None
    if not isinstance(data["params"], dict):
        raise LawError("params: must be an object")
    missing = set(law.param_names) - set(data["params"])
    if missing:
        raise LawError(f"params: lacks parameter(s) {sorted(missing)} of the {law.name} law")
    boot, cvq = data.get("bootstrap", []), data.get("cv_quantiles", [])
    if not isinstance(boot, list) or not all(isinstance(b, dict) for b in boot):
        raise LawError("bootstrap: must be a list of parameter objects")
    if not isinstance(cvq, list):
        raise LawError("cv_quantiles: must be a list of numbers")
    law.params_ = checked_params(law, "params", data["params"])
    law.boot_params_ = [checked_params(law, f"bootstrap[{i}]", b) for i, b in enumerate(boot)]
    law.cv_quantiles_ = [_finite(f"cv_quantiles[{i}]", v) for i, v in enumerate(cvq)]
    fit_info = data.get("fit_info", {})
    if not isinstance(fit_info, dict):
        raise LawError("fit_info: must be an object")
    law.fit_info_ = fit_info
    return law


def checked_params(law, where: str, raw: dict) -> dict[str, float]:
    """``raw``'s parameters as floats inside the domain the fit searches: linear coefficients
    >= 0 (nnls), "log" parameters > 0, "log1m" parameters in (0, 1); outside it a law predicts
    nonsense (a momentum law with lam = 1 predicted a final loss of -41). Nonlinear parameters
    must also lie within the law's fit bounds (``_nl_bounds``), which a fit never leaves."""
    out = {n: _in_domain(type(law), f"{where}.{n}", n, raw.get(n)) for n in law.param_names}
    lo, hi = law._nl_bounds([])
    for n, a, b in zip(law.nl_names, lo, hi):
        slack = 1e-9 * max(abs(a), abs(b) if np.isfinite(b) else 0.0, 1e-300)  # JSON round-off
        if not a - slack <= out[n] <= b + slack:
            raise LawError(f"{where}.{n}: {out[n]!r} is outside the {law.name} law's range [{a:g}, {b:g}]")
    return out


def _finite(key: str, v) -> float:
    """``v`` as a finite float, else a one-line LawError naming ``key`` (bools and strings refused:
    no silent coercion)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise LawError(f"{key}: expected a number, got {v!r:.60}")
    try:
        f = float(v)
    except OverflowError:
        raise LawError(f"{key}: number too large") from None
    if not math.isfinite(f):
        raise LawError(f"{key}: must be finite, got {v!r}")
    return f


def _in_domain(law_cls, key: str, name: str, v) -> float:
    """Parameter ``name`` of ``law_cls`` as a float inside the domain its fit searches."""
    v = _finite(key, v)
    kind = dict(zip(law_cls.nl_names, law_cls.nl_transforms)).get(name, "lin")
    if kind == "lin" and v < 0:
        raise LawError(f"{key}: must be >= 0 (a linear coefficient of the {law_cls.name} law), got {v!r}")
    if kind == "log" and v <= 0:
        raise LawError(f"{key}: must be > 0 for the {law_cls.name} law, got {v!r}")
    if kind == "log1m" and not 0 < v < 1:
        raise LawError(f"{key}: must be in (0, 1) for the {law_cls.name} law, got {v!r}")
    return v


def _checked_config(law_cls, config: dict) -> dict:
    """A law file's ``config`` checked against the constructor arguments of ``law_cls`` (and its
    bases): known keys only, each of its default's type (numbers finite), fixed nonlinear
    parameters inside their domain; one LawError naming ``config.<key>`` otherwise."""
    defaults = constructor_defaults(law_cls)
    out = {}
    for k, v in config.items():
        key = f"config.{k}"
        if k in law_cls.nl_names:
            out[k] = _in_domain(law_cls, key, k, v)
            continue
        if k not in defaults:
            raise LawError(f"{key}: unknown key (known: {', '.join(sorted(defaults) + list(law_cls.nl_names))})")
        d = defaults[k]
        if isinstance(d, str) and not isinstance(v, str):
            raise LawError(f"{key}: expected a string, got {v!r:.60}")
        if isinstance(d, int) and not isinstance(d, bool) and (isinstance(v, bool) or not isinstance(v, int)):
            raise LawError(f"{key}: expected an integer, got {v!r:.60}")
        if isinstance(d, int) and not isinstance(d, bool) and not 0 <= v <= 10**9:
            raise LawError(f"{key}: expected an integer in [0, 1e9], got {v!r:.60}")
        if (isinstance(d, float) or d is None) and not (d is None and v is None):
            v = _finite(key, v)
        out[k] = v
    return out
