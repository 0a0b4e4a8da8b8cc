"""Loss-curve laws (scikit-learn style estimators): ``Law().fit(curves).predict(schedule)``."""
from pathlib import Path

from cltk.laws.base import FORMAT_VERSION, LawError, LossLaw
from cltk.laws.cpt import CPTLaw
from cltk.laws.momentum import MomentumLaw
from cltk.laws.multipower import MultiPowerLaw
from cltk.laws.power_anneal import PowerAnnealLaw

#: laws of single-phase training curves (the choices of `cltk fit-scaling --law`)
LAWS = {"poweranneal": PowerAnnealLaw, "multipower": MultiPowerLaw, "momentum": MomentumLaw}
#: every law, by the name stored in its JSON
ALL_LAWS = {**LAWS, "cpt": CPTLaw}
#: largest law file read (a fitted law with bootstrap replicates is a few kB)
MAX_LAW_BYTES = 50 * 10**6
#: the law `cltk fit-scaling` uses when none is named: lowest held-out error on every real curve set
#: (benchmarks/bench_laws.py; 0.67x / 0.68x the published multi-power-law PredE / WorstE on 25M)
DEFAULT_LAW = "poweranneal"


def get_law(name: str, **kw) -> LossLaw:
    """A new, unfitted law by name (see ``LAWS``)."""
    if name not in ALL_LAWS:
        raise LawError(f"unknown law '{name}' (choose from {', '.join(ALL_LAWS)})")
    try:
        return ALL_LAWS[name](**kw)
    except TypeError as e:
        raise LawError(f"law '{name}': bad configuration ({e})") from None


def load_law(text: str) -> LossLaw:
    """A fitted law from the JSON written by ``to_json()``."""
    return LossLaw.from_json(text)


def read_law(path) -> LossLaw:
    """A fitted law from a law file (the ``law.json`` of ``cltk fit-scaling``, the ``cpt_law_*.json``
    of ``cltk validate``); bad files raise LawError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise LawError(f"{path}: no such file")
    if path.stat().st_size > MAX_LAW_BYTES:  # a law file is a few kB; refuse before reading it
        raise LawError(f"{path}: {path.stat().st_size / 1e6:.0f} MB is too large for a law file "
                       f"(limit {MAX_LAW_BYTES // 10**6} MB)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LawError(f"{path}: not a text law file") from None
    try:
        return load_law(text)
    except LawError as e:
        if path.name == "metrics.json" and "metrics.json" not in str(e):
            raise LawError(f"{path}: is a metrics.json of a cltk run, not a law file (use law.json)") from None
        raise LawError(f"{path}: {e}") from None
    except (ValueError, OverflowError, RecursionError) as e:  # LawError, or a malformed value (huge int)
        raise LawError(f"{path}: {' '.join(str(e).split()) or type(e).__name__}") from None


__all__ = [
    "ALL_LAWS",
    "DEFAULT_LAW",
    "FORMAT_VERSION",
    "LAWS",
    "CPTLaw",
    "LawError",
    "LossLaw",
    "MomentumLaw",
    "MultiPowerLaw",
    "PowerAnnealLaw",
    "get_law",
    "load_law",
    "read_law",
]
