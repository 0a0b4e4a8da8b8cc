"""Synthetic training curves with a known truth, shared by the demos of the loss-curve laws and of
schedule selection: a multi-power law (Luo et al. 2025, Eq. 1) with parameters of the size fitted on
their 25M model generates noisy curves for six schedules (three to fit, three held out)."""
from __future__ import annotations

import numpy as np

from cltk.curves import Curve
from cltk.laws import MultiPowerLaw
from cltk.schedules import parse

TRUE_PARAMS = {"L0": 3.15, "A": 0.52, "B": 450.0, "alpha": 0.5, "C": 1.3, "beta": 0.5, "gamma": 0.5}
STEPS, EVERY, PEAK, WARMUP = 12000, 100, 3e-4, 500
FIT = {"cosine": f"cosine:peak={PEAK},steps={STEPS},final=3e-5,warmup={WARMUP}",
       "constant": f"constant:lr={PEAK},steps={STEPS}",
       "twostage": f"twostage:peak={PEAK},low=9e-5,switch=6000,steps={STEPS},warmup={WARMUP}"}
HELDOUT = {"wsd_sqrt": f"wsd:peak={PEAK},steps={STEPS},decay=0.2,shape=sqrt,final=3e-5,warmup={WARMUP}",
           "linear": f"warmup:peak={PEAK},steps={WARMUP} + linear:start={PEAK},end=0,steps={STEPS - WARMUP}",
           "wsd_exp": f"wsd:peak={PEAK},steps={STEPS},decay=0.3,shape=exp,final=3e-5,warmup={WARMUP}"}


def synthetic_curves(noise: float = 1e-3, seed: int = 0) -> dict[str, Curve]:
    """Loss curves of the ground-truth multi-power law with multiplicative Gaussian noise."""
    truth = MultiPowerLaw()
    truth.params_ = dict(TRUE_PARAMS)
    rng = np.random.default_rng(seed)
    steps = np.arange(WARMUP + EVERY, STEPS, EVERY)
    out = {}
    for name, spec in {**FIT, **HELDOUT}.items():
        sched = parse(spec)
        if name == "constant":  # the constant run also warms up
            sched = parse(f"warmup:peak={PEAK},steps={WARMUP} + {spec}")
        clean = truth.predict(Curve.from_schedule(name, sched, steps))
        out[name] = Curve(name, steps, clean * (1 + noise * rng.standard_normal(len(steps))),
                          sched.render(steps[-1] + 1), {"schedule": sched.spec})
    return out
