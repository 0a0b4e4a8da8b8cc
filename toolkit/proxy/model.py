"""The proxy model: a pre-LN decoder-only transformer in one file.

Pre-LN residual blocks (Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture",
Fig. 1b), rotary position embeddings (Su et al. 2021, RoFormer, Eq. 34), optional qk-layernorm
(Dehghani et al. 2023, Sec. 3.1; Wortsman et al. 2023, "Small-scale proxies for large-scale
Transformer training instabilities", Sec. 3.1.1) and an auxiliary z-loss (Chowdhery et al. 2022,
PaLM Sec. 5; Wortsman et al. 2023, Sec. 3.1.2). Sizes run from ~0.1M to ~100M parameters by config.

The two instability signals of Wortsman et al. (2023) are measured on request (``stats=True``):
the maximum attention logit (Sec. 3.1.1, attention-logit growth) and the output-logit norm
(Sec. 3.1.2, output-logit divergence). Training steps use fused attention and never pay for them.
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GPT", "ModelConfig"]


@dataclasses.dataclass
class ModelConfig:
    """Shape and switches of the model (the ``[model]`` table of a proxy config)."""

    vocab_size: int = 256
    seq_len: int = 128
    d_model: int = 128
    n_layer: int = 4
    n_head: int = 4
    mlp_ratio: float = 4.0
    qk_norm: bool = False
    tie_embeddings: bool = True
    rope_base: float = 10000.0
    init_std: float = 0.02

    def check(self) -> list[str]:
        """Problems with this configuration, one line each (empty when valid)."""
        errs = []
        for k in ("vocab_size", "seq_len", "d_model", "n_layer", "n_head"):
            if int(getattr(self, k)) < 1:
                errs.append(f"model.{k} must be >= 1, got {getattr(self, k)}")
        if self.n_head >= 1 and self.d_model % self.n_head:
            errs.append(f"model.d_model={self.d_model} is not divisible by model.n_head={self.n_head}")
        elif self.n_head >= 1 and (self.d_model // self.n_head) % 2:
            errs.append(f"model.d_model / model.n_head = {self.d_model // self.n_head} must be even (RoPE rotates pairs)")
        if self.mlp_ratio <= 0 or self.init_std <= 0 or self.rope_base <= 1:
            errs.append("model.mlp_ratio and model.init_std must be > 0 and model.rope_base > 1")
        return errs


def rope_tables(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the rotation angles m * base^(-2i/d) (Su et al. 2021, Eq. 15 and 34)."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.outer(torch.arange(seq_len, dtype=torch.float64), inv)
    return ang.cos().float(), ang.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate consecutive halves of the head dimension (Su et al. 2021, Eq. 34, in the half-split
    layout that needs no interleaving gathers). ``x``: (B, H, T, hd)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class Attention(nn.Module):
    """Causal multi-head self-attention with RoPE and optional qk-layernorm (Wortsman et al. 2023, Sec. 3.1.1)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head, self.hd = cfg.n_head, cfg.d_model // cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        # LayerNorm on q and k bounds the attention logits, the fix Wortsman et al. test
        self.q_norm = nn.LayerNorm(self.hd, bias=False) if cfg.qk_norm else None
        self.k_norm = nn.LayerNorm(self.hd, bias=False) if cfg.qk_norm else None

    def forward(self, x, cos, sin, stats: dict | None = None):
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, self.hd).permute(2, 0, 3, 1, 4).unbind(0)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = apply_rope(q, cos[:T], sin[:T]), apply_rope(k, cos[:T], sin[:T])
        if stats is not None:
            logits = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            top = logits.masked_fill(~causal, float("-inf")).amax()
            stats["max_attn_logit"] = max(stats.get("max_attn_logit", float("-inf")), float(top))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        hidden = int(cfg.mlp_ratio * cfg.d_model)
        self.up = nn.Linear(cfg.d_model, hidden, bias=False)
        self.down = nn.Linear(hidden, cfg.d_model, bias=False)

    def forward(self, x):
        return self.down(F.gelu(self.up(x), approximate="tanh"))


class Block(nn.Module):
    """Pre-LN residual block: x + attn(LN(x)), then x + mlp(LN(x)) (Xiong et al. 2020, Fig. 1b)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, bias=False)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, bias=False)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, stats=None):
        x = x + self.attn(self.ln1(x), cos, sin, stats)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Decoder-only language model; ``forward(idx, targets)`` -> (logits, loss, parts).

    ``loss`` = cross-entropy + ``z_loss`` * mean(log Z)^2 with log Z the log-partition of the output
    softmax (the z-loss of Chowdhery et al. 2022, Sec. 5, as Wortsman et al. 2023, Eq. 2, use it).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model, bias=False)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:  # Press & Wolf 2017: share input and output embeddings
            self.lm_head.weight = self.wte.weight
        cos, sin = rope_tables(cfg.seq_len, cfg.d_model // cfg.n_head, cfg.rope_base)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """N(0, init_std) weights; residual output projections scaled by 1/sqrt(2 n_layer)
        (Radford et al. 2019, GPT-2 Sec. 2.3) so the residual stream's variance does not grow with depth."""
        std = self.cfg.init_std
        for name, p in self.named_parameters():
            if p.dim() == 2:
                scale = 1 / math.sqrt(2 * self.cfg.n_layer) if name.endswith(("proj.weight", "down.weight")) else 1
                nn.init.normal_(p, 0.0, std * scale)
            else:
                nn.init.ones_(p)

    def num_params(self, embedding: bool = True) -> int:
        """Parameter count; ``embedding=False`` drops the input embedding table (Kaplan et al. 2020, Sec. 2.1)."""
        n = sum(p.numel() for p in self.parameters())
        return n if embedding else n - self.wte.weight.numel()

    def flops_per_token(self) -> float:
        """Training FLOPs per token, 6 N + 12 L d T (Chowdhery et al. 2022, PaLM App. B); N counts
        every matmul weight including the output head, not the embedding lookup."""
        c = self.cfg
        n_matmul = sum(p.numel() for n, p in self.named_parameters() if p.dim() == 2 and not n.startswith("wte"))
        if c.tie_embeddings:
            n_matmul += self.lm_head.weight.numel()
        return 6.0 * n_matmul + 12.0 * c.n_layer * c.d_model * c.seq_len

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, z_loss: float = 0.0,
                stats: bool = False):
        if idx.shape[1] > self.cfg.seq_len:
            raise ValueError(f"sequence length {idx.shape[1]} exceeds model.seq_len={self.cfg.seq_len}")
        st = {} if stats else None
        x = self.wte(idx)
        for block in self.blocks:
            x = block(x, self.rope_cos, self.rope_sin, st)
        logits = self.lm_head(self.ln_f(x)).float()
        parts = {}
        if st is not None:
            # Wortsman et al. 2023, Sec. 3.1.2: divergence shows as growing logit magnitude
            parts["logit_norm"] = float(logits.detach().norm(dim=-1).mean())
            parts["max_attn_logit"] = st["max_attn_logit"]
        if targets is None:
            return logits, None, parts
        # one logsumexp serves both the cross-entropy and the z-loss
        lse = torch.logsumexp(logits, dim=-1)
        ce = (lse - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)).mean()
        loss = ce + z_loss * lse.pow(2).mean() if z_loss else ce
        parts["ce"] = ce.detach()
        return logits, loss, parts
