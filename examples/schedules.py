"""LR schedules: pure functions step -> lr, built in Python or from their one-line text specs."""
import numpy as np

from cltk.schedules import ScheduleError, constant, join, parse, warmup, wsd

sched = wsd(3e-4, 24000, decay=0.2, shape="sqrt", final=3e-5, warmup=2160)
print(sched.spec)                         # the text spec, for the command line or a config file
print(sched(0), sched(1080), sched(12000), sched(23999))  # call it with a step ...
print(sched(np.array([0, 2160, 23999])))  # ... or an array of steps
lrs = sched.render()                      # the LR of every step 0..steps-1 (float64 array)
print(lrs.shape, lrs.max())

same = parse(sched.spec)                  # spec -> schedule: the same function
assert np.array_equal(same.render(), lrs)

# pieces compose with join (each piece sees its own local step), or with " + " in a spec
two_phase = join(warmup(3e-4, 500), constant(3e-4, 7500), constant(3e-5))
assert two_phase.spec == "warmup:peak=0.0003,steps=500 + constant:lr=0.0003,steps=7500 + constant:lr=3e-05"
print(two_phase(499), two_phase(500), two_phase(9000), two_phase.steps)  # steps None: the last piece runs on

for spec in ("cosine:peak=3e-4,steps=1000,final=3e-5,warmup=100",
             "twostage:peak=3e-4,low=9e-5,switch=800,steps=1000",
             "wsds:peak=3e-4,budgets=250/500/1000,decay=0.1,shape=linear,final=0",
             "cyclic:peak=3e-4,steps=1000,cycles=4",
             "piecewise:at=0/100/1000,lr=0/3e-4/3e-5"):
    print(f"{spec:70s} LR at step 500: {parse(spec)(500):.3g}")

try:
    parse("wsd:peak=3e-4,steps=1000,decay=2000")
except ScheduleError as e:                # a bad spec is a one-line error (a cltk.InputError)
    print("error:", e)
