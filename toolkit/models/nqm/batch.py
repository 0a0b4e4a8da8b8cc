"""Steps to a target loss vs batch size on the NQM, with the LR tuned per batch size, and the critical
batch size (Zhang et al. 2019, Sec. 3-4, Fig. 3-5; the definition of McCandlish et al. 2018).

Protocol (Zhang et al. 2019, Sec. 4: every hyperparameter tuned for each batch size, "steps to reach
a target" as the cost): for each optimizer and batch size, a constant LR is taken from a geometric
grid ``lr_max 2^(-k/per_octave)``, k = 1, 2, ..., where ``lr_max`` is the stability limit (``2 (1 +
beta) / max h~``); the exact expected loss (:mod:`cltk.models.nqm.optim`) is run for every LR (and
every momentum / EMA value of the optimizer) and the fewest steps after which the expected loss is at
or below the target is that batch size's cost. Zhang et al. also tune LR schedules; this study
tunes constant LRs only.

The critical batch size is where the examples needed, ``B S(B)``, reach ``factor`` (2) times those of
the smallest batch size: perfect scaling ``S ~ 1/B`` keeps ``B S`` constant, and in the model of
McCandlish et al. (2018), ``S = S_min (1 + B_noise / B)``, the examples double exactly at
``B = B_noise``. ``E_min / S_min`` (their estimate of ``B_noise``) is reported beside it.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from cltk.models.nqm.optim import Configs, _as_hc, _Moments, stable_lr, stationary
from cltk.runtime import torch_threads

__all__ = ["DEFAULT_STUDY", "OPTIMIZERS", "BatchStudy", "critical_batch_size", "optimizer_configs", "steps_to_target",
           "study_batch_sizes"]

#: optimizer name -> the settings it tunes over (momenta, EMA decays) and its preconditioning flag
OPTIMIZERS = ("sgd", "momentum", "precond", "precond_momentum", "ema")
#: the study's defaults, shared by :func:`study_batch_sizes` and ``cltk simulate nqm``
DEFAULT_STUDY = {"optimizers": ("sgd", "momentum", "precond", "ema"), "momenta": (0.5, 0.9, 0.99),
                 "emas": (0.9, 0.95, 0.98, 0.99, 0.995), "power": 0.5, "per_octave": 4}


def optimizer_configs(name: str, momenta=(0.9,), emas=(0.9,), power: float = 0.5):
    """(momentum, ema, power) triples an optimizer tunes over (Zhang et al. 2019, Sec. 3.3-3.5):
    ``sgd``; ``momentum`` (heavy ball, each of ``momenta``); ``precond`` (``P = H^-power``, Adam-like
    for power 1/2); ``precond_momentum`` (both); ``ema`` (SGD with an EMA of the iterates)."""
    table = {"sgd": [(0.0, 0.0, 0.0)], "momentum": [(b, 0.0, 0.0) for b in momenta],
             "precond": [(0.0, 0.0, power)], "precond_momentum": [(b, 0.0, power) for b in momenta],
             "ema": [(0.0, g, 0.0) for g in emas]}
    if name not in table:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    return table[name]


def steps_to_target(h, c, lr, cfg: Configs, target: float, max_steps: int, x0=1.0, group=None,
                    device="cpu", dtype=torch.float64, threads: int | None = 1):
    """Fewest updates after which the exact expected loss (Zhang et al. 2019, Sec. 3) is <= ``target``,
    per row at a constant LR ``lr`` (rows,). Rows that are unstable or whose stationary loss is at or
    above the target never reach it (inf) and are not run. ``group``: rows of one group (one batch
    size of one optimizer) stop once one of them reaches the target, as the later ones cannot be the
    best; they come back as inf with ``censored`` True. Returns ``(steps, censored)``, floats (rows,).
    """
    h, c = _as_hc(h, c)
    lr = np.asarray(lr, dtype=np.float64)
    n = cfg.n
    group = np.zeros(n, dtype=int) if group is None else np.asarray(group)
    steps = np.full(n, np.inf)
    censored = np.zeros(n, dtype=bool)
    floor = stationary(h, c, lr, cfg)
    run = np.flatnonzero(~(floor >= target) & (lr > 0) & (lr < stable_lr(h, cfg)))
    if len(run) == 0:
        return steps, censored
    with torch.no_grad(), torch_threads(threads):
        st = _Moments(h, c, cfg.take(run), x0, device, dtype)
        lr_t = torch.as_tensor(lr[run, None], device=device, dtype=dtype)
        if float(st.loss().max()) <= target:
            steps[run] = 0
            return steps, censored
        for t in range(1, int(max_steps) + 1):
            st.step(lr_t)
            hit = (st.loss() <= target).cpu().numpy()
            if not hit.any():
                continue
            steps[run[hit]] = t
            done = np.isin(group[run], group[run[hit]])
            censored[run[done & ~hit]] = True
            keep = ~done
            if not keep.any():
                break
            run = run[keep]
            kt = torch.as_tensor(keep, device=device)
            st.take(kt)
            lr_t = lr_t[kt]
    return steps, censored


def critical_batch_size(batch, steps, factor: float = 2.0) -> float:
    """Batch size at which ``B S(B)`` first reaches ``factor`` times its value at the smallest batch
    size (log-log interpolation between grid points; McCandlish et al. 2018: ``B_noise`` for factor
    2). nan when it never does on the grid (or fewer than two finite points)."""
    b, s = np.asarray(batch, float), np.asarray(steps, float)
    ok = np.isfinite(s) & (s > 0)
    b, s = b[ok], s[ok]
    if len(b) < 2:
        return float("nan")
    order = np.argsort(b)
    b, s = b[order], s[order]
    ratio = b * s / (b[0] * s[0])
    above = np.flatnonzero(ratio >= factor)
    if len(above) == 0:
        return float("nan")
    i = int(above[0])
    x0, x1, y0, y1 = np.log(b[i - 1]), np.log(b[i]), np.log(ratio[i - 1]), np.log(ratio[i])
    return float(np.exp(x0 + (np.log(factor) - y0) * (x1 - x0) / (y1 - y0)))


@dataclasses.dataclass
class BatchStudy:
    """Result of :func:`study_batch_sizes`: ``best`` has one row per (optimizer, batch) with the best
    steps and its LR / momentum / EMA; ``grid`` every (optimizer, batch, lr, momentum, ema) row run."""

    target: float
    best: dict
    grid: dict
    critical: dict
    noise_scale: dict


def study_batch_sizes(h, c, batches, target: float, optimizers=DEFAULT_STUDY["optimizers"],
                      momenta=DEFAULT_STUDY["momenta"], emas=DEFAULT_STUDY["emas"],
                      power: float = DEFAULT_STUDY["power"], per_octave: int = DEFAULT_STUDY["per_octave"],
                      window: int = 20, max_steps: int = 10**6, x0=1.0, factor: float = 2.0,
                      device="cpu", threads: int | None = 1) -> BatchStudy:
    """Steps to ``target`` vs batch size per optimizer, LR tuned per batch size on the grid of the
    module docstring, and each optimizer's critical batch size (Zhang et al. 2019, Fig. 3-5).

    For each (optimizer setting, batch) the grid starts one step below the stability limit and runs
    ``window`` LRs down from the largest LR whose stationary loss is below the target (those above can
    never reach it); a best LR at the bottom of that window is flagged in ``best['at_edge']``.
    """
    h, c = _as_hc(h, c)
    batches = np.asarray(sorted({float(b) for b in batches}))
    rows = {k: [] for k in ("optimizer", "batch", "lr", "momentum", "ema", "power", "group")}
    for oi, name in enumerate(optimizers):
        for mom, ema, p in optimizer_configs(name, momenta, emas, power):
            top = float(stable_lr(h, Configs(1, 1.0, mom, ema, p))[0])
            k = np.arange(1, per_octave * 60)
            lrs = top * 2.0 ** (-k / per_octave)
            for bi, b in enumerate(batches):
                floor = stationary(h, c, lrs, Configs(len(lrs), b, mom, ema, p))
                ok = np.flatnonzero(~(floor >= target))
                sel = lrs[ok[:window]] if len(ok) else lrs[:0]
                for v, key in ((sel, "lr"), (b, "batch"), (mom, "momentum"), (ema, "ema"), (p, "power"),
                               (name, "optimizer"), (oi * len(batches) + bi, "group")):
                    rows[key].extend(np.broadcast_to(np.asarray(v, dtype=object), sel.shape).tolist())
    n = len(rows["lr"])
    cfg = Configs(n, rows["batch"], rows["momentum"], rows["ema"], rows["power"])
    steps, censored = steps_to_target(h, c, np.asarray(rows["lr"], float), cfg, target, max_steps, x0=x0,
                                      group=np.asarray(rows["group"]), device=device, threads=threads)
    grid = {k: np.asarray(v) for k, v in rows.items()}
    grid.update(steps=steps, censored=censored)
    best = {k: [] for k in ("optimizer", "batch", "steps", "lr", "momentum", "ema", "power", "at_edge")}
    critical, noise_scale = {}, {}
    for name in optimizers:
        for b in batches:
            m = np.flatnonzero((grid["optimizer"] == name) & (grid["batch"] == b))
            i = m[np.argmin(steps[m])] if len(m) else None
            s = float(steps[i]) if i is not None else np.inf
            # the bottom of a window: the smallest LR tried for that (optimizer setting, batch)
            same = m[(grid["momentum"][m] == grid["momentum"][i]) & (grid["ema"][m] == grid["ema"][i])] \
                if i is not None else m
            edge = bool(i is not None and np.isfinite(s) and len(same) >= window
                        and float(grid["lr"][i]) == float(np.min(grid["lr"][same].astype(float))))
            for k, v in (("optimizer", name), ("batch", b), ("steps", s), ("at_edge", edge),
                         ("lr", float(grid["lr"][i]) if i is not None and np.isfinite(s) else np.nan),
                         ("momentum", float(grid["momentum"][i]) if i is not None else np.nan),
                         ("ema", float(grid["ema"][i]) if i is not None else np.nan),
                         ("power", float(grid["power"][i]) if i is not None else np.nan)):
                best[k].append(v)
        sel = np.asarray(best["optimizer"]) == name
        bs, ss = np.asarray(best["batch"])[sel], np.asarray(best["steps"])[sel]
        critical[name] = critical_batch_size(bs, ss, factor)
        fin = np.isfinite(ss)
        noise_scale[name] = float((bs[fin] * ss[fin]).min() / ss[fin].min()) if fin.any() else float("nan")
    best = {k: np.asarray(v) for k, v in best.items()}
    return BatchStudy(float(target), best, grid, critical, noise_scale)
