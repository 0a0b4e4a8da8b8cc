"""Schedules out: run a cltk schedule in a PyTorch training loop, or hand it to any framework as a file."""
import tempfile
from pathlib import Path

import numpy as np
import torch

from cltk.schedule_export import to_array, to_torch, write_schedule
from cltk.schedules import parse

schedule = parse("wsd:peak=3e-4,steps=1000,decay=0.2,shape=sqrt,warmup=100")

model = torch.nn.Linear(8, 1)
opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
scheduler = to_torch(schedule, opt)  # a LambdaLR: update s (from 1) uses schedule(s), exactly
x, y = torch.randn(64, 8), torch.randn(64, 1)
used = []
for _ in range(schedule.steps):
    used.append(opt.param_groups[0]["lr"])
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()
    scheduler.step()
print("LR of every update equals the schedule:", np.array_equal(used, to_array(schedule, range(1, 1001))))
print("LR at steps 0, 100, 900, 999:", to_array(schedule, [0, 100, 900, 999]))

with tempfile.TemporaryDirectory() as out:
    write_schedule(schedule, Path(out, "lr.npy"))  # or lr.csv (columns step,lr)
    print("lr.npy holds", np.load(Path(out, "lr.npy")).shape[0], "steps")
