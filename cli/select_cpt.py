"""``cltk select-cpt``: choose the re-warm peak, re-warm length and replay fraction of continual
pre-training with two fitted CPT laws (old and new domain, e.g. from `cltk validate`)."""
from __future__ import annotations

from pathlib import Path

import click

from cltk.cli.options import FiniteFloat, NumberList, OutDir, ScheduleSpec
from cltk.errors import InputError


@click.command("select-cpt")
@click.argument("old_law", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new_law", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pretrain", type=ScheduleSpec(), required=True, help="Pre-training schedule spec (with steps=...).")
@click.option("--steps", type=click.IntRange(min=2), required=True, help="Continual pre-training steps.")
@click.option("--peaks", type=NumberList(float, min=0, min_open=True), required=True,
              help="Comma-separated re-warm peak LRs to consider.")
@click.option("--warmups", type=NumberList(int, min=0), default="0", show_default=True,
              help="Comma-separated re-warm lengths (steps).")
@click.option("--replays", type=NumberList(float, min=0, max=1, max_open=True), default="0", show_default=True,
              help="Comma-separated replay fractions in [0, 1) (1 would train on old data only).")
@click.option("--final-ratio", type=FiniteFloat(min=0, max=1), default=0.1, show_default=True,
              help="Decay to this fraction of peak.")
@click.option("--weight-old", type=FiniteFloat(min=0, max=1), default=0.5, show_default=True,
              help="Objective: weight_old * L_old + (1 - weight_old) * L_new at the end.")
@click.option("--out", "out_dir", type=OutDir(), required=True,
              help="Output directory (metrics.json, candidates.csv, curves.csv, PNG, report.html).")
def select_cpt(old_law, new_law, pretrain, steps, peaks, warmups, replays, final_ratio, weight_old, out_dir):
    """Choose a continual-pre-training setting with CPT laws OLD_LAW and NEW_LAW (cpt_law_*.json)."""
    if pretrain.steps is None:
        raise click.BadParameter("the pre-training schedule needs a length (steps=...)", param_hint="--pretrain")
    if max(warmups) >= steps:
        raise click.BadParameter(f"re-warm lengths must be shorter than --steps {steps}", param_hint="--warmups")
    from cltk.analytics.result import write_result
    from cltk.analytics.select_cpt.job import run_select_cpt
    from cltk.laws import read_law

    laws = {"old": read_law(old_law), "new": read_law(new_law)}
    for (dom, law), path in zip(laws.items(), (old_law, new_law)):
        if law.name != "cpt" or getattr(law, "domain", None) != dom:
            what = f"the CPT law of the {law.domain} domain" if law.name == "cpt" else f"a {law.name} law"
            raise InputError(f"{path}: holds {what}, not the CPT law of the {dom} domain "
                             f"(cpt_law_{dom}.json of `cltk validate`)")
    result = run_select_cpt(laws["old"], laws["new"], pretrain=pretrain, steps=steps, peaks=peaks,
                            warmups=warmups, replays=replays, final_ratio=final_ratio, weight_old=weight_old)
    path = write_result(result, out_dir, inputs=[old_law, new_law])
    sel = result.details["selection"]
    click.echo(f"chosen: peak {sel.peak:g}, warmup {sel.warmup}, replay {sel.replay:g}  "
               f"(predicted old {sel.old_loss:.4f}, new {sel.new_loss:.4f}, score {sel.score:.4f})")
    click.echo(f"{len(sel.candidates)} candidates; wrote {path}")
