"""``cltk select-cpt``: choose the re-warm peak, re-warm length and replay fraction of continual
pre-training with two fitted CPT laws (old and new domain, e.g. from `cltk validate`)."""
from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from analytics.errors import InputError
from analytics.io import atomic_write_frame, atomic_write_json
from cli.options import number_list
from toolkit.laws import load_law
from toolkit.schedules import parse
from toolkit.selection import select_cpt


def _law(path: Path):
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return load_law(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: {e}") from None


@click.command("select-cpt")
@click.argument("old_law", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new_law", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pretrain", required=True, help="Pre-training schedule spec (with steps=...).")
@click.option("--steps", type=click.IntRange(min=2), required=True, help="Continual pre-training steps.")
@click.option("--peaks", required=True, help="Comma-separated re-warm peak LRs to consider.")
@click.option("--warmups", default="0", show_default=True, help="Comma-separated re-warm lengths (steps).")
@click.option("--replays", default="0", show_default=True, help="Comma-separated replay fractions in [0, 1].")
@click.option("--final-ratio", type=float, default=0.1, show_default=True, help="Decay to this fraction of peak.")
@click.option("--weight-old", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Objective: weight_old * L_old + (1 - weight_old) * L_new at the end.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def select_cpt_cmd(old_law, new_law, pretrain, steps, peaks, warmups, replays, final_ratio, weight_old, out_dir):
    """Choose a continual-pre-training setting with CPT laws OLD_LAW and NEW_LAW (cpt_law_*.json)."""
    sel = select_cpt(_law(old_law), _law(new_law), parse(pretrain), steps, number_list(peaks, "--peaks"),
                     number_list(warmups, "--warmups", int), number_list(replays, "--replays"),
                     final_ratio, weight_old)
    metrics = {"selected_peak": sel.peak, "selected_warmup": sel.warmup, "selected_replay": sel.replay,
               "selected_spec": sel.spec, "predicted_old_loss": sel.old_loss, "predicted_new_loss": sel.new_loss,
               "predicted_score": sel.score, "weight_old": weight_old, "n_candidates": len(sel.candidates)}
    atomic_write_json(out_dir / "metrics.json", metrics)
    atomic_write_frame(out_dir / "candidates.csv", pd.DataFrame(sel.candidates))
    click.echo(f"chosen: peak {sel.peak:g}, warmup {sel.warmup}, replay {sel.replay:g}  "
               f"(predicted old {sel.old_loss:.4f}, new {sel.new_loss:.4f}, score {sel.score:.4f})")
    click.echo(f"{len(sel.candidates)} candidates; wrote {out_dir / 'metrics.json'}")
