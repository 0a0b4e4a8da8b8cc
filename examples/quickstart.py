"""Quick start: fit the multi-power law on two logged runs, predict a third schedule, choose the best WSD."""
import tempfile
from pathlib import Path

import cltk
from cltk.analytics.curve_files import read_curve, write_curve_csv
from cltk.curves import Curve
from cltk.laws import MultiPowerLaw
from cltk.schedules import parse

# stand-in training logs (step, lr, loss) of a law with known parameters: use your own CSV, JSONL,
# W&B export or TensorBoard logs instead
truth = MultiPowerLaw()
truth.params_ = {"L0": 3.15, "A": 0.52, "B": 450.0, "alpha": 0.5, "C": 1.3, "beta": 0.5, "gamma": 0.5}
runs = {"cosine": "cosine:peak=3e-4,steps=6000,final=3e-5,warmup=300",
        "constant": "warmup:peak=3e-4,steps=300 + constant:lr=3e-4,steps=5700"}
with tempfile.TemporaryDirectory() as logs:
    for name, spec in runs.items():
        curve = Curve.from_schedule(name, parse(spec), range(400, 6000, 100))
        curve.loss = truth.predict(curve)
        write_curve_csv(curve, Path(logs, f"{name}.csv"))
    law = MultiPowerLaw().fit([read_curve(Path(logs, f"{n}.csv"), warmup_steps=300) for n in runs])

wsd = parse("wsd:peak=3e-4,steps=6000,decay=0.2,shape=sqrt,warmup=300")  # a schedule never trained
pred, true = law.predict(wsd, steps=[5999])[0], truth.predict(wsd, steps=[5999])[0]
print(f"WSD final loss: predicted {pred:.4f}, true {true:.4f}")
choice = cltk.select_schedule(law, total_steps=6000, peak_lr=3e-4, family="wsd", warmup=300)
print(f"best WSD: {choice.spec}, predicted final loss {choice.final_loss:.4f}")
