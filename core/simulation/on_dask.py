"""``simulate --engine dask``: a simulation's repeats x strategies as parallel Dask tasks.

A simulation splits into independent units (``SimulationPlan.units``: per repeat the
full-pool model, then one task per strategy's whole run of that repeat), each seeded by
(seed, repeat, strategy) only. ``DaskRunner`` ships the plan (the data and the resolved model
and strategies) to every worker once (``Client.scatter(broadcast=True)``), submits one task
per unit running the same ``run_unit`` the embedded engine runs, reports progress as units
finish, and returns their results in the plan's order, so ``gather`` builds exactly the
result of the embedded simulation for the same seeds.

With no scheduler address a ``distributed.LocalCluster`` (``workers`` single-threaded worker
processes, no dashboard) is started for the run and closed after it; with an address
(``tcp://host:8786``) that cluster is used and left running.
"""
from __future__ import annotations

from typing import Any

from activelab.core.errors import ActiveLabError
from activelab.core.progress import Progress
from activelab.core.simulation.picking import UnitResult, run_unit
from activelab.core.simulation.simulate import SimulationPlan

DEFAULT_WORKERS = 2
CONNECT_TIMEOUT = "10s"


def _dask_missing() -> ActiveLabError:
    return ActiveLabError(
        "The Dask engine needs the 'dask' extra (dask[distributed]); install it with "
        "pip install 'activelab[dask]', or run without --engine dask.")


class DaskRunner:
    """Runs a ``SimulationPlan``'s units as Dask tasks (a ``simulate(runner=...)`` runner).

    scheduler: address of a running Dask scheduler, or None for a LocalCluster of ``workers``
               worker processes (``processes=False``: threads of this process, for tests).
    Raises ActiveLabError (one paragraph, no traceback) when the scheduler cannot be reached
    or the cluster cannot start; an error raised inside a unit (DataError, StrategyError, ...)
    reaches the caller as it would from the embedded engine.
    """

    def __init__(self, scheduler: str | None = None, workers: int = DEFAULT_WORKERS,
                 processes: bool = True) -> None:
        if workers < 1:
            raise ActiveLabError(f"--workers must be at least 1; got {workers}.")
        self.scheduler = scheduler
        self.workers = workers
        self.processes = processes
        self.described = ""

    def _connect(self) -> tuple[Any, Any]:
        """(client, cluster or None): the given scheduler, or a fresh LocalCluster."""
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise _dask_missing() from None
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ActiveLabError(
                    f"The Dask scheduler at '{self.scheduler}' could not be reached ({exc}). "
                    "Check that it is running and that the address (e.g. tcp://host:8786) is "
                    "right, or leave out --scheduler to run on a local cluster.") from None
            n = len(client.scheduler_info().get("workers", {}))
            self.described = f"scheduler {self.scheduler} ({n} workers)"
            return client, None
        try:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                   processes=self.processes, dashboard_address=None)
        except (OSError, RuntimeError) as exc:
            raise ActiveLabError(
                f"A local Dask cluster of {self.workers} workers could not start ({exc}). "
                "Run without --engine dask, or start a scheduler and pass --scheduler.") from None
        self.described = f"local cluster ({self.workers} workers)"
        return Client(cluster), cluster

    def __call__(self, plan: SimulationPlan, progress: Progress) -> list[UnitResult]:
        """Run every unit of ``plan`` on the cluster; their results in ``plan.units`` order."""
        from distributed import as_completed

        client, cluster = self._connect()
        futures: list[Any] = []
        try:
            units = plan.units
            total = sum(plan.weight(u) for u in units)
            progress.update(0.0, f"shipping the data to the {self.described}")
            shipped = client.scatter(plan, broadcast=True, hash=False)
            futures = [client.submit(run_unit, shipped, unit, pure=False) for unit in units]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[UnitResult | None] = [None] * len(units)
            done = 0
            for fut in as_completed(futures):
                i = index[fut.key]
                results[i] = fut.result()   # re-raises a unit's own error
                done += plan.weight(units[i])
                r, name = units[i]
                progress.update(done / total, f"{name or 'full split'} · repeat {r + 1}/"
                                              f"{plan.repeats} done on the {self.described}")
                progress.check()
            return [r for r in results if r is not None]
        except BaseException:
            if futures:
                client.cancel(futures)
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
