"""Train the small-transformer proxy through two phases (prose, then code with 5% replay) in a few
seconds: the shipped CPU config, shrunk, with its token cache and run folder in a temporary directory."""
import tempfile
from pathlib import Path

import torch

from cltk import configs
from cltk.proxy import GPT, ModelConfig, load_config, train

with tempfile.TemporaryDirectory() as tmp:
    cfg = load_config(configs.path("proxy/tiny_cpu.toml"), [
        "phases.1.replay=0.05", "train.threads=1", "device=cpu",
        f"data.cache_dir={tmp}/cache", "data.stdlib_fraction=0.02",   # 2% of the stdlib: ~1 s to tokenise
        "model.d_model=32", "model.n_layer=1", "model.n_head=2", "model.seq_len=32", "train.eval_every=10",
        "phases.0.steps=30", "phases.0.schedule=cosine:peak=3e-3,steps=30,final=3e-4,warmup=5",
        "phases.1.steps=30", "phases.1.schedule=rewarm:start=3e-4,peak=3e-3,warmup=5,steps=30,final=3e-4"])
    summary = train(cfg, f"{tmp}/run")  # toolkit only: curves.csv, config.toml, env.json, checkpoint.pt
    print(sorted(p.name for p in Path(tmp, "run").iterdir()))
for row in summary["rows"]:             # one row per step; val losses on the eval rows
    if row.get("val_loss_prose") is not None:
        print(f"step {row['step']:2d}  lr {row['lr']:.2e}  prose {row['val_loss_prose']:.3f}  "
              f"code {row['val_loss_code']:.3f}")
# `cltk proxy train` also writes metrics.json and report.html (see docs/proxy.md)

model = GPT(ModelConfig(d_model=128, n_layer=4, n_head=4, qk_norm=True))
idx = torch.randint(0, 256, (2, 64))                                 # byte-level tokens
logits, loss, parts = model(idx, idx.roll(-1, 1), z_loss=1e-4, stats=True)
print(logits.shape, loss.item(), sorted(parts))                      # parts: ce, max_attn_logit, logit_norm
