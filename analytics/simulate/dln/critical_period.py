"""Critical learning periods in deep linear networks (Kleinman, Achille, Soatto 2024): the
multi-pathway model (ODE and SGD) and deep matrix completion with a few-observations deficit."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from cltk.analytics.report import plt
from cltk.analytics.result import Result
from cltk.analytics.simulate.dln.common import dln_result, gd_batch, torch_setup
from cltk.models.dln import Deficit, Task, completion_task, init_weights, make_teacher, pathway_ode, train


def run_critical_period(*, depths=(1, 2, 3, 4), onsets=(0, 25, 50, 100, 200, 400, 750), strength: float = 10.0,
                        init_scale: float = 0.01, lr: float = 0.01, steps: int = 1000, seeds: int = 2,
                        deficit_length: int = 150, remove_output: bool = False, width: int = 4,
                        optimizer: str = "sgd", batch_size: int = 32, mc_size: int = 50, mc_rank: int = 3,
                        mc_depth: int = 3, mc_steps: int = 5000, mc_deficit_length: int = 1000,
                        mc_onsets=(0, 1000, 2000, 3000), seed: int = 0, device: str = "auto",
                        dtype: str = "float32") -> Result:
    """Critical periods (Kleinman, Achille, Soatto 2024): final pathway strengths (K_a, K_b) vs deficit
    onset and depth for the two-pathway ODE and for SGD-trained two-pathway networks, and the test
    loss of deep matrix completion vs the onset of a few-observations deficit (``mc_size`` 0 skips it).
    ``strength``: the shared mode S; ``init_scale``: K0; ``lr``: the ODE step dt (= the SGD lr)."""
    started = time.perf_counter()
    dev, dt = torch_setup(device, dtype)
    onsets = tuple(int(x) for x in onsets)
    k0 = init_scale
    dtau = lr
    length = deficit_length
    on_all = np.array([-1] + list(onsets))  # -1: no deficit (control)
    ka, kb = pathway_ode(np.asarray(depths)[:, None], on_all[None], length, strength=strength, k0=k0, dt=dtau,
                         steps=steps, remove_output=remove_output)
    n = width
    teacher = make_teacher(n, n, [strength], seed=seed)
    task = Task.from_numpy(teacher.matrix, device=dev, dtype=dt)
    uv = (torch.as_tensor(teacher.u, dtype=dt, device=dev), torch.as_tensor(teacher.v, dtype=dt, device=dev))
    batch = gd_batch(optimizer, batch_size)
    rows, metrics, traj = [], {}, {}
    diffs, ref_diffs = [], []
    m = len(on_all)
    for j, depth in enumerate(depths):
        w = init_weights("balanced", [n] * (depth + 1), m * seeds, pathways=2, scale=k0, teacher=teacher,
                         seed=seed + depth, dtype=dt, device=dev)
        start = torch.as_tensor(np.tile(np.where(on_all < 0, -10**9, on_all), seeds))
        defi = Deficit(start, torch.full_like(start, length), pathway=1, remove_output=remove_output)
        tr = train(w, task, lr=dtau, steps=steps, batch_size=batch, seed=seed + 11 * depth,
                   record_every=max(1, steps // 200), modes=uv, deficit=defi)
        k_end = tr.modes[:, :, -1, 0].reshape(seeds, m, 2).mean(0)
        for i, on in enumerate(on_all):
            tag = f"D{depth}_onset{'none' if on < 0 else on}"
            metrics[f"ode_{tag}_Ka"], metrics[f"ode_{tag}_Kb"] = ka[j, i], kb[j, i]
            metrics[f"sgd_{tag}_Ka"], metrics[f"sgd_{tag}_Kb"] = k_end[i, 0], k_end[i, 1]
            diffs += [abs(k_end[i, 0] - ka[j, i]), abs(k_end[i, 1] - kb[j, i])]
            if on in (-1, 0, 400, 750):
                ref_diffs += diffs[-2:]
            rows.append({"D": depth, "onset": "none" if on < 0 else int(on), "ode_Ka": ka[j, i], "ode_Kb": kb[j, i],
                         "sgd_Ka": k_end[i, 0], "sgd_Kb": k_end[i, 1], "sgd_loss_final": tr.loss[i::m, -1].mean()})
        traj[depth] = (tr.steps, tr.modes[:m, :, :, 0], tr.loss[:m])
    # onsets inside the fast learning transition are sensitive to SGD noise in the escape time; the
    # DESIGN onsets (0, 400, 750) and the control sit on either side of it
    metrics["sgd_ode_max_abs_diff"] = max(diffs)
    if ref_diffs:
        metrics["sgd_ode_max_abs_diff_reference_onsets"] = max(ref_diffs)
    tables = {"critical_period": pd.DataFrame(rows)}
    figs = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = np.array(onsets, float)
    for j, depth in enumerate(depths):
        line, = axes[0].plot(x, ka[j, 1:], "-", label=f"ODE K_a, D={depth}")
        axes[0].plot(x, kb[j, 1:], "--", color=line.get_color(), lw=1)
        sub = tables["critical_period"][tables["critical_period"].D == depth].iloc[1:]
        axes[0].plot(x, sub.sgd_Ka, "o", color=line.get_color(), ms=4)
        axes[0].plot(x, sub.sgd_Kb, "x", color=line.get_color(), ms=5)
    axes[0].set(xlabel=f"deficit onset (step; length {length})", ylabel="final strength (K_a solid/o, K_b dashed/x)",
                title="critical period: ODE (lines) vs SGD (markers)")
    axes[0].legend(fontsize=7)
    d_show = 2 if 2 in depths else depths[0]
    st, kk, _ = traj[d_show]
    _, _, ta_, tb_ = pathway_ode(d_show, on_all, length, strength=strength, k0=k0, dt=dtau, steps=steps,
                                 remove_output=remove_output, record_every=1)
    for i in (1, len(on_all) - 1):
        line, = axes[1].plot(np.arange(steps + 1), ta_[i], "-", label=f"ODE K_a onset {on_all[i]}")
        axes[1].plot(np.arange(steps + 1), tb_[i], "--", color=line.get_color())
        pick = slice(None, None, 8)
        axes[1].plot(st[pick], kk[i, 0, pick], "o", ms=3, color=line.get_color())
        axes[1].plot(st[pick], kk[i, 1, pick], "x", ms=3, color=line.get_color())
    axes[1].set(xlabel="step", ylabel="pathway strength", title=f"trajectories, D = {d_show}")
    axes[1].legend(fontsize=7)
    figs.append(("critical_period", fig, "Final pathway strengths vs deficit onset: ODE (lines), SGD (markers)"))
    frame = pd.DataFrame({"step": st, "lr": dtau, "loss": traj[d_show][2][0]})
    for i, on in enumerate(on_all):
        frame[f"loss_D{d_show}_onset{'none' if on < 0 else on}"] = traj[d_show][2][i]
    config = {"depths": list(depths), "onsets": list(onsets), "deficit_length": length, "strength": strength,
              "K0": k0, "dt": dtau, "steps": steps, "seeds": seeds, "width": n, "remove_output": remove_output,
              "sgd_batch": batch}
    if mc_size:
        mc_metrics, mc_table, mc_fig, mc_curves = _matrix_completion(
            mc_size, mc_rank, mc_depth, mc_steps, mc_deficit_length, mc_onsets, seeds, seed, dev, dt)
        metrics.update(mc_metrics)
        tables["matrix_completion"] = mc_table
        figs.append(("matrix_completion", mc_fig, "Matrix completion: test loss vs deficit onset"))
        config["matrix_completion"] = {"size": mc_size, "rank": mc_rank, "depth": mc_depth,
                                       "steps": mc_steps, "deficit_length": mc_deficit_length, "lr": 0.2,
                                       "init": 1e-3, "observed": 0.3, "deficit_observed": 0.1}
        if len(mc_curves[0]) == len(frame):
            for name, v in mc_curves[1].items():
                frame[name] = v
        else:
            tables["matrix_completion_curves"] = pd.DataFrame({"step": mc_curves[0], **mc_curves[1]})
    return dln_result("critical-period", "Deep linear network: critical learning periods",
                      "Two depth-D pathways share one mode of strength S; pathway b is deprived (no learning"
                      + (", output removed" if remove_output else "") + f") for {length} steps from the onset. "
                      "Early deficits let pathway a win the whole mode for D >= 2; late ones leave (S/2, S/2) "
                      "(Kleinman, Achille, Soatto 2024). SGD: two-pathway networks (balanced init, Gaussian "
                      "inputs) trained by minibatch SGD with lr = dt.",
                      config, metrics, tables, frame, figs, started=started, device=dev)


def _matrix_completion(n, rank, depth, steps, deficit_length, onsets, seeds, seed, dev, dt):
    """Deep matrix completion with a few-observations deficit (Kleinman et al. 2024, matrix-completion
    experiment): an n x n rank-``rank`` target, depth ``depth``, width n, init 1e-3, lr 0.2; every
    onset member starts from the same init."""
    onsets = tuple(int(x) for x in onsets)
    on_all = np.array([-1] + list(onsets))
    m = len(on_all)
    metrics, rows, curves = {}, [], {}
    losses = []
    for sd in range(seeds):
        tgt, full, dfc, test = completion_task(n, rank, 0.3, 0.1, seed=seed + sd)
        task = Task.from_numpy(tgt, mask=full, device=dev, dtype=dt)
        ev = Task.from_numpy(tgt, mask=test, device=dev, dtype=dt)
        base = init_weights("small", [n] * (depth + 1), 1, scale=1e-3, seed=seed + 100 + sd, dtype=dt, device=dev)
        w = [x.expand(m, *x.shape[1:]).contiguous() for x in base]
        start = torch.as_tensor(np.where(on_all < 0, -10**9, on_all))
        defi = Deficit(start, torch.full_like(start, deficit_length), pathway=None,
                       mask=torch.as_tensor(dfc, dtype=dt, device=dev))
        tr = train(w, task, lr=0.2, steps=steps, record_every=max(1, steps // 100), eval_tasks=[ev],
                   deficit=defi)
        losses.append(tr.evals[:, 0])
        for i, on in enumerate(on_all):
            rows.append({"seed": sd, "onset": "none" if on < 0 else int(on), "test_loss_final": tr.evals[i, 0, -1],
                         "train_loss_final": tr.loss[i, -1], "test_loss_initial": tr.evals[i, 0, 0]})
    test = np.exp(np.mean(np.log(np.maximum(np.stack(losses), 1e-300)), axis=0))  # geometric mean over seeds
    for i, on in enumerate(on_all):
        tag = "control" if on < 0 else f"onset{on}"
        metrics[f"mc_test_loss_{tag}"] = test[i, -1]
        curves[f"mc_test_loss_{tag}"] = test[i]
        if on >= 0:
            metrics[f"mc_damage_{tag}"] = test[i, -1] / test[0, -1]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax.plot(onsets, [metrics[f"mc_test_loss_onset{x}"] for x in onsets], "o-", label="with deficit")
    ax.axhline(metrics["mc_test_loss_control"], color="k", lw=1, label="no deficit")
    ax.set(yscale="log", xlabel=f"deficit onset (length {deficit_length})", ylabel="final test loss",
           title=f"matrix completion n={n}, rank {rank}, D={depth}")
    ax.legend(fontsize=7)
    for i, on in enumerate(on_all):
        ax2.plot(tr.steps, test[i], label="no deficit" if on < 0 else f"onset {on}")
    ax2.set(yscale="log", xlabel="step", ylabel="test loss (unobserved entries)")
    ax2.legend(fontsize=7)
    return metrics, pd.DataFrame(rows), fig, (tr.steps, curves)
