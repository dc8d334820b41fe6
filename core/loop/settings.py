"""Per-project settings the expert or data scientist can change at any time.

Every setting is typed (``SETTING_RULES``) and checked when it is set: ``Settings.updated``
refuses a value of the wrong type or out of range, naming the setting, the value and what is
allowed; ``Settings.check_choices`` checks the model's and the strategy's parameters against
their typed parameters. Settings read back from a store are never trusted blindly:
``Settings.load`` keeps the default for a damaged value and says which keys it replaced.
"""
from __future__ import annotations

import getpass
import math
from dataclasses import asdict, dataclass, field, fields, replace
from numbers import Integral, Real
from typing import Any, Iterable, Mapping

from activelab.core.errors import ActiveLabError


#: The strategy of a new project: the label-efficiency benchmark's choice (never below random
#: beyond noise on the shared sets; benchmarks/results/label_efficiency.txt names it and a test
#: holds the two equal). It was entropy before that table existed.
DEFAULT_STRATEGY = "margin"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "user"


@dataclass(frozen=True)
class _Rule:
    """What one setting may hold: ``kind`` in int, float, bool, str, dict; an inclusive range
    for numbers; allowed values for text."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        words = {"int": "an integer", "float": "a number", "bool": "true or false",
                 "str": "non-empty text", "dict": "a JSON object, e.g. '{\"C\": 5}'"}[self.kind]
        fmt = (lambda x: str(int(x))) if self.kind == "int" else (lambda x: f"{x:g}")
        if self.minimum is not None and self.maximum is not None:
            return f"{words} from {fmt(self.minimum)} to {fmt(self.maximum)}"
        if self.minimum is not None:
            return f"{words} >= {fmt(self.minimum)}"
        return words

    def accepts(self, v: Any) -> bool:
        if self.kind == "bool":
            return isinstance(v, bool)
        if self.kind == "dict":
            return isinstance(v, Mapping) and all(isinstance(k, str) for k in v)
        if self.kind == "str":
            ok = isinstance(v, str) and bool(v.strip())
            return ok and (self.choices is None or v in self.choices)
        if isinstance(v, bool) or not isinstance(v, Integral if self.kind == "int" else Real):
            return False
        if not math.isfinite(float(v)):
            return False
        return not ((self.minimum is not None and v < self.minimum)
                    or (self.maximum is not None and v > self.maximum))


SETTING_RULES: dict[str, _Rule] = {
    "model": _Rule("str"),
    "model_params": _Rule("dict"),
    "strategy": _Rule("str"),
    "strategy_params": _Rule("dict"),
    "batch_size": _Rule("int", 1),
    "retrain_every": _Rule("int", 1),
    "audit_rate": _Rule("float", 0.0, 1.0),
    "aggregate": _Rule("str", choices=("mean", "max", "weighted")),
    "task_weights": _Rule("dict"),
    "blind_mode": _Rule("bool"),
    "annotator": _Rule("str"),
    "seed": _Rule("int", 0, 2**32 - 1),
    "zero_shot": _Rule("bool"),
    "class_descriptions": _Rule("dict"),
    "overlap": _Rule("float", 0.0, 1.0),
    "overlap_every": _Rule("int", 0, 1_000_000),
    "overlap_annotators": _Rule("int", 2, 100),
    "lease_minutes": _Rule("float", 0.01, 7 * 24 * 60.0),
}


def _normalised(key: str, v: Any) -> Any:
    """The stored form of an accepted value (floats for float settings, plain dicts)."""
    rule = SETTING_RULES[key]
    if rule.kind == "float":
        return float(v)
    if rule.kind == "int":
        return int(v)
    if rule.kind == "dict":
        return dict(v)
    return v


def setting_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be setting ``key`` (one sentence), or None when it can."""
    rule = SETTING_RULES[key]
    if not rule.accepts(value):
        return f"Setting '{key}' must be {rule.describe()}; got {value!r}."
    if key == "task_weights":
        bad = {k: w for k, w in value.items() if not _Rule("float", 0.0).accepts(w)}
        if bad:
            return (f"Setting 'task_weights' must map task names to numbers >= 0; got "
                    f"{bad!r}.")
    if key == "class_descriptions":
        bad = {k: v for k, v in value.items() if not isinstance(v, Mapping) or not all(
            isinstance(c, str) and isinstance(d, str) for c, d in v.items())}
        if bad:
            return ("Setting 'class_descriptions' must map each task to {class: one-line "
                    "description}, e.g. '{\"label\": {\"spam\": \"an unsolicited advert\"}}'; "
                    f"got {bad!r}.")
    return None


_BOTH_OVERLAPS = ("Overlap is either a share of the samples (overlap) or every k-th pick "
                  "(overlap_every), not both.")


@dataclass(frozen=True)
class Settings:
    model: str = "logistic_regression"
    model_params: dict[str, Any] = field(default_factory=dict)
    strategy: str = DEFAULT_STRATEGY
    strategy_params: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 10          # queue length prepared ahead
    retrain_every: int = 5        # labels between automatic retrains
    audit_rate: float = 0.1       # fraction of picks that are uniformly random audit picks
    aggregate: str = "mean"       # multi-task aggregation: mean | max | weighted
    task_weights: dict[str, float] = field(default_factory=dict)
    blind_mode: bool = False
    annotator: str = field(default_factory=_user)
    seed: int = 0
    zero_shot: bool = True        # zero-shot suggestions from class names (sentence embeddings)
    class_descriptions: dict[str, dict[str, str]] = field(default_factory=dict)
    """task -> {class: one-line description}, embedded with the class name for zero-shot
    suggestions (``activelab.core.learning.zero_shot``)."""
    overlap: float = 0.0          # share of samples labeled by several annotators (blind)
    overlap_every: int = 0        # or: every k-th pick project-wide is an overlap sample (0 off)
    overlap_annotators: int = 2   # how many annotators label each overlap sample
    lease_minutes: float = 15.0   # a sample handed to an annotator is theirs this long

    QUEUE_SETTINGS = ("model", "model_params", "strategy", "strategy_params", "aggregate",
                      "task_weights", "audit_rate", "batch_size", "seed", "zero_shot",
                      "class_descriptions")
    """The settings the prepared queue depends on: changing one makes it stale."""

    @classmethod
    def invalidates_queue(cls, old: "Settings", new: "Settings") -> bool:
        """Whether going from ``old`` to ``new`` makes the prepared queue stale (a setting of
        ``QUEUE_SETTINGS`` changed): the project empties it and a new one must be made."""
        return any(getattr(old, k) != getattr(new, k) for k in cls.QUEUE_SETTINGS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, d: Any) -> tuple["Settings", list[str]]:
        """Settings from a stored dict, tolerating damage: a value of the wrong type or out of
        range is replaced by its default. Returns (settings, problems), one sentence per
        replaced key naming the key, the stored value and the default used; unknown keys
        (from a newer version) are ignored silently."""
        if not isinstance(d, Mapping):
            return cls(), [f"The stored settings are not a JSON object ({d!r}); every setting "
                           "uses its default."]
        defaults = cls()
        good: dict[str, Any] = {}
        problems: list[str] = []
        for key in SETTING_RULES:
            if key not in d:
                continue
            why = setting_problem(key, d[key])
            if why is None:
                good[key] = _normalised(key, d[key])
            else:
                problems.append(f"{why} The default {getattr(defaults, key)!r} is used instead.")
        if good.get("overlap", 0) > 0 and good.get("overlap_every", 0) > 0:
            problems.append(f"{_BOTH_OVERLAPS} The stored every-k-th rule is not used.")
            good["overlap_every"] = 0
        return cls(**good), problems

    @classmethod
    def from_dict(cls, d: Any) -> "Settings":
        """Settings from a stored dict; damaged values fall back to defaults (see ``load``)."""
        return cls.load(d)[0]

    def updated(self, **changes: Any) -> "Settings":
        """A copy with ``changes``; raises ActiveLabError naming an unknown setting (with the
        known ones) or a value of the wrong type or range (with what is allowed)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ActiveLabError(
                f"Unknown setting(s) {sorted(unknown)}; known settings: {sorted(known)}."
            )
        for key, value in changes.items():
            why = setting_problem(key, value)
            if why is not None:
                raise ActiveLabError(f"{why} Nothing was saved.")
        new = replace(self, **{k: _normalised(k, v) for k, v in changes.items()})
        new.validate()
        return new

    def validate(self) -> None:
        """Raise ActiveLabError when a setting has the wrong type or is out of range, or
        when both overlap rules (a share and every k-th pick) are on."""
        for key in SETTING_RULES:
            why = setting_problem(key, getattr(self, key))
            if why is not None:
                raise ActiveLabError(why)
        if self.overlap > 0 and self.overlap_every > 0:
            raise ActiveLabError(
                f"{_BOTH_OVERLAPS} Now: overlap {self.overlap:g} and overlap_every "
                f"{self.overlap_every}. Set the other one to 0 in the same command, e.g. "
                f"'activelab set PROJECT overlap=0 overlap_every={self.overlap_every}'. "
                "Nothing was saved.")

    def check_choices(self, keys: Iterable[str] | None = None) -> "Settings":
        """Check the model and strategy names and their parameters against their typed
        parameters (scikit-learn's own checks for scikit-learn models, the strategy's
        ``Param``s). ``keys`` limits the check to what changed (None: everything). Returns a
        copy whose strategy parameters are converted to their declared types. Raises
        ModelError / StrategyError (ActiveLabError) with one paragraph."""
        keys = set(SETTING_RULES if keys is None else keys)
        new = self
        if keys & {"model", "model_params"}:
            from activelab.core.learning.model_params import validate_model_params

            validate_model_params(self.model, self.model_params)
        if keys & {"strategy", "strategy_params"}:
            from activelab.core.querying.registry import get_strategy

            strat = get_strategy(self.strategy)
            resolved = strat.resolve_params(self.strategy_params)
            new = replace(new, strategy_params={k: resolved[k] for k in self.strategy_params})
        return new
