"""The fit-cpt job: fit the continual-pre-training law (Wang et al. 2025, Eq. 3-5;
:class:`cltk.laws.CPTLaw`) per evaluated domain on a user's own two-phase logs, predict held-out
continual runs, and return the outputs of the job contract (docs/fit-cpt.md): metrics.json,
``cpt_law_old.json`` / ``cpt_law_new.json`` (the law files ``cltk select-cpt`` reads),
predictions.csv, PNG plots and report.html, written by :func:`cltk.analytics.result.write_result`."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cltk.analytics.fit_cpt.report import report
from cltk.analytics.fit_cpt.runs import CPTLog, pretrain_curve, two_phase
from cltk.analytics.law_caveats import caveats
from cltk.analytics.metrics import curve_metrics, mean_metrics
from cltk.analytics.result import Result
from cltk.curves import Curve, trained_points, warmup_end
from cltk.errors import InputError
from cltk.laws import CPTLaw

DOMAINS = ("old", "new")
#: a shift term smaller than this share of the loss on every fit run is "no shift found"
NO_SHIFT = 1e-3


def _pretrain_lrs(pretrain: dict[str, Curve], steps: int | None) -> tuple[np.ndarray | None, list[str]]:
    """The pre-training run's LR history, run on to step ``steps`` with its last logged LR held, and
    the note that says where pre-training is taken to end when ``steps`` is not given."""
    if not pretrain:
        return None, []
    lrs = max((c.lrs for c in pretrain.values()), key=len)
    last = len(lrs) - 1
    if steps is None:
        return lrs, [f"Pre-training is taken to end at step {last}, the last step of its log: if it ran longer "
                     "(a log written every N steps), give its length with --pretrain-steps, since the switch to "
                     "continual pre-training is placed right after it."]
    if steps < last:
        src = next(c.meta.get("source", c.name) for c in pretrain.values())
        raise InputError(f"{src}: the pre-training log reaches step {last}, beyond --pretrain-steps {steps}")
    return np.concatenate([lrs, np.full(steps - last, lrs[-1])]), []


def run_fit_cpt(fit_runs: Sequence[CPTLog], heldout_runs: Sequence[CPTLog] = (), *,
                pretrain: dict[str, Curve] | None = None, pretrain_steps: int | None = None,
                progress: Callable[[str], None] | None = None) -> Result:
    """Fit one CPT law per domain that the runs' logs hold ("old": the pre-training domain, whose
    loss rises as it is forgotten; "new": the continual domain) jointly on the pre-training run's
    curve (``pretrain``, domain -> curve, when its log is given) and the continual ``fit_runs``,
    and predict ``heldout_runs``. ``pretrain_steps``: the pre-training run's length when its log
    stops before its last update (a log written every N steps); its LR is held from the last logged
    value to there. Goodness of fit per curve as Luo et al. (2025, Sec. 4.2) report it."""
    if not fit_runs:
        raise InputError("fit-cpt: no continual run to fit (give at least one continual pre-training log)")
    pretrain = pretrain or {}
    domains = [d for d in DOMAINS if d in fit_runs[0].logs]
    for r in [*fit_runs, *heldout_runs]:
        if [d for d in DOMAINS if d in r.logs] != domains:
            raise InputError(f"{r.source}: holds the losses of domain(s) {sorted(r.logs)}, the first continual "
                             f"log those of {domains}: every continual log needs the same domains")
    if not domains:
        raise InputError(f"{fit_runs[0].source}: holds no old- or new-domain loss")
    notes, rows, frames, laws, run_rows, figs = [], [], [], {}, {}, {}
    pre_lrs, pre_note = _pretrain_lrs(pretrain, pretrain_steps)
    notes += pre_note
    # rho (how replay scales the shift) only moves the fit when the fit runs differ in replay
    fixed = {"rho": 1.0} if len({r.replay for r in fit_runs}) == 1 else {}
    for dom in domains:
        curves, dropped = _curves(dom, fit_runs, heldout_runs, pretrain.get(dom), pre_lrs, run_rows)
        fit = [c for c, role in curves if role != "heldout"]
        law = CPTLaw(domain=dom, **fixed).fit(fit, progress=progress and (lambda m, d=dom: progress(f"{d}: {m}")))
        laws[dom] = law
        dom_rows = []
        for c, role in curves:
            pred = law.predict(c)
            cpt = c.steps >= c.meta["cpt_start"]
            row = {"domain": dom, "name": c.name, "role": role, "replay": c.meta["replay"],
                   "points": len(c.steps), **curve_metrics(c.loss, pred),
                   "cpt_pred_e": float(np.mean(np.abs(c.loss - pred)[cpt] / c.loss[cpt])) if cpt.any() else None,
                   "final_step": int(c.steps[-1]), "final_loss_true": float(c.loss[-1]),
                   "final_loss_pred": float(pred[-1]), "final_rel_err": float(abs(pred[-1] - c.loss[-1]) / c.loss[-1])}
            dom_rows.append(row)
            frames.append(pd.DataFrame({"domain": dom, "curve": c.name, "role": role, "step": c.steps,
                                        "log_step": c.steps - c.meta["step_offset"],
                                        "phase": np.where(cpt, "cpt", "pretrain"), "lr": c.lrs[c.steps],
                                        "loss": c.loss, "pred": pred}))
        rows += dom_rows
        figs[dom] = [(c, role, law.predict(c)) for c, role in curves]
        notes += [f"{dom} domain: {n}" for n in caveats(law, fit, {"curves": dom_rows})]
        notes += _shift_note(law, fit, dom)
        if dropped:
            notes.append(f"{dom} domain: points logged before any LR area were left out: {dropped}")
    notes = _run_notes(fit_runs, heldout_runs, pretrain, domains, run_rows, fixed) + notes
    metrics = {"law": "cpt", "domains": domains,
               "laws": {d: {"file": f"cpt_law_{d}.json", "params": law.params_, "fixed": dict(law.fixed),
                            "fit_seconds": float(law.fit_info_["seconds"]),
                            "fit": mean_metrics([r for r in rows if r["domain"] == d and r["role"] != "heldout"]),
                            "heldout": mean_metrics([r for r in rows if r["domain"] == d and r["role"] == "heldout"])}
                        for d, law in laws.items()},
               "runs": list(run_rows.values()), "curves": rows, "notes": notes}
    result = Result("cltk fit-cpt: continual pre-training law", metrics,
                    tables={"predictions": pd.concat(frames, ignore_index=True)},
                    files={f"cpt_law_{d}.json": law.to_json() for d, law in laws.items()},
                    metrics_in_report=False, details={"laws": laws})
    report(result.report, laws, metrics, figs)
    return result


def _curves(dom: str, fit_runs, heldout_runs, pre: Curve | None, pre_lrs, run_rows: dict):
    """(curve, role) of every run on ``dom``: the pre-training run's own curve first (when its log
    holds this domain), then the continual runs in one step count; ``run_rows`` collects how each
    log was placed. Returns them and the points dropped before any LR area, by curve."""
    out, dropped = [], {}
    if pre is not None:
        out.append((pretrain_curve(pre), "pretrain"))
        run_rows.setdefault(pre.name, {"name": pre.name, "source": pre.meta.get("source", pre.name),
                                       "role": "pretrain", "last_step": len(pre.lrs) - 1})
    for role, runs in (("fit", fit_runs), ("heldout", heldout_runs)):
        for r in runs:
            c, how = two_phase(r, dom, pre_lrs)
            out.append((c, role))
            run_rows.setdefault(r.name, {"name": r.name, "source": r.source, "role": role, "replay": r.replay,
                                         "switch_step": c.meta["switch_step"], "cpt_start": c.meta["cpt_start"],
                                         "step_count": c.meta["count"], "dropped_before_switch": 0,
                                         "lr_steps_held": how["held"]})
            row = run_rows[r.name]  # the most dropped on any domain (each domain's column is read alone)
            row["dropped_before_switch"] = max(row["dropped_before_switch"], how["dropped"])
    seen = {}
    for i, (c, role) in enumerate(out):
        if c.name in seen:
            raise InputError(f"{c.meta.get('source', c.name)} and {seen[c.name]} are both named '{c.name}': "
                             "curve names must be unique (rename one file)")
        seen[c.name] = c.meta.get("source", c.name)
        kept, n = trained_points(c)
        if n:
            dropped[c.name] = n
        out[i] = (kept, role)
    return out, dropped


def _shift_note(law: CPTLaw, fit: list[Curve], dom: str) -> list[str]:
    """The shift term's degenerate fits: beta -> 0 (a logarithm, B and beta traded off), or a term
    too small to matter on every fit run (no forgetting of the old domain, or no gain on the new
    one beyond the power law, whatever E and beta say)."""
    p = law.params_
    size = []
    for c in fit:
        t0 = c.meta["cpt_start"]
        if t0 >= len(c.lrs):
            continue
        area = float(np.sum(c.lrs[t0:]))
        size.append(p["B"] * (1 - c.meta["replay"]) ** p["rho"] * (1 - (1 + p["E"] * area) ** -p["beta"])
                    / c.loss[-1])
    notes = []
    if p["beta"] < 1e-3:  # 1 - (1 + x)^-beta -> beta ln(1 + x) as beta -> 0: B trades off against beta
        notes.append(f"{dom} domain: beta = {p['beta']:.3g} with B = {p['B']:.3g}: the fitted shift term is "
                     f"B beta ln(1 + E S_cpt) (B beta = {p['B'] * p['beta']:.3g}), which grows without saturating; "
                     "B and beta are not identified apart, and predictions for continual phases longer than the "
                     "fit runs' are extrapolations.")
    if size and max(size) < NO_SHIFT:
        what = "forgetting of the old domain" if dom == "old" else "gain on the new domain beyond the power law"
        notes.append(f"{dom} domain: the distribution-shift term is below {NO_SHIFT:.1%} of the loss on every fit "
                     f"run (B = {p['B']:.3g}): the fit finds no {what}, so E, beta and rho are not identified.")
    return notes


def _run_notes(fit_runs, heldout_runs, pretrain, domains, run_rows, fixed) -> list[str]:
    """What the set of runs cannot tell the law (said once for both domains), and how logs were placed."""
    notes = []
    if len(fit_runs) == 1:
        notes.append("One continual run was fitted: the law's response to the re-warm peak, its length and the "
                     "replay share (what select-cpt varies) rests on one setting, so predictions for other "
                     "settings are extrapolations. Fit on two or more runs that differ in them.")
    if fixed:
        notes.append(f"Every fit run uses replay {fit_runs[0].replay:g}: how replay scales the distribution shift "
                     "is not identified, so rho was fixed at 1 (the shift proportional to the share of new-domain "
                     "data). Predictions for other replay shares assume it; fit on runs with two or more shares.")
    reps = [r.replay for r in fit_runs]
    for r in heldout_runs:
        if not min(reps) <= r.replay <= max(reps):
            notes.append(f"{r.name}: replay {r.replay:g} lies outside the fit runs' replay shares "
                         f"[{min(reps):g}, {max(reps):g}]: its prediction extrapolates in replay.")
    decays = []
    for r in fit_runs:
        c = run_rows[r.name]
        lrs = r.logs[domains[0]].lrs[int(c["switch_step"]):]
        decays.append(bool(np.any(np.diff(lrs[warmup_end(lrs):]) < 0)))
    if not any(decays):
        notes.append("No fit run lowers its learning rate during continual pre-training (after any re-warm): the "
                     "continual annealing term (C2) is not identified, so predictions of decaying continual "
                     "schedules are guesses. Fit on at least one run that decays.")
    if pretrain:
        for d in domains:
            if d not in pretrain:
                notes.append(f"The pre-training log holds no {d}-domain loss: the {d}-domain law's pre-training "
                             "terms are fitted on the continual runs alone.")
    for row in run_rows.values():
        if row.get("dropped_before_switch"):
            notes.append(f"{row['name']}: {row['dropped_before_switch']} point(s) logged before its switch step "
                         f"{row['switch_step']} were left out (the pre-training log gives that phase).")
        if row.get("lr_steps_held"):
            notes.append(f"{row['name']}: the pre-training log ends {row['lr_steps_held']} step(s) before the switch "
                         f"step {row['switch_step']}; the LR of those steps was held at its last logged value.")
    warn = [w for r in [*fit_runs, *heldout_runs] for c in r.logs.values() for w in c.meta.get("warnings", [])]
    warn += [w for c in (pretrain or {}).values() for w in c.meta.get("warnings", [])]
    return list(dict.fromkeys(warn)) + notes
