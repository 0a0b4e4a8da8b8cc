import json

import numpy as np
import pytest
from click.testing import CliRunner

from cltk.analytics.curve_files import read_curve
from cltk.cli.main import cli
from cltk.errors import InputError


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_aliases_and_lr_reconstruction(tmp_path):
    p = write(tmp_path, "run.csv", "iter,learning_rate,train/loss\n100,1.0,3.0\n200,0.5,2.5\n300,0.0,2.2\n")
    c = read_curve(p)
    assert c.name == "run" and list(c.steps) == [100, 200, 300]
    assert c.lrs[0] == 0.0 and c.lrs[50] == pytest.approx(0.5)  # warmup from 0 to the first logged LR
    assert c.lrs[150] == pytest.approx(0.75) and c.lrs[300] == 0.0  # linear interpolation
    c2 = read_curve(p, warmup_steps=20)
    assert c2.lrs[10] == pytest.approx(0.5) and np.all(c2.lrs[20:100] == 1.0)


def test_step_schedule_is_not_smeared(tmp_path):
    p = write(tmp_path, "two.csv", "step,lr,loss\n100,1,3\n200,1,2.9\n300,0.1,2.5\n400,0.1,2.4\n")
    c = read_curve(p)
    assert np.all(c.lrs[100:300] == 1.0) and c.lrs[300] == 0.1


def test_wandb_sparse_columns_and_duplicates(tmp_path):
    # lr and loss on different rows; step 200 re-logged after a resume: the last value wins
    text = "_step,train/lr,val/loss\n100,1.0,\n100,,3.0\n200,0.8,2.8\n300,0.6,2.6\n200,0.8,2.7\n300,,2.5\n"
    c = read_curve(write(tmp_path, "wandb.csv", text))
    assert list(c.steps) == [100, 200, 300] and list(c.loss) == [3.0, 2.7, 2.5]
    assert c.lrs[300] == pytest.approx(0.6)


def test_jsonl(tmp_path):
    lines = [{"step": 10, "lr": 0.1, "loss": 2.0}, {"step": 20, "lr": 0.1}, {"step": 20, "loss": 1.9},
             {"step": 30, "lr": 0.05, "loss": 1.8}]
    p = write(tmp_path, "log.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    c = read_curve(p)
    assert list(c.steps) == [10, 20, 30] and c.loss[1] == 1.9 and c.lrs[25] == pytest.approx(0.075)


def test_tensorboard_events(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(tmp_path / "tb"))
    for s in range(50, 501, 50):
        w.add_scalar("train/lr", 1e-3 * (1 - s / 1000), s)
        w.add_scalar("train/loss", 3.0 / (1 + s / 100), s)
    w.close()
    c = read_curve(tmp_path / "tb")
    assert c.name == "tb" and len(c.steps) == 10 and c.steps[0] == 50
    assert c.loss[-1] == pytest.approx(0.5, rel=1e-6) and c.lrs[500] == pytest.approx(5e-4, rel=1e-6)


def test_schedule_spec_instead_of_lr(tmp_path):
    from cltk.schedules import parse

    c = read_curve(write(tmp_path, "a.csv", "step,loss\n10,3\n20,2.5\n"), schedule=parse("constant:lr=0.1,steps=100"))
    assert np.all(c.lrs == 0.1)


BAD = [
    ("empty.csv", "", "empty"),
    ("header.csv", "step,lr,loss\n", "no data rows"),
    ("noloss.csv", "step,lr,acc\n1,0.1,0.5\n", "no loss column"),
    ("nolr.csv", "step,loss\n1,2.0\n", "no learning-rate column"),
    # a NaN loss is a logged divergence or skipped step: its row is skipped with a counted warning
    # (tests/analytics/test_log_formats.py); a NaN learning rate is still an error
    ("nanlr.csv", "step,lr,loss\n1,0.1,2.0\n2,nan,1.9\n", "line 3: column 'lr' is nan"),
    ("text.csv", "step,lr,loss\n1,0.1,2.0\n2,0.1,abc\n", "line 3: column 'loss' holds 'abc'"),
    ("dec.csv", "step,lr,loss\n1,0.1,2.0\n5,0.1,1.9\n3,0.1,1.8\n", "line 4: step 3 is lower than step 5"),
    ("neg.csv", "step,lr,loss\n1,0.1,2.0\n2,0.1,-1\n", "line 3: loss -1 is not positive"),
    ("zero.csv", "step,lr,loss\n1,0.1,0\n", "line 2: loss 0 is not positive"),
    ("neglr.csv", "step,lr,loss\n1,0.1,2.0\n2,-0.1,1.9\n", "line 3: learning rate -0.1 is negative"),
    ("frac.csv", "step,lr,loss\n1.5,0.1,2.0\n", "line 2: step 1.5 is not a non-negative integer"),
    ("bad.jsonl", '{"step": 1, "lr": 0.1, "loss": 2}\n{"step": 2, \n', "line 2: not valid JSON"),
    ("run.pkl", "x", "pickle files are not read"),
]


@pytest.mark.parametrize("name,text,msg", BAD)
def test_bad_input_one_line_error_exit_2(tmp_path, name, text, msg):
    p = write(tmp_path, name, text)
    with pytest.raises(InputError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        read_curve(p)
    before = p.read_bytes()
    ok = write(tmp_path, "ok.csv", "step,lr,loss\n10,0.1,3\n20,0.1,2.9\n30,0.1,2.8\n40,0.1,2.7\n")
    r = CliRunner().invoke(cli, ["fit-scaling", str(ok), str(p), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(p) in lines[0]
    assert "Traceback" not in r.output
    assert p.read_bytes() == before  # input never modified


def test_missing_file_and_bad_options(tmp_path):
    r = CliRunner().invoke(cli, ["fit-scaling", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no such file" in r.output
    ok = write(tmp_path, "ok.csv", "step,lr,loss\n10,0.1,3\n20,0.1,2.9\n")
    r = CliRunner().invoke(cli, ["fit-scaling", str(ok), "--law", "nope", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["fit-scaling", str(ok), "--schedule", f"{ok}=cosine:peak=1", "--out",
                                 str(tmp_path / "o")])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "cosine" in r.output
    r = CliRunner().invoke(cli, ["fit-scaling", str(ok), "--loss-col", "val", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no column 'val'" in r.output


def test_clashing_names_get_as_few_folders_as_tell_them_apart():
    from cltk.analytics.curve_files import unique_names
    from cltk.curves import Curve

    def mk(name, src):
        return Curve(name, np.array([1, 2]), np.array([2.0, 1.0]), np.array([0, 1e-3, 1e-3]), {"source": src})

    cs = unique_names([mk("version_0", "light/lightning_logs/version_0/metrics.csv"),
                       mk("version_0", "exp2/lightning_logs/version_0/metrics.csv"),
                       mk("metrics", "a/metrics.csv"), mk("metrics", "b/metrics.csv"), mk("x", "x.csv")])
    # the run folder that names a Lightning run is not repeated ("version_0/version_0" told nothing)
    assert [c.name for c in cs] == ["light/lightning_logs/version_0", "exp2/lightning_logs/version_0",
                                    "a/metrics", "b/metrics", "x"]
