"""`cltk select-cpt` on CPT laws with known parameters: the choice, the files of the job contract,
and one-line errors for bad flags and law files."""
import json

import pandas as pd
from click.testing import CliRunner

from cltk.cli.main import cli
from cltk.laws import CPTLaw

TRUTH = {"L0": 2.0, "A": 0.8, "C1": 3.0, "C2": 3.0, "B": 0.3, "alpha": 0.4, "lam": 0.995, "E": 0.5, "beta": 0.7,
         "rho": 2.0}


def _laws(tmp_path):
    paths = []
    for dom in ("old", "new"):
        law = CPTLaw(domain=dom)
        law.params_ = dict(TRUTH)
        law.fit_info_ = {}
        paths.append(tmp_path / f"cpt_law_{dom}.json")
        paths[-1].write_text(law.to_json())
    return paths


def _run(*args):
    return CliRunner().invoke(cli, ["select-cpt", *map(str, args)])


def test_select_cpt_writes_the_job_contract(tmp_path):
    old, new = _laws(tmp_path)
    pretrain = "warmup:peak=1e-3,steps=100 + cosine:peak=1e-3,steps=2900,final=1e-4"  # a joined spec
    r = _run(old, new, "--pretrain", pretrain, "--steps", 2000, "--peaks", "3e-4,1e-3", "--warmups", "50,200",
             "--replays", "0,0.5", "--weight-old", 1.0, "--out", tmp_path / "sel")
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "sel" / "metrics.json").read_text())
    assert m["n_candidates"] == 8 and m["selected_replay"] == 0.5  # only the old domain counts
    html = (tmp_path / "sel" / "report.html").read_text()
    assert "<meta name='generator' content='cltk write_result'>" in html
    assert (tmp_path / "sel" / "selection.png").exists() and "data:image/png;base64" in html
    cands = pd.read_csv(tmp_path / "sel" / "candidates.csv")
    assert len(cands) == 8 and cands["score"].is_monotonic_increasing
    curve = pd.read_csv(tmp_path / "sel" / "curves.csv")
    assert len(curve) == 5000 and curve["lr"].iloc[0] == 0 and curve["lr"].max() <= 1e-3 + 1e-12


def test_select_cpt_bad_input_is_one_line_exit_2(tmp_path):
    old, new = _laws(tmp_path)
    base = ["--pretrain", "cosine:peak=1e-3,steps=300", "--steps", 200, "--out", tmp_path / "o"]
    for args, needle in [((old, new, "--peaks", "0", *base), "--peaks"),
                         ((old, new, "--peaks", "1e-3", "--replays", "1.5", *base), "--replays"),
                         ((old, new, "--peaks", "1e-3", "--warmups", "200", *base), "--warmups"),
                         ((old, new, "--peaks", "1e-3", "--final-ratio", "-1", *base), "--final-ratio"),
                         ((old, new, "--peaks", "1e-3", "--pretrain", "cosine:peak=1e-3", "--steps", 200,
                           "--out", tmp_path / "o"), "--pretrain"),
                         ((tmp_path / "missing.json", new, "--peaks", "1e-3", *base), "no such file"),
                         ((new, new, "--peaks", "1e-3", *base), "old domain")]:
        r = _run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert needle in r.output
    assert not (tmp_path / "o").exists()
