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

__all__ = ["GPT", "ModelConfig", "apply_rope", "cross_entropy_z_loss", "rope_tables"]


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
            errs.append(f"model.d_model / model.n_head = {self.d_model // self.n_head} must be even "
                        "(RoPE rotates pairs)")
        if self.mlp_ratio <= 0 or self.init_std <= 0 or self.rope_base <= 1:
            errs.append("model.mlp_ratio and model.init_std must be > 0 and model.rope_base > 1")
        return errs


def rope_tables(seq_len: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the rotation angles m * base^(-2i/d) (Su et al. 2021, Eq. 15 and 34)."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.outer(torch.arange(seq_len, dtype=torch.float64), inv)
    return ang.cos().float(), ang.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_2i, x_2i+1) of the last dimension by angle m * theta_i (Su et al. 2021,
    Eq. 34); ``cos``/``sin`` broadcast against ``x[..., ::2]``. The real-valued form, for any device
    and dtype (autocast, torch.compile); CPU float32 training goes through :class:`_RotaryQKV`."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


def _complex(x: torch.Tensor) -> torch.Tensor:
    """(..., 2n) float32 as (..., n) complex64, pairs (x_2i, x_2i+1) -> x_2i + i x_2i+1; a view, no copy."""
    return torch.view_as_complex(x.unflatten(-1, (-1, 2)))


class _RotaryQKV(torch.autograd.Function):
    """(B, T, 3, H, hd) fused qkv -> q and k rotated, v as is, each (B, H, T, hd): RoPE as one complex
    multiply (the complex form of Su et al. 2021, Sec. 3.2.2), CPU float32.

    Written out because the proxy is memory-bound on CPU and autograd's version of the same maths
    makes extra passes over q and k: in backward it stacks the q and k grads, copies them
    contiguous, rotates them and concatenates them with the v grad. Here backward rotates the q and
    k grads straight into their slots of the qkv grad and copies the v grad into the third: one
    write per element. ``rot`` is the table e^(i m theta_j) already expanded to (T, 2, H, hd/2), so
    every multiply runs over whole rows (a broadcast (T, 1, 1, hd/2) table cuts the kernel's inner
    loop to hd/2 elements, several times slower at hd = 32). Same arithmetic as the autograd form,
    bit for bit."""

    @staticmethod
    def forward(ctx, qkv, rot):
        qk = torch.empty_like(qkv[:, :, :2], memory_format=torch.contiguous_format)
        torch.mul(_complex(qkv[:, :, :2]), rot, out=_complex(qk))
        ctx.save_for_backward(rot)
        q, k = qk.transpose(1, 3).unbind(2)
        return q, k, qkv[:, :, 2].transpose(1, 2)

    @staticmethod
    def backward(ctx, gq, gk, gv):
        (rot,) = ctx.saved_tensors
        B, H, T, hd = gv.shape
        g = gv.new_empty(B, T, 3, H, hd)
        back = rot[:, 0].conj().resolve_conj()  # rotate by -m theta: the transpose of the rotation
        torch.mul(_complex(gq.transpose(1, 2)), back, out=_complex(g[:, :, 0]))
        torch.mul(_complex(gk.transpose(1, 2)), back, out=_complex(g[:, :, 1]))
        g[:, :, 2].copy_(gv.transpose(1, 2))
        return g, None


def _add_linear(resid: torch.Tensor, x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    """``resid + layer(x)`` as one addmm, C = resid + x W^T: the residual add happens inside the
    matmul's accumulate instead of as a pass of its own, and on the CPU (MKL) a product that
    accumulates into C (beta = 1) also runs faster than one that overwrites it (beta = 0). Under
    autocast addmm would cast the fp32 residual stream to bf16, so there it is the plain sum."""
    if torch.is_autocast_enabled(resid.device.type):
        return resid + layer(x)
    return torch.addmm(resid.flatten(0, -2), x.flatten(0, -2), layer.weight.t()).view_as(resid)


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

    def forward(self, x, rope, resid, stats: dict | None = None):
        """``resid`` + attention(``x``): the residual add rides in the output projection (see :func:`_add_linear`)."""
        B, T, C = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.n_head, self.hd)
        if self.q_norm is not None:
            q, k, v = qkv.unbind(2)
            qkv = torch.stack((self.q_norm(q), self.k_norm(k), v), dim=2)
        if isinstance(rope, torch.Tensor):  # CPU float32: the fused complex form
            q, k, v = _RotaryQKV.apply(qkv, rope[:T])
        else:
            # split/unbind rather than slicing: their backward is one cat/stack, not zero-fill + copy per slice
            qk, v = qkv.split((2, 1), dim=2)
            cos, sin = rope
            # rotating q and k in one pass halves the elementwise kernels
            q, k = apply_rope(qk, cos[:T, None, None], sin[:T, None, None]).transpose(1, 3).unbind(2)  # (B, H, T, hd)
            v = v.squeeze(2).transpose(1, 2)
        if stats is not None:
            with torch.no_grad():
                logits = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
                causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
                top = float(logits.masked_fill(~causal, float("-inf")).amax())
            stats["max_attn_logit"] = max(stats.get("max_attn_logit", float("-inf")), top)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return _add_linear(resid, y.transpose(1, 2).reshape(B, T, C), self.proj)


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        hidden = int(cfg.mlp_ratio * cfg.d_model)
        self.up = nn.Linear(cfg.d_model, hidden, bias=False)
        self.down = nn.Linear(hidden, cfg.d_model, bias=False)

    def forward(self, x, resid):
        """``resid`` + MLP(``x``), the add fused as in :meth:`Attention.forward`."""
        return _add_linear(resid, F.gelu(self.up(x)), self.down)  # exact erf GELU: faster on CPU than the tanh form


class Block(nn.Module):
    """Pre-LN residual block: x + attn(LN(x)), then x + mlp(LN(x)) (Xiong et al. 2020, Fig. 1b)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, bias=False)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, bias=False)
        self.mlp = MLP(cfg)

    def forward(self, x, rope, stats=None):
        x = self.attn(self.ln1(x), rope, x, stats)
        return self.mlp(self.ln2(x), x)


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

    def _rope(self, x: torch.Tensor):
        """What the attention layers rotate q and k with: on the CPU in float32, eager, the complex
        table e^(i m theta_j) expanded to (seq_len, 2, n_head, hd/2) for :class:`_RotaryQKV` (built per
        call: seq_len * d_model elements, nothing beside a step); else the real (cos, sin) pair."""
        if (x.device.type == "cpu" and x.dtype == torch.float32 and not torch.is_autocast_enabled("cpu")
                and not torch.compiler.is_compiling()):
            c = self.cfg
            rot = torch.complex(self.rope_cos, self.rope_sin)[:, None, None]
            return rot.expand(-1, 2, c.n_head, -1).contiguous()
        return self.rope_cos, self.rope_sin

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, z_loss: float = 0.0,
                stats: bool = False):
        if idx.shape[1] > self.cfg.seq_len:
            raise ValueError(f"sequence length {idx.shape[1]} exceeds model.seq_len={self.cfg.seq_len}")
        st = {} if stats else None
        x = self.wte(idx)
        rope = self._rope(x)
        for block in self.blocks:
            x = block(x, rope, st)
        logits = self.lm_head(self.ln_f(x)).float()
        parts = {}
        if st is not None:
            # Wortsman et al. 2023, Sec. 3.1.2: divergence shows as growing logit magnitude
            parts["logit_norm"] = float(logits.detach().norm(dim=-1).mean())
            parts["max_attn_logit"] = st["max_attn_logit"]
        if targets is None:
            return logits, None, parts
        loss, parts["ce"] = cross_entropy_z_loss(logits.flatten(0, -2), targets.flatten(), z_loss)
        return logits, loss, parts


class _CrossEntropyZLoss(torch.autograd.Function):
    """Mean cross-entropy + z * mean(lse^2), with the gradient formed in the forward pass from one
    softmax: d/dlogits = (softmax * (1 + 2 z lse) - onehot) / N. Saves a pass over the logits
    against autograd through log_softmax, and the z-loss costs nothing extra."""

    @staticmethod
    def forward(ctx, logits, targets, z):
        lse = torch.logsumexp(logits, dim=-1)
        ce = (lse - logits.gather(-1, targets[:, None]).squeeze(-1)).mean()
        loss = ce + z * lse.square().mean()
        if ctx.needs_input_grad[0]:
            n = logits.shape[0]
            grad = (logits - lse[:, None]).exp_().mul_(((1 + 2 * z * lse) / n)[:, None])
            grad.scatter_add_(-1, targets[:, None], torch.full_like(lse, -1.0 / n)[:, None])
            ctx.save_for_backward(grad)
        ctx.mark_non_differentiable(ce)
        return loss, ce

    @staticmethod
    def backward(ctx, grad_loss, _grad_ce):
        (grad,) = ctx.saved_tensors
        return grad * grad_loss, None, None


def cross_entropy_z_loss(logits: torch.Tensor, targets: torch.Tensor, z: float = 0.0):
    """(mean cross-entropy + z * mean(log Z)^2, mean cross-entropy) over rows of ``logits`` (N, V):
    the z-loss of Chowdhery et al. (2022, Sec. 5) as Wortsman et al. (2023, Eq. 2) use it."""
    return _CrossEntropyZLoss.apply(logits, targets, float(z))
