"""Executors: independent jobs (proxy runs) behind one interface, ``map(fn, items, on_done) -> results``.

- ``LocalExecutor``: a local process pool (``concurrent.futures.ProcessPoolExecutor``, spawned), the
  default, and the one place that decides how many torch threads a local job gets
  (:func:`threads_per_worker`).
- ``SubmititExecutor``: the same jobs through submitit (https://github.com/facebookincubator/submitit)
  for Slurm clusters (``cluster="slurm"``, with ``slurm_*`` parameters such as partition, gpus per
  node, time), or its local/debug backends (``cluster="local"`` / ``"debug"``) used by the tests.
  Threads there follow the job's allocation (e.g. ``cpus_per_task``).

A job that raises is returned as the exception (not raised), so one failed run does not lose the
others; callers decide what to do with failures. ``on_done(index, result_or_exception)`` is called
as each job finishes (in completion order), e.g. for a progress bar.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cltk.errors import InputError

EXECUTORS = ("local", "submitit")

OnDone = Callable[[int, object], None] | None


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """The thread policy of local jobs: the cores split evenly between the workers (at least one
    each), so ``workers`` torch processes never oversubscribe the machine. A job whose config sets
    its own thread count (a proxy's ``train.threads``) overrides it."""
    return max(1, _cpu_count() // max(1, int(workers)))


def _set_threads(n: int) -> None:
    """Pool initializer: ``n`` intra-op threads for torch, whether it is imported before or after."""
    os.environ["OMP_NUM_THREADS"] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def _call(fn: Callable, item):
    try:
        return fn(item)
    except Exception as e:  # noqa: BLE001 - a failed job is reported, not raised
        return e


class LocalExecutor:
    """A pool of ``workers`` processes on this machine (``workers=1`` runs in-process, in order).
    ``threads``: torch threads per job (default :func:`threads_per_worker` of the pool's size)."""

    def __init__(self, workers: int = 1, threads: int | None = None):
        self.workers = max(1, int(workers))
        self.threads = threads

    def map(self, fn: Callable, items: Sequence, on_done: OnDone = None) -> list:
        items = list(items)
        procs = min(self.workers, len(items))
        threads = self.threads or threads_per_worker(procs)
        out: list = [None] * len(items)
        if procs <= 1:
            from cltk.runtime import torch_threads

            with torch_threads(threads):
                for i, it in enumerate(items):
                    out[i] = _call(fn, it)
                    if on_done:
                        on_done(i, out[i])
            return out
        # spawn: torch and forked OpenMP thread pools do not mix
        with cf.ProcessPoolExecutor(procs, mp_context=mp.get_context("spawn"), initializer=_set_threads,
                                    initargs=(threads,)) as pool:
            futures = {pool.submit(fn, it): i for i, it in enumerate(items)}
            for f in cf.as_completed(futures):
                i = futures[f]
                out[i] = f.exception() or f.result()
                if on_done:
                    on_done(i, out[i])
        return out


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

    def map(self, fn: Callable, items: Sequence, on_done: OnDone = None) -> list:
        jobs = self._ex.map_array(fn, list(items))
        out = []
        for i, j in enumerate(jobs):
            try:
                out.append(j.result())
            except Exception as e:  # noqa: BLE001 - submitit wraps the job's exception
                out.append(e)
            if on_done:
                on_done(i, out[-1])
        return out


def make_executor(kind: str = "local", workers: int = 1, folder: str | Path = "submitit",
                  cluster: str | None = None, threads: int | None = None, **params):
    """An executor by name (``local`` or ``submitit``); ``threads`` applies to ``local`` only."""
    if kind == "local":
        return LocalExecutor(workers, threads)
    if kind == "submitit":
        return SubmititExecutor(folder, cluster=cluster, **params)
    raise InputError(f"unknown executor '{kind}' (choose from {', '.join(EXECUTORS)})")
