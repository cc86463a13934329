"""Per-root work in forked worker processes: evaluating and checking a hundred root modules
is a hundred independent jobs.

After the parse, every root module's evaluation, model and checks depend only on the parsed
workspace, which forked workers share with this process (copy-on-write: nothing is sent to
them but an index). Each job's result comes back pickled. Only where `fork` is the start
method (Linux) and there are enough roots to pay for the workers; otherwise, and with
`SGLINT_JOBS=1`, the jobs run here one after another, with the same results.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from calico_sglint.source import InputError
from calico_sglint.terraform.batch import available_cpus, start_pool

T = TypeVar("T")
R = TypeVar("R")

# A pool costs ~20 ms to fork and each root's result ~0.5 ms to load back; a root costs
# ~6 ms to evaluate and check (bench/generate.py modules). Below this, one process is faster.
PARALLEL_MIN_ROOTS = 16
CHUNKS_PER_WORKER = 4

_JOB: list[Callable[[Any], Any]] = []  # the job the forked workers run, set before they fork


@dataclass(frozen=True)
class _Raised:
    """An input error raised in a worker, carried back whole (an exception pickles its
    message only, not the file and line)."""

    message: str
    file: str | None
    line: int | None


def map_roots(job: Callable[[T], R], items: Sequence[T], jobs: int | None) -> list[R]:
    """`[job(item) for item in items]`, in forked workers when it pays (`jobs`: None for one
    per CPU, 1 for none). An `InputError` in a job is raised here, as if the job ran here."""
    workers = _workers(jobs, len(items))
    if workers <= 1:
        return [job(item) for item in items]
    pool = _fork_pool(job, workers)
    if pool is None:
        return [job(item) for item in items]
    chunk = max(1, len(items) // (workers * CHUNKS_PER_WORKER))
    try:
        with pool:
            results = pool.map(_run, items, chunksize=chunk)
    finally:
        _JOB.clear()
    for result in results:
        if isinstance(result, _Raised):
            raise InputError(result.message, result.file, result.line)
    return results


def _workers(jobs: int | None, count: int) -> int:
    if (jobs is not None and jobs <= 1) or count < PARALLEL_MIN_ROOTS or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(jobs or available_cpus(), count))


def _fork_pool(job: Callable[[Any], Any], workers: int) -> Any:
    """A pool of forked workers that run `job`, or None where processes cannot be started
    (process limits, a sandbox without semaphores)."""
    _JOB[:] = [job]
    pool = start_pool(workers, "fork")
    if pool is None:
        _JOB.clear()
    return pool


def _run(item: Any) -> Any:
    """In a worker: the job on one item; an input error comes back as a value."""
    try:
        return _JOB[0](item)
    except InputError as err:
        return _Raised(err.message, err.file, err.line)
