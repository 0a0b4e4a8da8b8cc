"""Demo of the loss-curve laws on curves the project makes itself: a multi-power law with known
parameters (of the size Luo et al. 2025 fit on a 25M model) generates noisy curves for six
schedules; three are written as CSV logs, read back, and used to fit both laws, which predict the
other three. Because the truth is known, the report shows how well the fit recovers it."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from analytics.fit_scaling import run_fit_scaling
from analytics.readers import read_curve, write_curve_csv
from toolkit.curves import Curve
from toolkit.laws import MultiPowerLaw
from toolkit.schedules import parse

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


def demo_section(out_dir: Path) -> dict:
    """Write synthetic logs, fit both laws on three, predict three; return headline figures."""
    out_dir = Path(out_dir)
    curves = synthetic_curves()
    paths = {}
    for name, c in curves.items():
        paths[name] = out_dir / "curves" / f"{name}.csv"
        write_curve_csv(c, paths[name])
    fit = [read_curve(paths[n], warmup_steps=WARMUP) for n in FIT]
    held = [read_curve(paths[n], warmup_steps=WARMUP) for n in HELDOUT]
    figures = {}
    for law in ("multipower", "momentum"):
        m = run_fit_scaling(fit, held, law, out_dir / law)
        figures[f"{law}_heldout_pred_e"] = round(m["heldout"]["pred_e"], 6)
        figures[f"{law}_heldout_worst_e"] = round(m["heldout"]["worst_e"], 6)
        figures[f"{law}_fit_seconds"] = round(m["fit_seconds"], 3)
    return figures
