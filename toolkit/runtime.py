"""Where and how torch runs: the device a job asks for and the number of CPU threads a block uses.
Engineering helpers shared by the simulators and the proxy (no paper)."""
from __future__ import annotations

import contextlib

import torch

from cltk.errors import InputError

__all__ = ["DEVICES", "resolve_device", "torch_threads"]

#: the device names a job accepts besides torch's own ("cuda:1", ...)
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(spec: str = "auto", index: int | None = None) -> torch.device:
    """``auto`` -> CUDA when torch sees a GPU, else CPU; ``cpu`` / ``cuda`` / ``cuda:N`` as torch
    names them. ``index`` picks the CUDA device of ``cuda`` / ``auto`` (a DDP rank's local rank).
    Asking for CUDA on a machine without it is bad input."""
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(spec)
    except RuntimeError as e:
        raise InputError(f"device '{spec}': {e}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device '{spec}' requested but torch sees no CUDA device (use cpu or auto)")
        if dev.index is None and index is not None:
            dev = torch.device("cuda", index)
    return dev


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run a block with ``n`` torch intra-op threads (None: unchanged), then restore the setting.

    The simulators loop over many small kernels; on a shared CPU one thread avoids the spinning
    and oversubscription that made two threads 5-10x slower in our measurements."""
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
