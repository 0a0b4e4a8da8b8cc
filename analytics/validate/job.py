"""The validate job: train the proxy runs of a plan (reusing finished ones), fit the laws on some,
predict the others, and report how right the theory was; returns a :class:`Result` (metrics.json,
curves.csv, cpt_law_old.json / cpt_law_new.json, report.html).

Runs live in ``DIR/runs/<name>-<hash>``, named by the hash of their resolved proxy config: a run
whose ``metrics.json`` exists is reused, an interrupted one resumes from its checkpoint (the proxy
reproduces the uninterrupted curve), so a killed validation started again ends with the same numbers.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from cltk.analytics.curve_files import read_curve
from cltk.analytics.executors import make_executor
from cltk.analytics.proxy_runs import train_folder_job
from cltk.analytics.result import Result
from cltk.analytics.validate.plan import config_hash
from cltk.analytics.validate.report import curves_frame, validate_sections
from cltk.curves import Curve, trained_points
from cltk.errors import InputError
from cltk.laws import CPTLaw, LawError, get_law
from cltk.proxy import resolve
from cltk.selection import select_cpt, select_schedule

__all__ = ["build_runs", "execute", "run_validate"]


def _proxy_config(plan: dict, name: str, seed: int, phases: list[dict]) -> dict:
    return resolve({**plan["base"], "name": name, "seed": seed, "phases": phases})


def build_runs(plan: dict) -> list[dict]:
    """Every run of the plan: role, kind, name, seed, its whole LR schedule (a Schedule), resolved
    proxy config (phase schedules as specs: the config format) and the config's hash."""
    runs = []
    for role in ("fit", "heldout"):
        for i, sched in enumerate(plan[role]):
            phases = [{"name": "train", "steps": sched.steps, "mix": {plan["domain"]: 1.0}, "schedule": sched.spec}]
            for seed in plan["seeds"]:
                runs.append({"role": role, "kind": "schedule", "name": f"{role}{i}-s{seed}", "schedule": sched,
                             "seed": seed, "cfg": _proxy_config(plan, f"{role}{i}", seed, phases)})
    cpt = plan["cpt"]
    if cpt:
        pre = cpt["pretrain"]
        for role in ("fit", "heldout"):
            for i, st in enumerate(cpt[role]):
                phases = [{"name": "pretrain", "steps": pre.steps, "mix": {cpt["old"]: 1.0}, "schedule": pre.spec},
                          {"name": "cpt", "steps": cpt["steps"], "mix": {cpt["new"]: 1.0},
                           "schedule": st["phase"].spec, "replay": st["replay"]}]
                for seed in plan["seeds"]:
                    runs.append({"role": role, "kind": "cpt", "name": f"cpt-{role}{i}-s{seed}",
                                 "schedule": st["whole"], "setting": st, "seed": seed,
                                 "cfg": _proxy_config(plan, f"cpt-{role}{i}", seed, phases)})
    for r in runs:
        r["hash"] = config_hash(r["cfg"])
    return runs


def execute(plan: dict, runs: list[dict], out_dir: Path, on_done=None, progress=None) -> dict:
    """Train the runs that have not finished (threads per run: the executor's policy, unless the
    proxy config sets train.threads); returns counts of reused and trained runs.
    ``on_done(name, error | None)`` follows each trained run, and ``progress("proxy runs k/n")``."""
    todo = []
    for r in runs:
        r["dir"] = out_dir / "runs" / f"{r['name']}-{r['hash']}"
        if not (r["dir"] / "metrics.json").exists():
            todo.append(r)
    if todo:
        ex = make_executor(plan["executor"], workers=plan["workers"], folder=out_dir / "submitit",
                           **plan["submitit"])

        finished = itertools.count(1)
        if progress:
            progress(f"proxy runs 0/{len(todo)}")

        def done(i: int, out) -> None:
            if on_done:
                on_done(todo[i]["name"], out if isinstance(out, Exception) else None)
            if progress:
                progress(f"proxy runs {next(finished)}/{len(todo)}")

        results = ex.map(train_folder_job, [(r["cfg"], str(r["dir"])) for r in todo], on_done=done)
        failed = [(r["name"], e) for r, e in zip(todo, results) if isinstance(e, Exception)]
        if failed:
            name, e = failed[0]
            raise InputError(f"proxy run '{name}' failed: {type(e).__name__}: {e}")
    return {"runs_total": len(runs), "runs_reused": len(runs) - len(todo), "runs_trained": len(todo)}


def _curve(run: dict, domain: str, meta: dict | None = None) -> Curve:
    c = read_curve(run["dir"] / "curves.csv", loss_col=f"val_loss_{domain}", name=run["name"])
    c, _ = trained_points(c)  # the eval before the first update has no LR area
    c.meta.update(meta or {})
    return c


def _rel(pred: float, true: float) -> float:
    return abs(pred - true) / true


def analyse_schedules(plan: dict, runs: list[dict]) -> tuple[dict, dict]:
    """Per law: held-out final-loss errors, PredE, ranking and selection vs the real best."""
    sched = [r for r in runs if r["kind"] == "schedule"]
    curves = {r["name"]: _curve(r, plan["domain"]) for r in sched}
    fit = [curves[r["name"]] for r in sched if r["role"] == "fit"]
    held = [r for r in sched if r["role"] == "heldout"]
    real = {r["name"]: float(curves[r["name"]].loss[-1]) for r in sched}
    real_best = min(real, key=real.get)
    m = {"real_best_run": real_best,
         "real_best_spec": next(r["schedule"].spec for r in sched if r["name"] == real_best)}
    preds = {}
    peak = max(float(c.lrs.max()) for c in curves.values())
    total = max(r["schedule"].steps for r in sched)
    warm = int(np.argmax(curves[sched[0]["name"]].lrs > 0.999 * peak))
    order_r = sorted(real, key=real.get)
    for name in plan["laws"]:
        try:
            law = get_law(name).fit(fit)
        except LawError as e:
            raise LawError(f"{plan['path']}: fitting the {name} law failed: {e}") from None
        pred = {r["name"]: law.predict(curves[r["name"]]) for r in sched}
        preds[name] = pred
        errs = [_rel(pred[r["name"]][-1], real[r["name"]]) for r in held]
        pe = [float(np.mean(np.abs(curves[r["name"]].loss - pred[r["name"]]) / curves[r["name"]].loss)) for r in held]
        order_p = sorted(real, key=lambda n: pred[n][-1])
        pbest = order_p[0]
        sel = select_schedule(law, total, peak, family="wsd", warmup=warm)
        m.update({f"{name}_heldout_final_rel_err_mean": float(np.mean(errs)) if errs else None,
                  f"{name}_heldout_final_rel_err_max": float(np.max(errs)) if errs else None,
                  f"{name}_heldout_pred_e": float(np.mean(pe)) if pe else None,
                  f"{name}_ranking_equal": order_p == order_r,
                  f"{name}_predicted_best_run": pbest,
                  f"{name}_predicted_best_is_real_best": pbest == real_best,
                  f"{name}_selected_wsd_spec": sel.spec,
                  f"{name}_selected_wsd_predicted_final": sel.final_loss})
    return m, {"curves": curves, "preds": preds, "real": real}


def analyse_cpt(plan: dict, runs: list[dict]) -> tuple[dict, dict]:
    """CPT law per domain: held-out errors at unseen settings and the selected setting vs the real best."""
    cpt = plan["cpt"]
    cr = [r for r in runs if r["kind"] == "cpt"]
    pre_steps = cpt["pretrain"].steps
    m, out = {}, {}
    laws = {}
    for dom_role, dom in (("old", cpt["old"]), ("new", cpt["new"])):
        curves = {r["name"]: _curve(r, dom, {"cpt_start": pre_steps, "replay": r["setting"]["replay"]}) for r in cr}
        fit = [curves[r["name"]] for r in cr if r["role"] == "fit"]
        try:
            laws[dom_role] = CPTLaw(domain=dom_role).fit(fit)
        except LawError as e:
            raise LawError(f"{plan['path']}: fitting the CPT law ({dom_role} domain) failed: {e}") from None
        held = [r for r in cr if r["role"] == "heldout"]
        errs = [_rel(laws[dom_role].predict(curves[r["name"]])[-1], curves[r["name"]].loss[-1]) for r in held]
        m[f"cpt_{dom_role}_heldout_final_rel_err_mean"] = float(np.mean(errs)) if errs else None
        m[f"cpt_{dom_role}_heldout_final_rel_err_max"] = float(np.max(errs)) if errs else None
        out[dom_role] = {n: (c, laws[dom_role].predict(c)) for n, c in curves.items()}
    w = cpt["weight_old"]
    trained = {}
    for r in cr:
        key = (r["setting"]["peak"], r["setting"]["warmup"], r["setting"]["replay"])
        score = w * out["old"][r["name"]][0].loss[-1] + (1 - w) * out["new"][r["name"]][0].loss[-1]
        trained.setdefault(key, []).append(score)
    real = {k: float(np.mean(v)) for k, v in trained.items()}
    peaks, warms, reps = ({k[i] for k in real} for i in range(3))
    sel = select_cpt(laws["old"], laws["new"], cpt["pretrain"], cpt["steps"], sorted(peaks), sorted(warms),
                     sorted(reps), cpt["final_ratio"], w)
    pred_among = min(real, key=lambda k: next(c["score"] for c in sel.candidates
                                              if (c["peak"], c["warmup"], c["replay"]) == k))
    best = min(real, key=real.get)
    m.update({"cpt_selected_peak": sel.peak, "cpt_selected_warmup": sel.warmup, "cpt_selected_replay": sel.replay,
              "cpt_selected_predicted_score": sel.score,
              "cpt_predicted_best_trained": "peak={:g},warmup={},replay={:g}".format(*pred_among),
              "cpt_real_best_trained": "peak={:g},warmup={},replay={:g}".format(*best),
              "cpt_selected_is_real_best": pred_among == best})
    return m, {"out": out, "selection": sel, "real": real, "laws": laws}


def run_validate(plan: dict, out_dir, *, workers: int | None = None, seeds=None, on_done=None,
                 progress=None) -> Result:
    """Run the whole plan (a :func:`cltk.analytics.validate.plan.load_plan` dict), training into
    ``out_dir/runs``; ``workers`` and ``seeds`` (of every proxy run) override the plan's. Returns the Result for
    ``write_result(result, out_dir)``; ``details`` holds the runs, curves, predictions and laws."""
    out_dir = Path(out_dir)
    if workers:
        plan = {**plan, "workers": workers}
    if seeds:
        plan = {**plan, "seeds": [int(s) for s in seeds]}
    t0 = time.perf_counter()
    runs = build_runs(plan)
    metrics = {"plan": plan["name"], **execute(plan, runs, out_dir, on_done, progress)}
    details = {"runs": runs}
    if plan["fit"]:
        m, details["schedules"] = analyse_schedules(plan, runs)
        metrics.update(m)
    if plan["cpt"]:
        m, details["cpt"] = analyse_cpt(plan, runs)
        metrics.update(m)
    metrics["seconds"] = time.perf_counter() - t0
    files = {f"cpt_law_{dom}.json": law.to_json() for dom, law in details["cpt"]["laws"].items()} \
        if "cpt" in details else {}  # for `cltk select-cpt`
    result = Result(f"cltk validate: {plan['name']}", metrics, curves=curves_frame(details), files=files,
                    details=details)
    validate_sections(result.report, metrics, details, plan)
    return result
