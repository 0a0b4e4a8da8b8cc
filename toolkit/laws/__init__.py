"""Loss-curve laws (scikit-learn style estimators): ``Law().fit(curves).predict(schedule)``."""
from toolkit.laws.base import FORMAT_VERSION, LawError, LossLaw
from toolkit.laws.momentum import MomentumLaw
from toolkit.laws.multipower import MultiPowerLaw

LAWS = {"multipower": MultiPowerLaw, "momentum": MomentumLaw}
#: the law `cltk fit-scaling` uses when none is named (lowest held-out error on the 25M benchmark)
DEFAULT_LAW = "multipower"


def get_law(name: str, **kw) -> LossLaw:
    """A new, unfitted law by name (see ``LAWS``)."""
    if name not in LAWS:
        raise LawError(f"unknown law '{name}' (choose from {', '.join(LAWS)})")
    return LAWS[name](**kw)


def load_law(text: str) -> LossLaw:
    """A fitted law from the JSON written by ``to_json()``."""
    return LossLaw.from_json(text)


__all__ = [
    "DEFAULT_LAW",
    "FORMAT_VERSION",
    "LAWS",
    "LawError",
    "LossLaw",
    "MomentumLaw",
    "MultiPowerLaw",
    "get_law",
    "load_law",
]
