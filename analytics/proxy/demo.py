"""Demo of the proxy (seconds on a CPU): continual pre-training of a ~60k-parameter byte-level model
on prose then code, once without replay and once with 10% prose replay, same seed and data order.
Shows the loss falling on both domains, forgetting of the first domain with a stability gap after
the switch (De Lange et al. 2023), and how much replay reduces the forgetting (Ibrahim et al. 2024)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cltk.analytics.proxy_runs import train_folder
from cltk.analytics.report import plt
from cltk.analytics.result import Result, write_result
from cltk.proxy import resolve

N1, N2, REPLAY = 100, 100, 0.1
DEMO = {
    "name": "demo", "seed": 0, "device": "cpu",
    "model": {"seq_len": 64, "d_model": 48, "n_layer": 2, "n_head": 4},
    "data": {"stdlib_fraction": 0.05},  # 5% of the stdlib files: the cache builds in ~2 s
    # one thread: a tiny model gains nothing from more, and on a busy CPU extra threads cost a lot
    "train": {"batch_size": 16, "eval_every": 10, "eval_batches": 4, "ckpt_every": 200, "threads": 1},
    "phases": [
        {"name": "A-prose", "steps": N1, "mix": {"prose": 1.0},
         "schedule": f"cosine:peak=4e-3,steps={N1},final=4e-4,warmup=10"},
        {"name": "B-code", "steps": N2, "mix": {"code": 1.0}, "replay": 0.0,
         "schedule": f"rewarm:start=4e-4,peak=4e-3,warmup=10,steps={N2},final=4e-4"},
    ],
}


def demo_section(out_dir: Path) -> dict:
    """Train the two demo runs into ``out_dir/<run>``; write the comparison (metrics.json = the
    headline figures, report.html) into ``out_dir`` and return the figures."""
    out_dir = Path(out_dir)
    runs, curves = {}, {}
    for name, replay in (("no_replay", 0.0), ("replay", REPLAY)):
        cfg = {**DEMO, "phases": [dict(p) for p in DEMO["phases"]]}
        cfg["phases"][1]["replay"] = replay
        runs[name] = train_folder(resolve(cfg), out_dir / name, resume=False)
        curves[name] = pd.read_csv(out_dir / name / "curves.csv")
    a, b = runs["no_replay"], runs["replay"]
    figures = {
        "params": a["params"],
        "tokens_per_s": round(a["tokens_per_s"], 1),
        "val_loss_decrease_prose": round(a["val_loss_decrease_prose"], 4),
        "val_loss_decrease_code": round(a["val_loss_decrease_code"], 4),
        "forgetting_prose": round(a["forgetting_prose"], 4),
        "stability_gap_prose": round(a["stability_gap_prose"], 4),
        "forgetting_prose_replay": round(b["forgetting_prose"], 4),
        "replay_forgetting_reduction": round(a["forgetting_prose"] - b["forgetting_prose"], 4),
        "final_val_loss_code": round(a["final_val_loss_code"], 4),
        "final_val_loss_code_replay": round(b["final_val_loss_code"], 4),
    }
    result = Result("cltk proxy demo: continual pre-training, prose -> code", figures)
    rep = result.report
    rep.text(f"{a['params']:,}-parameter byte-level transformer; {N1} steps on prose (domain A), then {N2} "
             f"steps on code (domain B) with a re-warmed cosine schedule; the second run replays "
             f"{REPLAY:.0%} prose in each batch. Same seed, same data order.")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (name, df) in zip(axes, curves.items()):
        for d in ("prose", "code"):
            ev = df.dropna(subset=[f"val_loss_{d}"])
            ax.plot(ev["step"], ev[f"val_loss_{d}"], marker=".", label=d)
        ax.axvline(N1 - 0.5, color="0.6", ls="--")
        ax.set(title=name.replace("_", " "), xlabel="step", ylabel="val loss (nats/byte)")
        ax.legend()
    rep.figure(fig, "cpt", "Val loss per domain; the dashed line is the switch from prose to code.")
    write_result(result, out_dir)
    return figures


def demo_verdict(figures: dict) -> str:
    """The section in one sentence: learning on both domains, forgetting of the first domain after
    the switch (De Lange et al. 2023) and how much replay removes (Ibrahim et al. 2024)."""
    return (f"A {figures['params']:,}-parameter model lowers its validation loss by "
            f"{figures['val_loss_decrease_prose']:.3f} (prose) and {figures['val_loss_decrease_code']:.3f} (code) "
            f"nats/byte; switching to code changes its prose loss by {figures['forgetting_prose']:+.3f} (forgetting), "
            f"and by {figures['forgetting_prose_replay']:+.3f} with {REPLAY:.0%} prose replay.")


def demo_figure(figures: dict) -> str:
    """The section's own report: its first figure is the two runs' per-domain losses."""
    return "report.html"
