"""The validate job: train the proxy runs of a plan (reusing finished ones), fit the laws on some,
predict the others, and report how right the theory was (metrics.json, curves.csv, report.html).

Runs live in ``DIR/runs/<name>-<hash>``, named by the hash of their resolved proxy config: a run
whose ``metrics.json`` exists is reused, an interrupted one resumes from its checkpoint (the proxy
reproduces the uninterrupted curve), so a killed validation started again ends with the same numbers.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cltk.errors import InputError
from cltk.analytics.executors import make_executor
from cltk.analytics.fit_scaling.job import trained_points
from cltk.analytics.curve_files import read_curve
from cltk.analytics.validate.plan import config_hash, cpt_spec
from cltk.curves import Curve
from cltk.laws import CPTLaw, LawError, get_law
from cltk.schedules import parse
from cltk.selection import select_cpt, select_schedule


def _proxy_config(plan: dict, name: str, seed: int, phases: list[dict]) -> dict:
    from cltk.analytics.proxy.runs import load_config_dict, load_proxy_config

    base = load_proxy_config(plan["proxy"], plan["set"])
    return load_config_dict({**base, "name": name, "seed": seed, "phases": phases})


def build_runs(plan: dict) -> list[dict]:
    """Every run of the plan: role, kind, name, seed, resolved proxy config and its hash."""
    runs = []
    for role in ("fit", "heldout"):
        for i, spec in enumerate(plan[role]):
            steps = parse(spec).steps
            for seed in plan["seeds"]:
                phases = [{"name": "train", "steps": steps, "mix": {plan["domain"]: 1.0}, "schedule": spec}]
                runs.append({"role": role, "kind": "schedule", "name": f"{role}{i}-s{seed}", "spec": spec,
                             "seed": seed, "cfg": _proxy_config(plan, f"{role}{i}", seed, phases)})
    cpt = plan["cpt"]
    if cpt:
        pre = parse(cpt["pretrain"])
        for role in ("fit", "heldout"):
            for i, st in enumerate(cpt[role]):
                whole = parse(cpt_spec(cpt, st))
                rewarm_spec = whole.spec.split(" + ", 1)[1]
                for seed in plan["seeds"]:
                    phases = [{"name": "pretrain", "steps": pre.steps, "mix": {cpt["old"]: 1.0},
                               "schedule": pre.spec},
                              {"name": "cpt", "steps": cpt["steps"], "mix": {cpt["new"]: 1.0},
                               "schedule": rewarm_spec, "replay": st["replay"]}]
                    runs.append({"role": role, "kind": "cpt", "name": f"cpt-{role}{i}-s{seed}", "spec": whole.spec,
                                 "setting": st, "seed": seed,
                                 "cfg": _proxy_config(plan, f"cpt-{role}{i}", seed, phases)})
    for r in runs:
        r["hash"] = config_hash(r["cfg"])
    return runs


def _train_job(job: tuple[dict, str]) -> dict:
    """One proxy run (module level, so process pools and submitit can pickle it)."""
    from cltk.analytics.proxy.runs import run_train

    cfg, out = job
    return run_train(cfg, out, resume=True, report=False)


def execute(plan: dict, runs: list[dict], out_dir: Path, on_done=None) -> dict:
    """Train the runs that have not finished; returns counts of reused and trained runs."""
    todo = []
    for r in runs:
        r["dir"] = out_dir / "runs" / f"{r['name']}-{r['hash']}"
        if not (r["dir"] / "metrics.json").exists():
            todo.append(r)
    if todo:
        # one torch thread per run: the proxies are small, and threads fighting over shared cores
        # cost far more than they gain (measured ~10x slower with 2 threads on a loaded 2-core box)
        threads = 1
        jobs = [({**r["cfg"], "train": {**r["cfg"]["train"], "threads": r["cfg"]["train"]["threads"] or threads}},
                 str(r["dir"])) for r in todo]
        ex = make_executor(plan["executor"], workers=plan["workers"], folder=out_dir / "submitit",
                           **plan["submitit"])
        results = ex.map(_train_job, jobs)
        failed = [(r["name"], e) for r, e in zip(todo, results) if isinstance(e, Exception)]
        if failed:
            name, e = failed[0]
            raise InputError(f"proxy run '{name}' failed: {type(e).__name__}: {e}")
        if on_done:
            on_done(len(todo))
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
    m, preds = {"real_best_run": real_best, "real_best_spec": next(r["spec"] for r in sched if r["name"] == real_best)}, {}
    peak = max(float(c.lrs.max()) for c in curves.values())
    for name in plan["laws"]:
        try:
            law = get_law(name).fit(fit)
        except LawError as e:
            raise InputError(f"{plan['path']}: fitting the {name} law failed: {e}") from None
        pred = {r["name"]: law.predict(curves[r["name"]]) for r in sched}
        preds[name] = pred
        errs = [_rel(pred[r["name"]][-1], real[r["name"]]) for r in held]
        pe = [float(np.mean(np.abs(curves[r["name"]].loss - pred[r["name"]]) / curves[r["name"]].loss)) for r in held]
        order_p = sorted(real, key=lambda n: pred[n][-1])
        order_r = sorted(real, key=real.get)
        pbest = order_p[0]
        total = max(parse(r["spec"]).steps for r in sched)
        warm = int(np.argmax(curves[sched[0]["name"]].lrs > 0.999 * peak))
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
    pre_steps = parse(cpt["pretrain"]).steps
    m, out = {}, {}
    laws = {}
    for dom_role, dom in (("old", cpt["old"]), ("new", cpt["new"])):
        curves = {r["name"]: _curve(r, dom, {"cpt_start": pre_steps, "replay": r["setting"]["replay"]}) for r in cr}
        fit = [curves[r["name"]] for r in cr if r["role"] == "fit"]
        try:
            laws[dom_role] = CPTLaw(domain=dom_role).fit(fit)
        except LawError as e:
            raise InputError(f"{plan['path']}: fitting the CPT law ({dom_role} domain) failed: {e}") from None
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
    sel = select_cpt(laws["old"], laws["new"], parse(cpt["pretrain"]), cpt["steps"], sorted(peaks), sorted(warms),
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


def run_validate(plan: dict, out_dir, on_done=None) -> tuple[dict, dict]:
    """Run the whole plan; returns (flat metrics, details for the report)."""
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    runs = build_runs(plan)
    metrics = {"plan": plan["name"], **execute(plan, runs, out_dir, on_done)}
    details = {"runs": runs}
    if plan["fit"]:
        m, details["schedules"] = analyse_schedules(plan, runs)
        metrics.update(m)
    if plan["cpt"]:
        m, details["cpt"] = analyse_cpt(plan, runs)
        metrics.update(m)
    metrics["seconds"] = time.perf_counter() - t0
    return metrics, details
