"""Log adapters (issue 15): the same runs written as each tool writes them are read to exactly the
curves of the plain step,lr,loss CSV holding the same points in cltk's convention (loss after s
updates at step s, the LR of update u at step u), and fitted/predicted with the same numbers.
Lightning, Lightning Fabric (litgpt's logger) and TensorBoard files are written by the libraries
themselves; the others follow the tool's writer, documented in each adapter."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cltk.analytics.curve_files import read_curve, read_curves, read_runs
from cltk.cli.main import cli
from cltk.curves import Curve
from cltk.errors import InputError
from cltk.laws import get_law
from cltk.schedules import parse

N = 400
SPECS = {"cosine": "cosine:peak=1e-3,steps=400,final=1e-4,warmup=40",
         "wsd": "wsd:peak=1e-3,steps=400,decay=0.25,warmup=40",
         "constant": "warmup:peak=1e-3,steps=40 + constant:lr=1e-3,steps=360"}
SCHED = parse("constant:lr=1e-3,steps=1000")
TRUTH = {"L0": 3.0, "A": 0.5, "B": 0.3, "alpha": 0.5, "C": 800.0, "beta": 0.8, "rho": 0.7, "delta": 0.1}


def _f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)  # exact through TensorBoard and torch


def truth(name):
    """(LR of update u for u = 0..N, loss after s updates for s = 0..N, validation loss), float32-exact."""
    lr = _f32(parse(SPECS[name]).render(N + 1))
    law = get_law("poweranneal", eta_ref=1e-3, s_ref=0.3)
    law.params_ = dict(TRUTH)
    loss = np.r_[11.0, law.predict(Curve(name, np.arange(1, N + 1), np.ones(N), lr))]
    return lr, _f32(loss), _f32(loss + 0.05)


def plain(path, loss_pts, lr_pts):
    """The plain CSV of {step: loss} and {update: lr} (cltk's convention, sparse rows)."""
    steps = sorted(set(loss_pts) | set(lr_pts))
    pd.DataFrame({"step": steps, "lr": [lr_pts.get(s) for s in steps],
                  "loss": [loss_pts.get(s) for s in steps]}).to_csv(path, index=False)
    return read_curve(path)


def same(c, ref):
    np.testing.assert_array_equal(c.steps, ref.steps)
    np.testing.assert_array_equal(c.loss, ref.loss)
    np.testing.assert_array_equal(c.lrs, ref.lrs)


EVERY = range(10, N + 1, 10)


def test_wandb_panel_exports_one_curve_per_run_lr_from_a_second_export(tmp_path):
    # the loss panel (with its __MIN/__MAX band) and the LR panel, each holding all three runs
    loss_cols, lr_cols = {"Step": list(EVERY)}, {"Step": list(range(1, N + 1))}
    for name in SPECS:
        lr, loss, _ = truth(name)
        for suffix in ("", "__MIN", "__MAX"):
            loss_cols[f"{name} - train/loss{suffix}"] = loss[list(EVERY)]
        lr_cols[f"{name} - train/lr"] = lr[1:]
    pd.DataFrame(loss_cols).to_csv(tmp_path / "loss.csv", index=False, quoting=1)  # W&B quotes every field
    pd.DataFrame(lr_cols).to_csv(tmp_path / "lr.csv", index=False, quoting=1)
    per_file = read_runs([tmp_path / "loss.csv", tmp_path / "lr.csv"])
    assert [c.name for c in per_file[0]] == list(SPECS) and per_file[1] == []
    for c in per_file[0]:
        lr, loss, _ = truth(c.name)
        same(c, plain(tmp_path / f"{c.name}.csv", {s: loss[s] for s in EVERY}, {u: lr[u] for u in range(1, N + 1)}))
        assert c.meta["format"] == "wandb-export" and c.meta["run"] == c.name
        assert c.meta["columns"] == {"step": "Step", "loss": f"{c.name} - train/loss", "lr": f"{c.name} - train/lr"}
    with pytest.raises(InputError, match=r"holds 3 runs \(cosine, wsd, constant\): pick one with run=NAME"):
        read_curve(tmp_path / "loss.csv", schedule=SCHED)
    assert read_curve(tmp_path / "loss.csv", run="wsd", schedule=SCHED).name == "wsd"
    with pytest.raises(InputError, match=r"run .cosine.: no learning-rate column .*the export of its LR panel"):
        read_runs([tmp_path / "loss.csv"])
    # a column the user names that no run holds is named back, not replaced by the aliases looked for
    with pytest.raises(InputError, match=r"run .cosine.: no column 'nope' \(asked for as the loss column\)"):
        read_runs([tmp_path / "loss.csv", tmp_path / "lr.csv"], loss_col="nope")
    # the command: the three runs fitted from the two exports, as from the three plain CSVs
    out = {}
    for key, args in {"export": ["loss.csv", "lr.csv"], "plain": [f"{n}.csv" for n in SPECS]}.items():
        r = CliRunner().invoke(cli, ["fit-scaling", *[str(tmp_path / a) for a in args], "--intervals", "0",
                                     "--out", str(tmp_path / key)])
        assert r.exit_code == 0, r.output
        out[key] = json.loads((tmp_path / key / "metrics.json").read_text())
        if key == "export":
            assert f'read {tmp_path / "loss.csv"} [wandb-export] run "cosine": step=Step loss=cosine - train/loss ' \
                f'(train) lr={tmp_path / "lr.csv"}: cosine - train/lr' in r.output.splitlines()
    ex = {c["name"]: c for c in out["export"]["curves"]}
    for c in out["plain"]["curves"]:
        assert ex[c["name"]]["final_loss_pred"] == pytest.approx(c["final_loss_pred"], rel=1e-9)
        assert ex[c["name"]]["pred_e"] == pytest.approx(c["pred_e"], rel=1e-9)
    assert out["export"]["params"] == pytest.approx(out["plain"]["params"], rel=1e-9)


def test_wandb_history_of_an_hf_run_reads_the_global_step_not_step(tmp_path):
    lr, loss, val = truth("cosine")
    rows = []
    for s in EVERY:  # HF logs train and eval records separately: _step counts the log calls
        rows.append({"train/global_step": s, "train/loss": loss[s], "train/learning_rate": lr[s], "train/epoch": s / N})
        if s % 100 == 0:
            rows.append({"train/global_step": s, "eval/loss": val[s]})
    df = pd.DataFrame(rows)
    df.insert(0, "_step", range(len(df)))
    df["_runtime"], df["_timestamp"] = np.arange(len(df)) * 1.5, 1.7e9 + np.arange(len(df))
    df.to_csv(tmp_path / "history.csv", index=False)
    c = read_curve(tmp_path / "history.csv")
    assert c.meta["format"] == "wandb-history" and c.meta["columns"]["step"] == "train/global_step"
    same(c, plain(tmp_path / "p.csv", {s: loss[s] for s in EVERY}, {s: lr[s] for s in EVERY}))
    v = read_curve(tmp_path / "history.csv", loss="val")
    assert v.meta["columns"]["loss"] == "eval/loss" and list(v.steps) == [100, 200, 300, 400]


def test_hf_trainer_state_json(tmp_path):
    lr, loss, val = truth("wsd")
    history = [{"epoch": s / N, "grad_norm": 0.5, "learning_rate": lr[s], "loss": loss[s], "step": s} for s in EVERY]
    history += [{"epoch": s / N, "eval_loss": val[s], "eval_runtime": 1.0, "step": s} for s in (200, 400)]
    history.append({"epoch": 1.0, "step": N, "total_flos": 1e15, "train_loss": 3.9, "train_runtime": 60.0})
    state = {"best_metric": None, "epoch": 1.0, "global_step": N, "log_history": history, "logging_steps": 10,
             "max_steps": N, "trial_name": None}
    (tmp_path / "out" / "checkpoint-400").mkdir(parents=True)
    p = tmp_path / "out" / "checkpoint-400" / "trainer_state.json"
    p.write_text(json.dumps(state, indent=2, sort_keys=True))  # as TrainerState.save_to_json writes it
    c = read_curve(p)
    assert c.name == "out" and c.meta["format"] == "hf-trainer-state"
    same(c, plain(tmp_path / "p.csv", {s: loss[s] for s in EVERY}, {s: lr[s] for s in EVERY}))
    assert list(read_curve(p, loss="val").loss) == [val[200], val[400]]


def _lightning_run(root, name, version, steps):
    """A real Lightning Trainer whose logged numbers are the truth's (CSVLogger + TensorBoardLogger
    + LearningRateMonitor, as users set them up)."""
    import torch
    from lightning.pytorch import LightningModule, Trainer
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    lr, loss, val = truth(name)

    class Model(LightningModule):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def training_step(self, batch, i):
            self.log("train_loss", float(loss[self.trainer.global_step]))  # the loss after global_step updates
            return (self.w * batch[0]).sum()

        def validation_step(self, batch, i):
            self.log("val_loss", float(val[self.trainer.global_step]))

        def configure_optimizers(self):
            opt = torch.optim.AdamW(self.parameters(), lr=1.0)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: lr[min(k + 1, N)])  # update k+1 uses lr[k+1]
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(N, 1)), batch_size=1)
    loggers = [CSVLogger(root, name="lightning_logs", version=version),
               TensorBoardLogger(root / "tb", name="lightning_logs", version=version)]
    Trainer(max_steps=steps, logger=loggers, callbacks=[LearningRateMonitor("step")], log_every_n_steps=10,
            val_check_interval=100, num_sanity_val_steps=0, limit_val_batches=1, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False, accelerator="cpu").fit(Model(), data, data)


def test_lightning_csvlogger_and_tensorboard_written_by_lightning(tmp_path):
    pytest.importorskip("lightning")
    steps = {"cosine": 200, "wsd": 60}  # kept short: Lightning costs ~40 ms a step here
    for version, name in enumerate(steps):
        _lightning_run(tmp_path, name, version, steps[name])
    files = [tmp_path / "lightning_logs" / f"version_{v}" / "metrics.csv" for v in (0, 1)]
    curves = read_curves(files)
    assert [c.name for c in curves] == ["version_0", "version_1"]
    for c, name in zip(curves, steps):
        lr, loss, val = truth(name)
        assert c.meta["format"] == "lightning" and c.meta["columns"]["lr"] == "lr-AdamW"
        # rows at steps 9, 19, ...: the loss after 9 updates, the LR of update 10
        every = range(10, steps[name] + 1, 10)
        ref = plain(tmp_path / f"{name}.csv", {s - 1: loss[s - 1] for s in every}, {s: lr[s] for s in every})
        same(c, ref)
        same(read_curve(tmp_path / "tb" / "lightning_logs" / c.name), ref)
    v, val = read_curve(files[0], loss="val"), truth("cosine")[2]  # validation after update 100, logged at 99
    assert list(v.steps) == [100, 200] and list(v.loss) == list(val[[100, 200]])
    r = CliRunner().invoke(cli, ["fit-scaling", *map(str, files), "--intervals", "0", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "[lightning]: step=step loss=train_loss (train) lr=lr-AdamW" in r.output


def test_litgpt_metrics_csv_written_by_fabric_csvlogger(tmp_path):
    """litgpt's loop (pretrain.py): LR get_lr(iter_num) set, iter_num += 1, loss before the update,
    fabric.log_dict(metrics, step=iter_num - 1); no warmup here, so the step-0 row has LR > 0."""
    pytest.importorskip("lightning")
    from lightning.fabric.loggers import CSVLogger

    lr, loss, val = truth("constant")
    lr[1:41] = 1e-3  # no warmup: the first iteration's LR is the peak
    log = CSVLogger(tmp_path / "out" / "logs", name="csv", version=0)
    for it in range(1, N + 1):  # iter_num after the increment; update it uses lr[it]
        log.log_metrics({"loss": loss[it - 1], "iter": it, "step": it, "epoch": 0, "iter_time": 0.1,
                         "remaining_time": 1.0, "tokens": it * 512, "total_tokens": it * 512,
                         "learning_rate": lr[it]}, step=it - 1)
        if it % 100 == 0:
            log.log_metrics({"val_loss": val[it], "val_ppl": float(np.exp(val[it]))}, step=it - 1)
    log.finalize("success")
    p = tmp_path / "out" / "logs" / "csv" / "version_0" / "metrics.csv"
    c = read_curve(p)
    assert c.name == "out" and c.meta["format"] == "litgpt" and c.steps[0] == 0
    same(c, plain(tmp_path / "p.csv", {s: loss[s] for s in range(N)}, {u: lr[u] for u in range(1, N + 1)}))
    assert list(read_curve(p, loss="val").steps) == [100, 200, 300, 400]
    r = CliRunner().invoke(cli, ["fit-scaling", str(p), "--intervals", "0", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output  # the step-0 row (before any update) is left out of the fit


def test_olmo_core_wandb_history_and_torchtitan_tensorboard(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    lr, loss, val = truth("wsd")
    ref = plain(tmp_path / "p.csv", {s - 1: loss[s - 1] for s in EVERY}, {s: lr[s] for s in EVERY})
    # OLMo-core: step = global_step, incremented before the batch; loss computed before the update
    df = pd.DataFrame({"_step": list(EVERY), "train/CE loss": loss[[s - 1 for s in EVERY]],
                       "optim/LR (group 0)": lr[list(EVERY)], "train/PPL": 1.0, "_runtime": 1.0, "_timestamp": 1.7e9})
    df.to_csv(tmp_path / "olmo.csv", index=False)
    c = read_curve(tmp_path / "olmo.csv")
    assert c.meta["format"] == "olmo-core"
    same(c, ref)
    # torchtitan: MetricsProcessor -> TensorBoardLogger.add_scalar(tag, v, step) under <dump>/tb/<time>/
    w = SummaryWriter(str(tmp_path / "llama3_debug" / "tb" / "20250101-1200"), max_queue=1000)
    for s in EVERY:
        for tag, v in {"loss_metrics/global_avg_loss": loss[s - 1], "loss_metrics/global_max_loss": loss[s - 1] + 1,
                       "grad_norm": 1.0, "lr": lr[s], "mfu(%)": 30.0}.items():
            w.add_scalar(tag, v, s)
    w.close()
    t = read_curve(tmp_path / "llama3_debug" / "tb" / "20250101-1200")
    assert t.name == "llama3_debug" and t.meta["format"] == "torchtitan"
    same(t, ref)


def test_nanogpt_text_log_needs_the_schedule(tmp_path):
    lr, loss, val = truth("cosine")
    lines = ["Overriding config with config/train_shakespeare_char.py:", "tokens per iteration will be: 16,384"]
    for s in range(0, N + 1, 10):
        if s % 100 == 0:
            lines.append(f"step {s}: train loss {val[s] - 0.05:.4f}, val loss {val[s]:.4f}")
        lines.append(f"iter {s}: loss {float(loss[s])!r}, time 35.12ms, mfu 3.21%")
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="nanoGPT text log holds no learning rate.*--schedule") as e:
        read_curve(p)
    assert "\n" not in str(e.value)
    sched = SCHED
    c = read_curve(p, schedule=sched)
    assert c.meta["format"] == "nanogpt" and c.name == "train"
    np.testing.assert_array_equal(c.steps, np.arange(0, N + 1, 10))
    np.testing.assert_array_equal(c.loss, loss[::10])
    assert list(read_curve(p, schedule=sched, loss="val").loss) == [round(v, 4) for v in val[::100]]


def test_nested_jsonl_nan_rows_and_gzip_by_content(tmp_path):
    lr, loss, _ = truth("wsd")
    recs = [{"step": s, "metrics": {"train": {"loss": loss[s]}, "lr": lr[s]}, "sys": {"gpu": 1}} for s in EVERY]
    recs[3]["metrics"]["train"]["loss"] = float("nan")  # json writes NaN: a logged divergence
    text = "\n".join(json.dumps(r) for r in recs) + "\n"
    ref = plain(tmp_path / "p.csv", {s: loss[s] for s in EVERY if s != 40}, {s: lr[s] for s in EVERY})
    for name, data in {"run.json": text.encode(), "run.jsonl.gz": gzip.compress(text.encode()),
                       "run.log": gzip.compress(text.encode())}.items():  # gzip found by its magic bytes
        (tmp_path / name).write_bytes(data)
        c = read_curve(tmp_path / name)
        same(c, ref)
        assert c.meta["columns"] == {"step": "step", "loss": "metrics/train/loss", "lr": "metrics/lr"}
        assert "1 row(s) of 'metrics/train/loss' hold NaN (first: line 4)" in c.meta["warnings"][0]
    csv = "step,lr,loss\n" + "".join(f"{s},{float(lr[s])!r},{'nan' if s == 40 else repr(float(loss[s]))}\n"
                                      for s in EVERY)
    (tmp_path / "nan.csv").write_text(csv)
    same(read_curve(tmp_path / "nan.csv"), ref)
    (tmp_path / "bomb.csv.gz").write_bytes(gzip.compress(b"step,lr,loss\n1,0.1,2\n")[:-12])
    with pytest.raises(InputError, match="gzip stream is cut off"):
        read_curve(tmp_path / "bomb.csv.gz")


def test_train_loss_preferred_and_a_val_only_log_says_so(tmp_path):
    (tmp_path / "a.csv").write_text("step,lr,val_loss,train_loss\n10,0.1,3.0,2.9\n20,0.1,2.8,2.7\n")
    assert read_curve(tmp_path / "a.csv").meta["columns"]["loss"] == "train_loss"
    assert read_curve(tmp_path / "a.csv", loss="val").meta["columns"]["loss"] == "val_loss"
    (tmp_path / "b.csv").write_text("step,lr,val_loss\n10,0.1,3.0\n20,0.1,2.8\n")
    c = read_curve(tmp_path / "b.csv")
    assert c.meta["loss_kind"] == "val" and "validation loss 'val_loss' was read" in c.meta["warnings"][0]
