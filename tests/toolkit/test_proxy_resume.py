"""Kill/resume: a run SIGKILLed mid-way and started again writes the same curve, bitwise on CPU;
and the torchrun/DDP path in a single-process gloo world gives the same curve as a plain run."""
from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch

from cltk.proxy import CKPT, load_config, train

ROOT = Path(__file__).resolve().parents[2]
TIMING = {"tokens_per_s"}  # wall-clock: the one column that may differ



def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(f)]


def _train_cmd(cfg: Path, out: Path) -> list[str]:
    # the bare loop's entry point: the same train() as `cltk proxy train`, without importing every command
    return [sys.executable, "-m", "cltk.proxy.train", str(cfg), str(out)]


def test_sigkill_then_resume_gives_the_same_curve(write_tiny, tmp_path, proxy_cache):
    cfg = write_tiny(tmp_path / "c.toml", proxy_cache, n1=60, n2=60)
    train(load_config(cfg), tmp_path / "ref")

    out = tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(cfg, out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / CKPT).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # kill between checkpoints, so the resumed run recomputes steps it had done
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    ck = torch.load(out / CKPT, weights_only=True)
    assert 0 < ck["step"] < 120

    done = subprocess.run(_train_cmd(cfg, out), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["resumed_from_step"] == ck["step"]
    assert _rows(out / "curves.csv") == _rows(tmp_path / "ref" / "curves.csv")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_gloo_world_of_one_matches_a_plain_run(write_tiny, tmp_path, proxy_cache):
    cfg = write_tiny(tmp_path / "c.toml", proxy_cache, n1=10, n2=10)
    train(load_config(cfg), tmp_path / "ref")
    env = {**os.environ, "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(_free_port())}
    done = subprocess.run(_train_cmd(cfg, tmp_path / "ddp"), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert _rows(tmp_path / "ddp" / "curves.csv") == _rows(tmp_path / "ref" / "curves.csv")
