"""Choose an LR schedule with a fitted law: the best WSD schedule, then the best free-form one."""
import numpy as np

from cltk.curves import Curve
from cltk.laws import MultiPowerLaw
from cltk.schedules import parse
from cltk.selection import select_schedule

# a law fitted on two noisy runs of a known multi-power law (in practice: load_law(open("law.json").read())
# with the law.json that `cltk fit-scaling` writes)
truth = MultiPowerLaw()
truth.params_ = {"L0": 3.15, "A": 0.52, "B": 450.0, "alpha": 0.5, "C": 1.3, "beta": 0.5, "gamma": 0.5}
runs = [Curve.from_schedule(s, parse(s), range(400, 4000, 100)) for s in
        ("cosine:peak=3e-4,steps=4000,final=3e-5,warmup=300",
         "twostage:peak=3e-4,low=9e-5,switch=2000,steps=4000,warmup=300")]
rng = np.random.default_rng(0)
for c in runs:
    c.loss = truth.predict(c) * (1 + 1e-3 * rng.standard_normal(len(c.steps)))
law = MultiPowerLaw().fit(runs).bootstrap(runs, n=8)  # bootstrap replicates give the 90% interval

for family in ("wsd", "free"):
    sel = select_schedule(law, total_steps=4000, peak_lr=3e-4, family=family, warmup=300)
    print(f"{family}: {sel.spec[:90]}")                # the schedule's text spec (free: piecewise)
    lo, hi = sel.interval
    print(f"  predicted final loss {sel.final_loss:.4f}, 90% interval [{lo:.4f}, {hi:.4f}], "
          f"{len(sel.candidates)} candidates in {sel.seconds:.2f} s")
print("LR at step 2000:", sel.schedule(2000))         # sel.schedule is a Schedule: step -> lr
for row in sel.candidates[:3]:                        # every candidate scored: spec, score, final_loss
    print(f"  {row['final_loss']:.4f}  {row['spec'][:70]}")
anytime = select_schedule(law, total_steps=4000, peak_lr=3e-4, warmup=300, objective="anytime",
                          checkpoints=[1000, 2000, 4000])  # WSD-S: good at every checkpoint
print("anytime:", anytime.spec)
