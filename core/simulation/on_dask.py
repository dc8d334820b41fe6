"""``simulate --engine dask``: a simulation's repeats x strategies as parallel Dask tasks.

A simulation splits into independent units (``SimulationPlan.units``: per repeat the
full-pool model, then one task per strategy's whole run of that repeat), each seeded by
(seed, repeat, strategy) only. ``DaskRunner`` ships the plan (the data and the resolved model
and strategies) to every worker once (``Client.scatter(broadcast=True)``), submits one task
per unit running the same ``run_unit`` the embedded engine runs, reports progress as units
finish, and returns their results in the plan's order, so ``gather`` builds exactly the
result of the embedded simulation for the same seeds.

With no scheduler address this process's ``distributed.LocalCluster`` (``workers``
single-threaded worker processes, no dashboard; ``activelab.core.scale.cluster``, closed at
exit) runs them; with an address (``tcp://host:8786``) that cluster is used and left running.
A scheduler that cannot be reached, or goes away mid-run, is a ``SchedulerGoneError`` (one
paragraph naming the address); nothing is written then.
"""
from __future__ import annotations

from typing import Any

from activelab.core.errors import ActiveLabError
from activelab.core.progress import Progress
from activelab.core.simulation.picking import UnitResult, run_unit
from activelab.core.simulation.simulate import SimulationPlan

DEFAULT_WORKERS = 2


class DaskRunner:
    """Runs a ``SimulationPlan``'s units as Dask tasks (a ``simulate(runner=...)`` runner).

    scheduler: address of a running Dask scheduler, or None for a LocalCluster of ``workers``
               worker processes (``processes=False``, or ACTIVELAB_DASK_PROCESSES=0 when
               None: threads of this process, as CI needs).
    Raises ActiveLabError (one paragraph, no traceback) when the scheduler cannot be reached
    or the cluster cannot start; an error raised inside a unit (DataError, StrategyError, ...)
    reaches the caller as it would from the embedded engine.
    """

    def __init__(self, scheduler: str | None = None, workers: int = DEFAULT_WORKERS,
                 processes: bool | None = None) -> None:
        if workers < 1:
            raise ActiveLabError(f"--workers must be at least 1; got {workers}.")
        self.scheduler = scheduler
        self.workers = workers
        self.processes = processes
        self.described = ""

    def _connect(self) -> Any:
        """A client of the given scheduler, or of this process's LocalCluster
        (``activelab.core.scale.cluster``: started once, closed at exit)."""
        from activelab.core.scale.cluster import connect, local_client, require_distributed

        require_distributed()   # ActiveLabError: install activelab[dask]

        if self.scheduler:
            client = connect(self.scheduler)    # SchedulerGoneError when unreachable
            n = len(client.scheduler_info().get("workers", {}))
            self.described = f"scheduler {self.scheduler} ({n} workers)"
            return client
        try:
            client = local_client(self.processes, self.workers)
        except (OSError, RuntimeError) as exc:
            raise ActiveLabError(
                f"A local Dask cluster of {self.workers} workers could not start ({exc}). "
                "Run without --engine dask, or start a scheduler and pass --scheduler.") from None
        self.described = f"local cluster ({self.workers} workers)"
        return client

    def __call__(self, plan: SimulationPlan, progress: Progress) -> list[UnitResult]:
        """Run every unit of ``plan`` on the cluster; their results in ``plan.units`` order."""
        from activelab.core.scale.cluster import SchedulerGoneError, gone_message, is_gone

        client = self._connect()    # ActiveLabError first when the dask extra is missing
        from distributed import as_completed
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
            for fut in as_completed(futures, loop=client.loop):
                i = index[fut.key]
                results[i] = fut.result()   # re-raises a unit's own error
                done += plan.weight(units[i])
                r, name = units[i]
                progress.update(done / total, f"{name or 'full split'} · repeat {r + 1}/"
                                              f"{plan.repeats} done on the {self.described}")
                progress.check()
            return [r for r in results if r is not None]
        except ActiveLabError:
            raise
        except Exception as exc:
            if futures and client.status == "running":
                client.cancel(futures)
            if is_gone(exc):
                raise SchedulerGoneError(gone_message(self.scheduler, exc, queue_kept=False)
                                         ) from None
            raise
        except BaseException:    # cancelled (a superseded run) or interrupted
            if futures and client.status == "running":
                client.cancel(futures)
            raise
        finally:
            if self.scheduler:
                client.close()
