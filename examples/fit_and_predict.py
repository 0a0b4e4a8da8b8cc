"""Fit the multi-power law (Luo et al. 2025) on three schedules, predict a fourth, compare with the truth."""
import numpy as np

from cltk.curves import Curve
from cltk.laws import MomentumLaw, MultiPowerLaw, load_law
from cltk.schedules import parse

# ground truth: a multi-power law with known parameters; its curves, with 0.1% noise, stand in for runs
truth = MultiPowerLaw()
truth.params_ = {"L0": 3.15, "A": 0.52, "B": 450.0, "alpha": 0.5, "C": 1.3, "beta": 0.5, "gamma": 0.5}
rng = np.random.default_rng(0)
steps = np.arange(600, 12000, 100)


def run(name, spec):
    curve = Curve.from_schedule(name, parse(spec), steps)
    curve.loss = truth.predict(curve) * (1 + 1e-3 * rng.standard_normal(len(steps)))
    return curve


fit = [run("cosine", "cosine:peak=3e-4,steps=12000,final=3e-5,warmup=500"),
       run("constant", "warmup:peak=3e-4,steps=500 + constant:lr=3e-4,steps=11500"),
       run("twostage", "twostage:peak=3e-4,low=9e-5,switch=6000,steps=12000,warmup=500")]
heldout = run("wsd_sqrt", "wsd:peak=3e-4,steps=12000,decay=0.2,shape=sqrt,final=3e-5,warmup=500")
laws = {"multipower": MultiPowerLaw(),
        "momentum, lam fixed": MomentumLaw(lam=0.999),          # fix a nonlinear parameter (else fitted)
        "multipower, paper": MultiPowerLaw(procedure="paper")}  # Luo et al.'s early-stopped AdamW fit
for name, law in laws.items():
    pred = law.fit(fit).predict(heldout)  # scikit-learn style: fit returns self; predict at the logged steps
    print(f"{name}: held-out PredE {np.mean(np.abs(heldout.loss - pred) / heldout.loss):.5f}")

law = laws["multipower"]
print({k: round(v, 3) for k, v in law.params_.items()}, "truth:", truth.params_)
law.bootstrap(fit, n=8)                                         # prediction intervals (the CLI: 32 refits)
lo, hi = law.predict_interval(heldout, level=0.9)
print(f"final loss {heldout.loss[-1]:.4f}, 90% interval [{lo[-1]:.4f}, {hi[-1]:.4f}]")
assert load_law(law.to_json()).params_ == law.params_          # JSON round trip (fit-scaling's law.json)
