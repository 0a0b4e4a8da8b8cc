"""Report sections of proxy runs and sweeps: loss per domain with phase switches marked, the LR, and
the two instability signals of Wortsman et al. (2023, Sec. 3.1). The jobs add them to their
Result's report; :func:`cltk.analytics.result.write_result` writes the page."""
from __future__ import annotations

import pandas as pd

from cltk.analytics.report import Report, plt


def _mark_phases(ax, phases: list[dict]) -> None:
    end = -1
    for ph in phases[:-1]:
        end += ph["steps"]
        ax.axvline(end + 0.5, color="0.6", ls="--", lw=1)


def loss_figure(df: pd.DataFrame, summary: dict, title: str = ""):
    """Val loss of every eval domain and the (smoothed) train loss against the step."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(df["step"], df["train_loss"].rolling(10, min_periods=1).mean(), color="0.75", lw=1,
            label="train loss (10-step mean)")
    for d in summary["eval_domains"]:
        ev = df.dropna(subset=[f"val_loss_{d}"])
        ax.plot(ev["step"], ev[f"val_loss_{d}"], marker=".", label=f"val loss, {d}")
    _mark_phases(ax, summary["phases"])
    ax.set(xlabel="step", ylabel="loss (nats/byte)", title=title)
    ax.legend()
    return fig


def train_sections(rep: Report, summary: dict, df: pd.DataFrame) -> None:
    """One run's losses, LR and instability signals (``df``: the run's curves.csv)."""
    rep.heading("Loss")
    rep.figure(loss_figure(df, summary), "loss", "Dashed lines: phase switches. Loss in nats per byte.")
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    axes[0].plot(df["step"], df["lr"])
    axes[0].set(xlabel="step", ylabel="learning rate")
    for ax, col, label in ((axes[1], "max_attn_logit", "max attention logit"),
                           (axes[2], "logit_norm", "output-logit norm")):
        ev = df.dropna(subset=[col])
        ax.plot(ev["step"], ev[col], marker=".")
        ax.set(xlabel="step", ylabel=label)
    for ax in axes:
        _mark_phases(ax, summary["phases"])
    fig.tight_layout()
    rep.heading("Schedule and instability signals")
    rep.figure(fig, "lr_and_signals", "Attention-logit growth and output-logit divergence are the two "
                                      "instabilities Wortsman et al. (2023) reproduce at small scale.")


def sweep_sections(rep: Report, plan: list[tuple[str, dict]], results: dict, errors: dict, metrics: dict,
                   curves: dict[str, pd.DataFrame]) -> None:
    """A sweep: one row per run, the sweep-wide figures, every finished run's loss and LR curves."""
    rows = []
    for name, cfg in plan:
        r = results.get(name) or {}
        rows.append({"run": name, "schedule": r.get("schedule", cfg["phases"][-1]["schedule"]),
                     "final loss": r.get(f"final_val_loss_{r.get('primary_domain')}", ""),
                     "tokens/s": r.get("tokens_per_s", ""), "error": errors.get(name, "")})
    rep.table(rows)
    rep.heading("Figures (metrics.json; per-run figures are the keys '<figure>.<run>')")
    rep.table([{"figure": k, "value": v} for k, v in metrics.items() if "." not in k])
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
    for name, df in curves.items():
        ev = df.dropna(subset=["loss"])
        ax0.plot(ev["step"], ev["loss"], marker=".", label=name)
        ax1.plot(df["step"], df["lr"], label=name)
    ax0.set(xlabel="step", ylabel="val loss (primary domain)")
    ax1.set(xlabel="step", ylabel="learning rate")
    ax0.legend(fontsize=8)
    fig.tight_layout()
    rep.figure(fig, "sweep", "Each run's val loss on its phase's primary domain, and its schedule.")
    rep.text("Per-run folders: runs/<name>/ (curves.csv, metrics.json, report.html, config.toml, checkpoint.pt). "
             "curves.csv here holds every run: read one with --lr-col '<run>/lr' --loss-col '<run>/loss'.")
