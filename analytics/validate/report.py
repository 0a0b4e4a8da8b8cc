"""Report of a validation: predicted vs real curves of the proxy runs, per-law errors, CPT
predictions on both domains, and the selection against the real best (sections of the job's
Result, written by :func:`cltk.analytics.result.write_result`)."""
from __future__ import annotations

import pandas as pd

from cltk.analytics.report import Report, plt


def curves_frame(details: dict) -> pd.DataFrame:
    """Every run's curve side by side (``step``, ``<run>/lr``, ``<run>/loss``, ...): read one run
    with ``--lr-col <run>/lr --loss-col <run>/loss``."""
    cols = {}
    if "schedules" in details:
        for name, c in details["schedules"]["curves"].items():
            cols[f"{name}/lr"] = pd.Series(c.lrs[c.steps], index=c.steps)
            cols[f"{name}/loss"] = pd.Series(c.loss, index=c.steps)
    if "cpt" in details:
        for dom, runs in details["cpt"]["out"].items():
            for name, (c, _) in runs.items():
                cols.setdefault(f"{name}/lr", pd.Series(c.lrs[c.steps], index=c.steps))
                cols[f"{name}/loss_{dom}"] = pd.Series(c.loss, index=c.steps)
    df = pd.DataFrame(cols).sort_index()
    df.index.name = "step"
    return df.reset_index()


def validate_sections(rep: Report, metrics: dict, details: dict, plan: dict) -> None:
    """What ran, then per law the real and predicted curves, then the CPT laws and selection."""
    rep.text(f"Plan {plan['path']}: {metrics['runs_total']} proxy runs ({metrics['runs_reused']} reused, "
             f"{metrics['runs_trained']} trained) in {metrics['seconds']:.0f} s.")
    if "schedules" in details:
        s = details["schedules"]
        rep.heading("Single-domain schedules: laws fitted on the fit runs, predicting the held-out runs")
        for law, preds in s["preds"].items():
            fig, ax = plt.subplots(figsize=(7, 4))
            for i, (name, c) in enumerate(s["curves"].items()):
                ax.plot(c.steps, c.loss, "o", ms=2.5, color=f"C{i}", label=f"{name} (real)")
                ax.plot(c.steps, preds[name], "-", color=f"C{i}", label=f"{name} ({law})")
            lo = min(float(c.loss[len(c.loss) // 4:].min()) for c in s["curves"].values())
            hi = max(float(c.loss[len(c.loss) // 4:].max()) for c in s["curves"].values())
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
            ax.set_xlabel("step")
            ax.set_ylabel(f"val loss ({plan['domain']})")
            ax.legend(frameon=False, fontsize=7)
            rep.figure(fig, f"schedules_{law}", f"{law} law: markers real, lines predicted")
    if "cpt" in details:
        c = details["cpt"]
        rep.heading("Continual pre-training: CPT law per domain (markers real, lines predicted)")
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, dom in zip(axes, ("old", "new")):
            for i, (name, (cv, pred)) in enumerate(c["out"][dom].items()):
                ax.plot(cv.steps, cv.loss, "o", ms=2, color=f"C{i}", label=name)
                ax.plot(cv.steps, pred, "-", color=f"C{i}")
            ax.set_title(f"{dom} domain ({plan['cpt'][dom]})")
            ax.set_xlabel("step")
            ax.legend(frameon=False, fontsize=7)
        rep.figure(fig, "cpt", "Old-domain forgetting and new-domain progress")
        rep.heading("CPT selection (predicted) over the trained settings")
        rep.table(c["selection"].candidates, ["peak", "warmup", "replay", "old_loss", "new_loss", "score"])
        rep.table([{"setting": "peak={:g},warmup={},replay={:g}".format(*k), "real weighted final loss": v}
                   for k, v in sorted(c["real"].items(), key=lambda kv: kv[1])])
