"""Deep linear networks: a batched simulation of 8 two-layer networks against the closed form of
Saxe et al. (2014) for the strength of each input-output mode."""
import torch

from cltk.models.dln import Task, init_weights, make_teacher, train, two_layer_time, two_layer_trajectory

teacher = make_teacher(4, 4, [3.0, 2.0, 1.0], seed=0)                 # Sigma_yx = U S V^T
w = init_weights("balanced", [4, 4, 4], 8, scale=1e-4, teacher=teacher)  # 8 networks, D = 2
uv = tuple(torch.as_tensor(m, dtype=torch.float32) for m in (teacher.u, teacher.v))
tr = train(w, Task.from_numpy(teacher.matrix), lr=1e-3, steps=10_000, record_every=100, modes=uv)
theory = two_layer_trajectory(tr.steps[:, None] * 1e-3, teacher.s, 1e-4)  # Saxe et al. closed form
print(abs(tr.modes[:, 0] / theory - 1).max(), two_layer_time(1e-4, 0.5, 1.0))
# 0.010428171483301218 4.605120183487925   (O(lr s) discretisation error: lr 1e-3, s = 3)
