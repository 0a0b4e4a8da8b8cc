"""Unit tests of the proxy's model, data and config (no training runs)."""
from __future__ import annotations

import ast

import numpy as np
import pytest
import torch

from cltk.proxy import GPT, ConfigError, DataError, ModelConfig, apply_overrides, dump_toml, resolve
from cltk.proxy import data as D
from cltk.proxy.config import phase_weights
from cltk.proxy.model import apply_rope, rope_tables

torch.set_num_threads(1)
SMALL = ModelConfig(seq_len=16, d_model=32, n_layer=2, n_head=4)



def test_model_is_causal_and_small():
    torch.manual_seed(0)
    m = GPT(SMALL).eval()
    assert m.num_params() < 1_000_000
    x = torch.randint(0, 256, (2, 16))
    y = x.clone()
    y[:, 10:] = (y[:, 10:] + 1) % 256  # change only the future
    with torch.no_grad():
        a, _, _ = m(x)
        b, _, _ = m(y)
    assert torch.equal(a[:, :10], b[:, :10]) and not torch.allclose(a[:, 10:], b[:, 10:])


def test_rope_scores_depend_only_on_offset():
    cos, sin = rope_tables(32, 8, 10000.0)
    q, k = torch.randn(8), torch.randn(8)

    def score(i, j):
        qi = apply_rope(q.view(1, 1, 1, 8).expand(1, 1, 32, 8), cos, sin)[0, 0, i]
        kj = apply_rope(k.view(1, 1, 1, 8).expand(1, 1, 32, 8), cos, sin)[0, 0, j]
        return float(qi @ kj)

    assert score(5, 2) == pytest.approx(score(20, 17), rel=1e-5)
    assert score(5, 2) != pytest.approx(score(5, 3), rel=1e-3)


def test_fused_cpu_rope_matches_the_real_valued_form(monkeypatch):
    """The CPU float32 path (_RotaryQKV, a hand-written backward) against autograd's real-valued RoPE."""
    torch.manual_seed(0)
    m = GPT(ModelConfig(seq_len=16, d_model=32, n_layer=2, n_head=4, qk_norm=True))
    x = torch.randint(0, 256, (2, 17))

    def loss_and_grads():
        m.zero_grad()
        _, loss, _ = m(x[:, :-1], x[:, 1:], z_loss=1e-3)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in m.parameters()]

    fused, g_fused = loss_and_grads()
    assert isinstance(m._rope(m.wte(x)), torch.Tensor)  # the fused path was the one taken
    monkeypatch.setattr(GPT, "_rope", lambda self, _: (self.rope_cos, self.rope_sin))
    real, g_real = loss_and_grads()
    assert torch.allclose(fused, real, rtol=1e-6)
    for a, b in zip(g_fused, g_real):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)


def test_z_loss_qk_norm_tied_embeddings_and_stats():
    torch.manual_seed(0)
    x = torch.randint(0, 256, (2, 17))
    m = GPT(SMALL)
    logits, ce, _ = m(x[:, :-1], x[:, 1:])
    _, with_z, _ = m(x[:, :-1], x[:, 1:], z_loss=1e-2)
    lse = torch.logsumexp(logits, -1)
    assert float((with_z - ce).detach()) == pytest.approx(1e-2 * float(lse.detach().pow(2).mean()), rel=1e-4)
    assert float(ce.detach()) == pytest.approx(float(torch.nn.functional.cross_entropy(logits.detach().reshape(-1, 256),
                                                                                 x[:, 1:].reshape(-1))), rel=1e-5)
    assert m.lm_head.weight is m.wte.weight
    untied = GPT(ModelConfig(**{**SMALL.__dict__, "tie_embeddings": False, "qk_norm": True}))
    assert untied.lm_head.weight is not untied.wte.weight and untied.blocks[0].attn.q_norm is not None
    assert untied.num_params() == m.num_params() + 256 * 32 + 2 * 2 * 8
    _, _, st = m(x[:, :-1], stats=True)
    assert st["max_attn_logit"] > 0 and st["logit_norm"] > 0


def test_bad_model_config_is_reported():
    assert ModelConfig(d_model=30, n_head=4).check()[0].startswith("model.d_model=30 is not divisible")
    assert "even" in ModelConfig(d_model=12, n_head=4).check()[0]


SRC = b'''"""Module doc."""
import os


def only():
    """Only a docstring."""


class K:
    """Class doc
    on two lines."""
    x = 1

    def f(self):  # comment kept
        """f doc"""
        return os.sep
'''


def test_strip_docstrings_keeps_valid_code():
    out = D.strip_docstrings(SRC)
    ast.parse(out)
    assert b"doc" not in out and b"# comment kept" in out and b"return os.sep" in out and b"..." in out


def test_stdlib_domains_split_by_file_and_cached(proxy_cache):
    prose = D.load_domain("prose", None, proxy_cache, stdlib_fraction=0.02)
    code = D.load_domain("code", None, proxy_cache, stdlib_fraction=0.02)
    assert len(prose.train) > 10_000 and len(code.train) > 50_000 and len(code.val) > 1000
    assert b"def " in bytes(code.train[:200_000]) and D.EOT in code.train[:200_000]
    (built,) = [p for p in proxy_cache.iterdir() if p.name.startswith("stdlib-")]
    mtime = (built / "meta.json").stat().st_mtime_ns
    D.load_domain("code", None, proxy_cache, stdlib_fraction=0.02)  # reused, not rebuilt
    assert (built / "meta.json").stat().st_mtime_ns == mtime
    with pytest.raises(DataError, match="unknown domain 'poetry'"):
        D.load_domain("poetry", None, proxy_cache)


def test_batches_are_a_pure_function_of_seed_and_step(proxy_cache):
    doms = {d: D.load_domain(d, None, proxy_cache, stdlib_fraction=0.02) for d in ("prose", "code")}
    w = {"code": 0.9, "prose": 0.1}
    a, ca = D.batch_at(doms, w, 7, 16, 32, seed=3)
    b, cb = D.batch_at(doms, w, 7, 16, 32, seed=3)
    c, _ = D.batch_at(doms, w, 8, 16, 32, seed=3)
    assert np.array_equal(a, b) and ca == cb and not np.array_equal(a, c) and a.shape == (16, 33)
    rows = [r for s in range(200) for r in D.row_domains(s, 16, {"code": 0.95, "prose": 0.05})]
    assert abs(rows.count("prose") / len(rows) - 0.05) < 0.002


def test_user_text_and_bin_domains(tmp_path):
    (tmp_path / "a.txt").write_text("hello world " * 500)
    dom = D.load_domain("mine", {"files": [str(tmp_path / "a.txt")]}, tmp_path / "cache", val_fraction=0.2)
    assert len(dom.val) == 1200 and bytes(dom.train[:5]) == b"hello"
    np.arange(5000, dtype=np.uint16).tofile(tmp_path / "t.bin")
    dom = D.load_domain("tok", {"bin": str(tmp_path / "t.bin"), "dtype": "uint16"}, tmp_path, val_fraction=0.1)
    assert dom.vocab_size == 5000 and len(dom.val) == 500 and int(dom.val[0]) == 4500
    with pytest.raises(DataError, match="no such file"):
        D.load_domain("mine", {"files": [str(tmp_path / "missing.txt")]}, tmp_path)
    with pytest.raises(DataError, match="dtype"):
        D.load_domain("tok", {"bin": str(tmp_path / "t.bin"), "dtype": "int7"}, tmp_path)


BASE = {"phases": [{"steps": 10, "mix": {"prose": 1.0}, "schedule": "constant:lr=1e-3"},
                   {"steps": 10, "mix": {"code": 1.0}, "schedule": "constant:lr=1e-3"}]}


def test_config_overrides_schema_and_toml_round_trip():
    cfg = apply_overrides(resolve(BASE), ["phases.1.replay=0.05", "model.qk_norm=true", "train.z_loss=0",
                                          "data.domains.mine.files=['x.txt']"])
    assert cfg["phases"][1]["replay"] == 0.05 and cfg["model"]["qk_norm"] is True
    assert phase_weights(cfg)[1] == pytest.approx({"code": 0.95, "prose": 0.05})
    import tomllib

    assert resolve(tomllib.loads(dump_toml(cfg))) == cfg
    for bad, msg in [("train.lr=1", "unknown config key 'train.lr'"), ("model.d_model=abc", "must be an integer"),
                     ("phases.5.steps=3", "not an index"), ("device=tpu", "must be one of"),
                     ("phases.0.replay=0.1", "first phase has no earlier data"), ("nonsense", "KEY=VALUE")]:
        with pytest.raises(ConfigError, match=msg):
            apply_overrides(resolve(BASE), [bad])
    with pytest.raises(ConfigError, match="unknown domain 'poetry'"):
        apply_overrides(resolve(BASE), ["phases.0.mix.poetry=1.0"])
