"""Per-project settings the expert or data scientist can change at any time."""
from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from core.errors import ActiveLabError


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "user"


@dataclass(frozen=True)
class Settings:
    model: str = "logistic_regression"
    model_params: dict[str, Any] = field(default_factory=dict)
    strategy: str = "entropy"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 10          # queue length prepared ahead
    retrain_every: int = 5        # labels between automatic retrains
    audit_rate: float = 0.1       # fraction of picks that are uniformly random audit picks
    aggregate: str = "mean"       # multi-task aggregation: mean | max | weighted
    task_weights: dict[str, float] = field(default_factory=dict)
    blind_mode: bool = False
    annotator: str = field(default_factory=_user)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Settings":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def updated(self, **changes: Any) -> "Settings":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ActiveLabError(
                f"Unknown setting(s) {sorted(unknown)}; known settings: {sorted(known)}."
            )
        new = replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ActiveLabError(f"batch_size must be at least 1; got {self.batch_size}.")
        if self.retrain_every < 1:
            raise ActiveLabError(f"retrain_every must be at least 1; got {self.retrain_every}.")
        if not 0.0 <= self.audit_rate <= 1.0:
            raise ActiveLabError(f"audit_rate must be between 0 and 1; got {self.audit_rate}.")
        if self.aggregate not in ("mean", "max", "weighted"):
            raise ActiveLabError(
                f"aggregate must be 'mean', 'max' or 'weighted'; got {self.aggregate!r}."
            )
