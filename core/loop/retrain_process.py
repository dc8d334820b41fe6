"""Retraining in a separate process: the child side and the plain-data request.

A retrain in a thread of the GUI process holds the GIL for the Python-level work between
numpy/sklearn releases, and key presses wait behind it. In a child process it cannot. The GUI
side (``activelab.app.worker``) keeps one long-lived ``spawn`` child; this module is what runs in it.

Nothing large crosses the boundary per retrain: ``retrain_request`` copies the snapshot without
its feature set and names the project's feature cache instead; the child re-opens the cached,
memory-mapped features with ``activelab.core.features.build.load_cached_features`` (and keeps them for the next
request). The previous model (for warm starts) goes without its pool outputs. Errors come back
as messages (``JobOutcome``), never as pickled exception objects.

This module imports no numpy at import time, so ``init_child`` sets the thread counts before
any BLAS/OpenMP library loads in the child.
"""
from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from activelab.core.errors import ActiveLabError, DataError   # no numpy behind these two
from activelab.core.progress import Cancelled, Progress

CHILD_NICENESS = 10
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_cancelled: Any = None                       # multiprocessing.Array of cancelled job ids (child)
_features: dict[tuple[str, str], Any] = {}  # (cache_dir, fingerprint) -> FeatureSet (child)


@dataclass(frozen=True)
class RetrainRequest:
    """A ``activelab.core.loop.cycle.Snapshot`` without its features, plus where the child finds them."""

    snapshot: Any        # activelab.core.loop.cycle.Snapshot with features=None
    cache_dir: str
    fingerprint: str


@dataclass(frozen=True)
class JobOutcome:
    """What a child job sends back: a result, or an error as text (plain data)."""

    status: str              # "ok" | "cancelled" | "user_error" | "error"
    result: Any = None
    message: str = ""
    details: str = ""        # the child's traceback, for the log


def retrain_request(snapshot: Any, cache_dir: str | Path | None) -> RetrainRequest | None:
    """The plain-data request for ``snapshot``, or None when its features are not in a cache
    folder the child can open (then the caller retrains in a thread)."""
    features = getattr(snapshot, "features", None)
    fingerprint = getattr(features, "fingerprint", None)
    if cache_dir is None or not fingerprint:
        return None
    from activelab.core.features.build import _cache_folder

    if not (_cache_folder(cache_dir, fingerprint) / "meta.json").is_file():
        return None
    previous = snapshot.previous
    if previous is not None:   # warm starts need the fitted models, not the pool outputs
        previous = replace(previous, proba={}, embeddings=None)
        _drop_memos(previous)
    slim = replace(snapshot, features=None, previous=previous)
    return RetrainRequest(slim, str(cache_dir), str(fingerprint))


def retrain_from_request(request: RetrainRequest, progress: Any) -> Any:
    """Child job: ``activelab.core.loop.cycle.retrain_and_query`` on the request's snapshot with its features."""
    from activelab.core.features.build import load_cached_features
    from activelab.core.loop.cycle import retrain_and_query

    key = (request.cache_dir, request.fingerprint)
    features = _features.get(key)
    if features is None:
        features = load_cached_features(request.cache_dir, request.fingerprint)
        if features is None:
            raise DataError(
                f"The feature cache {request.cache_dir} has no valid features "
                f"{request.fingerprint[:16]}; reopen the project to rebuild them.")
        _features.clear()
        _features[key] = features
    result = retrain_and_query(replace(request.snapshot, features=features), progress)
    if result.state is not None:
        _drop_memos(result.state)
    return result


def _drop_memos(state: Any) -> None:
    """Shared multi-task models memoise outputs together with their input (the whole pool);
    those must not be pickled back."""
    for fitted in getattr(state, "fitted", {}).values():
        memo = getattr(fitted, "memo", None)
        if memo:
            memo.clear()


# ----------------------------------------------------------------------------- child side
def init_child(cancelled: Any) -> None:
    """Process-pool initializer: one BLAS/OpenMP/torch thread, a lower CPU priority than the
    GUI process; remember the cancel board."""
    global _cancelled
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    _cancelled = cancelled
    try:   # the expert's key presses come first when the CPUs are busy
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:
        pass


def warm_up() -> int:
    """Import what a retrain needs, so the first one does not pay for it; returns the pid."""
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401

    import activelab.core.features.build  # noqa: F401
    import activelab.core.loop.cycle  # noqa: F401
    from activelab.core.querying.registry import registry

    registry()
    _limit_torch()
    return os.getpid()


def _limit_torch() -> None:
    torch = sys.modules.get("torch")  # imported late, when a neural model is used
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


class _ChildProgress(Progress):
    """A ``Progress`` whose cancellation is read from the parent's cancel board (job ids)."""

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id

    def check(self) -> None:
        board = _cancelled
        if board is not None and self.job_id in board[:]:
            raise Cancelled()


def run_job(job_id: int, fn: Callable[..., Any], args: tuple) -> JobOutcome:
    """Child entry point: ``fn(*args, progress=...)`` with errors turned into messages."""
    _limit_torch()
    try:
        result = fn(*args, progress=_ChildProgress(job_id))
    except Cancelled:
        return JobOutcome("cancelled")
    except ActiveLabError as exc:
        return JobOutcome("user_error", message=str(exc), details=traceback.format_exc())
    except Exception as exc:  # noqa: BLE001 - the parent shows it; the child must keep serving
        return JobOutcome("error", message=f"{type(exc).__name__}: {exc}",
                          details=traceback.format_exc())
    finally:
        _limit_torch()
    return JobOutcome("ok", result=result)


def child_pid() -> int:
    return os.getpid()
