"""Executors: independent jobs (proxy runs) behind one interface, ``map(fn, items) -> results``.

- ``LocalExecutor``: a local process pool (``concurrent.futures.ProcessPoolExecutor``), the default.
- ``SubmititExecutor``: the same jobs through submitit (https://github.com/facebookincubator/submitit)
  for Slurm clusters (``cluster="slurm"``, with ``slurm_*`` parameters such as partition, gpus per
  node, time), or its local/debug backends (``cluster="local"`` / ``"debug"``) used by the tests.

A job that raises is returned as the exception (not raised), so one failed run does not lose the
others; callers decide what to do with failures.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
from collections.abc import Callable, Sequence
from pathlib import Path

from analytics.errors import InputError

EXECUTORS = ("local", "submitit")


class LocalExecutor:
    """A pool of ``workers`` processes on this machine (``workers=1`` runs in-process, in order)."""

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))

    def map(self, fn: Callable, items: Sequence) -> list:
        if self.workers == 1 or len(items) <= 1:
            out = []
            for it in items:
                try:
                    out.append(fn(it))
                except Exception as e:  # noqa: BLE001 - a failed job is reported, not raised
                    out.append(e)
            return out
        # spawn: torch and forked OpenMP thread pools do not mix
        with cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(fn, it) for it in items]
            return [f.exception() or f.result() for f in futures]


class SubmititExecutor:
    """submitit's AutoExecutor: ``cluster`` None (auto-detect Slurm), "slurm", "local" or "debug";
    ``params`` go to ``update_parameters`` (e.g. ``timeout_min=60, slurm_partition="gpu"``)."""

    def __init__(self, folder: str | Path, cluster: str | None = None, **params):
        try:
            import submitit
        except ImportError:
            raise InputError("executor 'submitit' needs the submitit package (pip install submitit)") from None
        self._ex = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
        if params:
            self._ex.update_parameters(**params)

    def map(self, fn: Callable, items: Sequence) -> list:
        jobs = self._ex.map_array(fn, list(items))
        out = []
        for j in jobs:
            try:
                out.append(j.result())
            except Exception as e:  # noqa: BLE001 - submitit wraps the job's exception
                out.append(e)
        return out


def make_executor(kind: str = "local", workers: int = 1, folder: str | Path = "submitit",
                  cluster: str | None = None, **params):
    """An executor by name (``local`` or ``submitit``)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "submitit":
        return SubmititExecutor(folder, cluster=cluster, **params)
    raise InputError(f"unknown executor '{kind}' (choose from {', '.join(EXECUTORS)})")
