"""The Dask cluster a project's work runs on: a scheduler at an address, or a LocalCluster.

A project of the Dask engine records ``{"name": "dask", "scheduler": ADDRESS or None}`` in its
store (setting ``engine``). ``client_for`` connects to that scheduler, or, with no address,
starts a ``distributed.LocalCluster`` on this machine with one single-threaded worker per core
(kept for the life of the process, so one session starts it once; its dashboard on a free
port, ``client.dashboard_link``). ``processes=False`` (or
``ACTIVELAB_DASK_PROCESSES=0``) runs the workers as threads of this process, as CI needs.

A scheduler that cannot be reached is a ``SchedulerGoneError``: one paragraph naming the
address and what to do; the caller keeps the previous queue usable.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any, Mapping

from activelab.core.errors import ActiveLabError

ENGINES = ("embedded", "dask")
CONNECT_TIMEOUT_S = 10.0

_LOCAL: dict[str, Any] = {}
_LOCK = threading.Lock()


class SchedulerGoneError(ActiveLabError):
    """The Dask scheduler a project uses cannot be reached (or went away mid-query)."""


def engine_of(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The engine a project records (``{"name": "embedded"}`` when none is recorded)."""
    if not isinstance(settings, Mapping) or settings.get("name") not in ENGINES:
        return {"name": "embedded"}
    return dict(settings)


def gone_message(address: str | None, exc: BaseException, queue_kept: bool = True) -> str:
    """The one paragraph a user sees when the scheduler cannot be reached."""
    where = f"at {address}" if address else "of the local cluster"
    kept = (" The previous queue stays usable: label from it, and query again once the "
            "scheduler is back." if queue_kept else "")
    return (f"The Dask scheduler {where} cannot be reached ({type(exc).__name__}: {exc}). "
            "Start it again (dask scheduler, then dask worker ADDRESS on each machine), or "
            "check the address and the network." + kept)


def dask_missing_message(exc: BaseException) -> str:
    """The one paragraph a user sees when the Dask engine's packages are not installed."""
    return (f"This uses the Dask engine, and Dask's distributed package is not installed "
            f"({type(exc).__name__}: {exc}). Install it with: pip install 'activelab[dask]' "
            "(or use the embedded engine: leave out --engine dask).")


def require_distributed() -> Any:
    """The ``distributed`` module; ActiveLabError (one paragraph: install ``activelab[dask]``)
    when it (or dask) is not installed. Every Dask entry point goes through here."""
    try:
        import distributed
    except ImportError as exc:
        raise ActiveLabError(dask_missing_message(exc)) from None
    return distributed


def quiet_dask_logs() -> None:
    """Keep distributed's own log lines (a task's 'Compute Failed ... Traceback', a closed
    comm at shutdown) off the user's terminal in this process: the error a user needs is
    raised to the caller and shown as one paragraph."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _processes_default() -> bool:
    return os.environ.get("ACTIVELAB_DASK_PROCESSES", "1").strip() not in ("0", "false", "no")


def local_client(processes: bool | None = None, n_workers: int | None = None) -> Any:
    """A client of this process's LocalCluster (started on first use: one single-threaded
    worker per core; the dashboard on a free port). ``processes=False``: workers are threads.
    Raises ActiveLabError when the dask extra is not installed."""
    require_distributed()
    from distributed import Client, LocalCluster

    quiet_dask_logs()

    processes = _processes_default() if processes is None else bool(processes)
    n = int(n_workers or os.cpu_count() or 1)
    key = f"{processes}:{n}"
    with _LOCK:
        client = _LOCAL.get(key)
        if client is not None and client.status == "running":
            return client
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                               dashboard_address=":0", worker_dashboard_address=":0",
                               silence_logs=logging.CRITICAL)   # worker processes too
        client = Client(cluster, set_as_default=False)
        if not _LOCAL:
            atexit.register(close_local_clusters)
        _LOCAL[key] = client
        return client


def _check_address(address: str) -> None:
    """ValueError when ``address`` is not one Dask can connect to (an unknown scheme, or a
    network address without a port)."""
    from distributed.comm import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    scheme, _ = parse_address(address)
    get_backend(scheme)
    if scheme in ("tcp", "tls", "ws", "wss"):
        get_address_host_port(address)


def connect(address: str) -> Any:
    """A client of the scheduler at ``address``; SchedulerGoneError when it cannot be reached
    within ``CONNECT_TIMEOUT_S`` seconds (ActiveLabError when the dask extra is missing)."""
    require_distributed()
    from distributed import Client

    quiet_dask_logs()

    with _LOCK:
        client = _LOCAL.get(address)
        if client is not None and client.status == "running":
            return client
    try:
        _check_address(address)   # before Client(): a half-made one hangs 20 s when deleted
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except ValueError as exc:   # no port, an unknown scheme: not an address Dask can use
        raise SchedulerGoneError(
            f"{address!r} is not a Dask scheduler address ({exc}). Give one like "
            "tcp://HOST:8786 (what 'dask scheduler' prints as 'Scheduler at:').") from None
    except (OSError, TimeoutError) as exc:
        raise SchedulerGoneError(gone_message(address, exc)) from None
    with _LOCK:
        if not _LOCAL:
            atexit.register(close_local_clusters)
        _LOCAL[address] = client   # kept for the session, closed at exit like a LocalCluster
    return client


def client_for(engine: Mapping[str, Any]) -> Any:
    """The client of a project's recorded engine (its scheduler, or the LocalCluster)."""
    address = engine.get("scheduler")
    if address:
        return connect(str(address))
    return local_client(engine.get("processes"))


def close_local_clusters() -> None:
    """Close the LocalClusters this process started and its clients of schedulers at an
    address (at exit, and between tests)."""
    with _LOCK:
        clients = list(_LOCAL.values())
        _LOCAL.clear()
    if clients:   # the scheduler logs the futures it drops on the way down: expected here
        quiet_dask_logs()
    for client in clients:
        cluster = client.cluster     # None for a client of a scheduler at an address
        client.close()
        if cluster is not None:
            cluster.close()


def is_gone(exc: BaseException) -> bool:
    """Whether ``exc`` says the scheduler went away (connection lost, closed client)."""
    from distributed.comm.core import CommClosedError

    text = str(exc).lower()
    return isinstance(exc, (CommClosedError, OSError, TimeoutError)) or (
        "not running" in text or "closed" in text or "connection" in text)
