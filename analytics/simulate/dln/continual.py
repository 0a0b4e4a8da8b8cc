"""Continual-learning experiments on deep linear networks: sequential tasks with controlled teacher
similarity (exact forgetting where it exists). Critical learning periods live in ``critical_period``."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from cltk import continual_metrics as CM
from cltk.analytics.report import plt
from cltk.analytics.result import Result
from cltk.analytics.simulate.dln.common import dln_result, gd_batch, key, torch_setup
from cltk.errors import InputError
from cltk.models.dln import (
    Task,
    Trace,
    init_weights,
    linear_sequential_exact,
    rotated_pair,
    train,
)


def run_sequential(*, width: int = 8, singular_values=(2.0, 1.0), similarities=(0.0, 0.25, 0.5, 0.75, 1.0),
                   depths=(1, 2), seeds: int = 2, steps: int = 1500, lr: float = 0.05, init_scale: float = 1e-3,
                   input_rank: int | None = None, same_teacher: bool = False, phases: str = "ABA",
                   optimizer: str = "gd", batch_size: int = 32, seed: int = 0, device: str = "auto",
                   dtype: str = "float32") -> Result:
    """Tasks A, B (then back to A) whose teachers' singular vectors overlap by c (Lee et al. 2021);
    with an input rank below the dimension, each task sees a subspace (Evron et al. 2022). Forgetting
    of A and transfer to B are measured over time; exact answers: the whole trajectory for D = 1
    (alternating projections) and the asymptotic forgetting 1/2 |(T_B - T_A) Q_A|^2 for any depth when
    inputs are full rank (B is then learned exactly, whatever the network). ``phases``: the task
    order (letters A and B), ``steps`` per phase; ``input_rank`` None (or >= width) is full rank;
    ``same_teacher``: B keeps A's teacher and differs only in its input subspace."""
    started = time.perf_counter()
    dev, dt = torch_setup(device, dtype)
    batch = gd_batch(optimizer, batch_size)
    n = width
    s = np.asarray(singular_values, float)
    sims = np.asarray(similarities, float)
    scale = init_scale
    rank = input_rank if input_rank is not None and input_rank < n else None
    if 2 * max(len(s), rank or 0) > n and min(sims) < 1:
        raise InputError(f"width {n} leaves no room to rotate {max(len(s), rank or 0)} directions (need >= "
                         f"{2 * max(len(s), rank or 0)})")
    members = [(c, sd) for c in sims for sd in range(seeds)]
    pairs = [rotated_pair(n, n, s, c, seed=seed + sd, input_rank=rank) for c, sd in members]
    ta = np.stack([p[0].matrix for p in pairs])
    tb = np.stack([(p[0] if same_teacher else p[1]).matrix for p in pairs])
    qa = None if rank is None else np.stack([p[2] for p in pairs])
    qb = None if rank is None else np.stack([p[3] for p in pairs])
    tasks = {"A": Task.from_numpy(ta, qa, device=dev, dtype=dt), "B": Task.from_numpy(tb, qb, device=dev, dtype=dt)}
    n_phase = len(phases)
    rows, curves, exact_err, deep_err = [], {}, [], []
    metrics = {}
    bounds = np.arange(n_phase + 1) * steps
    every = max(1, steps // 150)
    for depth in depths:
        w = init_weights("small", [n] * (depth + 1), len(members), scale=scale, seed=seed + 5, dtype=dt, device=dev)
        w_np0 = w[0][:, 0].detach().cpu().double().numpy() if depth == 1 else None
        w0 = [x.clone() for x in w]
        traces = [train(w, tasks[ph], lr=lr, steps=steps, batch_size=batch, seed=seed + k,
                        record_every=every, eval_tasks=[tasks["A"], tasks["B"]], start_step=k * steps, weights0=w0)
                  for k, ph in enumerate(phases)]
        tr = Trace.concat(traces)
        la, lb = tr.evals[:, 0], tr.evals[:, 1]
        at = {int(b): int(np.argmin(np.abs(tr.steps - b))) for b in bounds}
        if depth == 1:
            ex = np.stack([linear_sequential_exact(
                w_np0[i], [ta[i] if ph == "A" else tb[i] for ph in phases],
                [_basis(qa, i, n) if ph == "A" else _basis(qb, i, n) for ph in phases], [steps] * n_phase, lr,
                [ta[i], tb[i]], [_basis(qa, i, n), _basis(qb, i, n)], tr.steps) for i in range(len(members))])
            scale_ref = max(1e-12, float(np.abs(ex).max()))
            exact_err.append(float(np.abs(ex - tr.evals).max() / scale_ref))
        cl = _standard_metrics(tr.evals, phases, [at[(k + 1) * steps] for k in range(n_phase)])
        for i, (c, sd) in enumerate(members):
            row = {"D": depth, "similarity": c, "seed": sd, **{f"cl_{k}": v[i] for k, v in cl.items()},
                   "loss_A_after_A": la[i, at[steps]], "loss_B_before": lb[i, 0], "loss_B_after_A": lb[i, at[steps]]}
            if n_phase >= 2:
                row["loss_A_after_B"] = la[i, at[2 * steps]]
                row["forgetting_A"] = row["loss_A_after_B"] - row["loss_A_after_A"]
            row["transfer_to_B"] = row["loss_B_before"] - row["loss_B_after_A"]
            if n_phase >= 3:
                row["loss_A_final"] = la[i, -1]
            qa_i = _basis(qa, i, n)
            row["forgetting_asymptote"] = 0.5 * np.sum(((tb[i] - ta[i]) @ qa_i) ** 2) if rank is None else np.nan
            if depth == 1 and n_phase >= 2:
                row["forgetting_exact"] = ex[i, 0, at[2 * steps]] - ex[i, 0, at[steps]]
            rows.append(row)
        for c in sims:
            idx = [i for i, (cc, _) in enumerate(members) if cc == c]
            curves[f"loss_A_D{depth}_c{key(c)}"] = la[idx].mean(0)
            curves[f"loss_B_D{depth}_c{key(c)}"] = lb[idx].mean(0)
            if depth == 1:
                curves[f"exact_A_D1_c{key(c)}"] = ex[idx, 0].mean(0)
                curves[f"exact_B_D1_c{key(c)}"] = ex[idx, 1].mean(0)
        steps_rec = tr.steps
    table = pd.DataFrame(rows)
    mean = table.groupby(["D", "similarity"], as_index=False).mean(numeric_only=True)
    for _, r in mean.iterrows():
        tag = f"D{int(r.D)}_c{key(r.similarity)}"
        if "forgetting_A" in r:
            metrics[f"forgetting_sim_{tag}"] = r.forgetting_A
        metrics[f"transfer_sim_{tag}"] = r.transfer_to_B
        metrics.update({f"{k}_{tag}": r[k] for k in r.index if k.startswith("cl_")})
        if int(r.D) == 1 and "forgetting_exact" in r:
            metrics[f"forgetting_exact_c{key(r.similarity)}"] = r.forgetting_exact
        if rank is None:
            metrics[f"forgetting_asymptote_c{key(r.similarity)}"] = r.forgetting_asymptote
            if "forgetting_A" in r and int(r.D) > 1:
                deep_err.append(abs(r.forgetting_A - r.forgetting_asymptote)
                                / max(1e-12, mean.forgetting_asymptote.max()))
    metrics.update({"cl_score": "explained variance 1 - L/L(init) per task (can be negative)"}
                   if "cl_avg_acc" in table else {})
    if exact_err:
        metrics["linear_exact_max_rel_err"] = max(exact_err)
    if deep_err:
        metrics["deep_forgetting_max_rel_err"] = max(deep_err)
    fig = _sequential_figure(s, sims, depths, mean, curves, steps_rec, bounds, phases,
                             exact_asymptote=rank is None and n_phase >= 2, same_teacher=same_teacher)
    frame = pd.DataFrame({"step": steps_rec, "lr": lr})
    frame["loss"] = curves[f"loss_A_D{depths[-1]}_c{key(sims[0])}"]
    for name, v in curves.items():
        frame[name] = v
    regime = "full-rank whitened inputs" if rank is None else f"inputs in rank-{rank} subspaces"
    return dln_result("sequential", "Deep linear network: sequential tasks and forgetting",
                      f"Tasks {phases} ({regime}{', shared teacher' if same_teacher else ''}); similarity c "
                      "rotates every singular vector (and input subspace) of B away from A by arccos(c). "
                      "Forgetting = rise of A's loss while training B; transfer = fall of B's loss while "
                      "training A. cl_* keys: the standard metrics (cltk.continual_metrics) on the score "
                      "1 - L/L(init) per task, which is explained variance, not accuracy (can be negative). "
                      "Exact: D = 1 trajectories (alternating projections, Evron et al. 2022) and "
                      "the full-rank asymptote 1/2 |T_B - T_A|^2 = 1/2 (|s_A|^2 + |s_B|^2 - 2 c^2 s_A . s_B).",
                      {"width": n, "singular_values": s.tolist(), "similarities": sims.tolist(), "depths": list(depths),
                       "seeds": seeds, "steps_per_phase": steps, "lr": lr, "init_scale": scale, "input_rank": rank,
                       "same_teacher": same_teacher, "phases": phases},
                      metrics, {"sequential": table, "sequential_mean": mean}, frame,
                      [("sequential", fig, "Forgetting and loss curves: exact (lines) vs simulation (markers)")],
                      started=started, device=dev)


def _sequential_figure(s, sims, depths, mean, curves, steps_rec, bounds, phases, exact_asymptote, same_teacher):
    """Forgetting vs similarity (with the full-rank asymptote where it holds) and task A's loss curves."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    cs = np.linspace(0, 1, 101)
    if exact_asymptote:
        sa, sb = s, s
        asym = 0.5 * (np.sum(sa**2) + np.sum(sb**2) - 2 * cs**2 * np.sum(sa * sb)) if not same_teacher else 0 * cs
        ax.plot(cs, asym, "k-", label="exact asymptote (any depth, full-rank inputs)")
    for depth, mk in zip(depths, "os^v"):
        sub = mean[mean.D == depth]
        if "forgetting_A" in sub:
            ax.plot(sub.similarity, sub.forgetting_A, mk, label=f"sim D={depth}")
        if depth == 1 and "forgetting_exact" in sub:
            ax.plot(sub.similarity, sub.forgetting_exact, "-", lw=1, alpha=0.6, label="exact D=1 (end of B)")
    ax.set(xlabel="teacher similarity c", ylabel="forgetting of A (loss rise during B)",
           title="forgetting vs similarity")
    ax.legend(fontsize=7)
    pick = slice(None, None, max(1, len(steps_rec) // 50))
    for c in sims[sorted({0, len(sims) // 2, len(sims) - 1})]:
        for depth, mk in zip(depths, "os^v"):
            pts, = ax2.plot(steps_rec[pick], curves[f"loss_A_D{depth}_c{key(c)}"][pick], mk, ms=3,
                            label=f"sim A, D={depth}, c={c:g}")
            if depth == 1:
                ax2.plot(steps_rec, curves[f"exact_A_D1_c{key(c)}"], "-", color=pts.get_color(), lw=1)
    for b in bounds[1:-1]:
        ax2.axvline(b, color="grey", lw=0.5)
    ax2.set(xlabel="step", ylabel="loss on task A", title=f"phases {phases}: exact D=1 (lines)")
    ax2.legend(fontsize=6)
    return fig


def _standard_metrics(evals, phases, ends) -> dict:
    """The standard continual-learning metrics (:mod:`cltk.continual_metrics`: ACC, BWT, FWT, Chaudhry
    forgetting, De Lange min-ACC / WC-ACC) per member, on the score 1 - L_j / L_j(init) of each task j
    (explained variance relative to the initial network: 0 at init, 1 at the teacher, negative when
    worse than at init). Tasks in order of first training; empty unless A and B are both trained."""
    order = list(dict.fromkeys(phases))
    if len(order) < 2:
        return {}
    col = {"A": 0, "B": 1}
    loss = np.stack([evals[:, col[t]] for t in order], axis=-1)  # (members, n_rec, K)
    score = 1.0 - loss / np.maximum(loss[:, :1], 1e-300)
    first = [ends[phases.index(t)] for t in order]
    R = CM.accuracy_matrix(score, first)
    return CM.standard_metrics(R, baseline=score[:, 0], curve=score, learned_at=first)


def _basis(q, i, n):
    return np.eye(n) if q is None else q[i]
