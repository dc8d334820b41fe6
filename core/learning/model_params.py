"""Check a model's parameters when they are set, not when the model is first fitted.

scikit-learn models (the built-ins and any ``sklearn.*`` class path) are checked by
scikit-learn itself: the estimator is built with the parameters and its own
``_validate_params()`` (from ``_parameter_constraints``) says what is wrong. Models that are not
scikit-learn estimators (the torch models) declare the same kind of constraints in their
``ModelInfo.param_constraints`` (see ``activelab.core.learning.neural.register``), checked with scikit-learn's
``validate_parameter_constraints``. Either way an unknown key is refused with the list of the
model's parameters, and every refusal is one ``ModelError`` paragraph.
"""
from __future__ import annotations

from typing import Any, Mapping

from activelab.core.errors import ModelError

#: Constraint markers scikit-learn has no word for (used in ``ModelInfo.param_constraints``).
POSITIVE_INTS = "a list of positive ints, e.g. [256] or [256, 128]"
IMAGE_SHAPE = "a list of three positive ints [channels, height, width], e.g. [3, 32, 32]"
_MARKERS = (POSITIVE_INTS, IMAGE_SHAPE)


def _is_int(v: Any) -> bool:
    from numbers import Integral

    return isinstance(v, Integral) and not isinstance(v, bool)


def _marker_ok(marker: str, value: Any) -> bool:
    if not isinstance(value, (list, tuple)) or not value:
        return False
    if not all(_is_int(v) and v >= 1 for v in value):
        return False
    return marker != IMAGE_SHAPE or len(value) == 3


def _refuse(name: str, detail: str) -> ModelError:
    return ModelError(
        f"Model '{name}' does not accept these parameters: {detail} Nothing was saved; "
        f"see 'activelab models' and the model's documentation for its parameters."
    )


def _check_keys(name: str, params: Mapping[str, Any], valid: list[str]) -> None:
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise _refuse(
            name, f"{', '.join(repr(k) for k in unknown)} "
            f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of it. "
            f"Its parameters: {', '.join(sorted(valid))}."
        )


def _check_declared(name: str, constraints: Mapping[str, list], params: dict[str, Any]) -> None:
    from sklearn.utils._param_validation import (
        InvalidParameterError, validate_parameter_constraints,
    )

    _check_keys(name, params, list(constraints))
    plain: dict[str, list] = {}
    for key, allowed in constraints.items():
        markers = [c for c in allowed if isinstance(c, str) and c in _MARKERS]
        if markers and key in params:
            value = params[key]
            if (value is None and None in allowed) or any(_marker_ok(m, value) for m in markers):
                continue
            alts = " or ".join(markers + (["None"] if None in allowed else []))
            raise _refuse(name, f"The '{key}' parameter of {name} must be {alts}. "
                                f"Got {value!r} instead.")
        plain[key] = [c for c in allowed if c not in markers]
    try:
        validate_parameter_constraints(
            plain, {k: v for k, v in params.items() if k in plain}, caller_name=name)
    except InvalidParameterError as exc:
        raise _refuse(name, str(exc)) from None


def _check_estimator(name: str, info: Any, params: dict[str, Any]) -> None:
    from sklearn.base import BaseEstimator
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        base = info.factory(**dict(info.defaults))
    except TypeError as exc:
        raise ModelError(f"Model '{name}' cannot be built: {exc}.") from exc
    if not hasattr(base, "get_params"):
        return
    _check_keys(name, params, list(base.get_params(deep=False)))
    try:
        est = info.factory(**{**dict(info.defaults), **params})
        parts = [est] + [v for v in est.get_params(deep=False).values()
                         if isinstance(v, BaseEstimator)]
        for part in parts:
            validate = getattr(part, "_validate_params", None)
            if validate is not None:
                validate()
    except InvalidParameterError as exc:
        raise _refuse(name, str(exc)) from None
    except TypeError as exc:   # a constructor that checks its own arguments
        raise _refuse(name, f"{exc}.") from None


def validate_model_params(name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``params`` against model ``name``'s typed parameters; return them as a dict.

    Raises ``ModelError`` for an unknown model, a parameter it does not have (listing the
    ones it has), or a value of the wrong type or out of range (scikit-learn's words: the
    parameter, what is allowed, the value given). ``params`` must be a mapping (the JSON
    object given to ``--model-param`` / ``set model_params=...``).
    """
    from activelab.core.learning.models import model_info

    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ModelError(
            f"model_params must be a JSON object of parameter names and values, e.g. "
            f"'{{\"C\": 5}}'; got {params!r}."
        )
    bad_keys = [k for k in params if not isinstance(k, str) or not k.strip()]
    if bad_keys:
        raise ModelError(f"Model parameter names must be non-empty text; got {bad_keys!r}.")
    info = model_info(name)
    params = dict(params)
    constraints = info.param_constraints() if callable(info.param_constraints) else \
        info.param_constraints
    if constraints:
        _check_declared(name, constraints, params)
    else:
        _check_estimator(name, info, params)
    return params


def model_param_names(name: str) -> list[str]:
    """The parameter names model ``name`` accepts (sorted); [] when it has none to show."""
    from activelab.core.learning.models import model_info

    info = model_info(name)
    constraints = info.param_constraints() if callable(info.param_constraints) else \
        info.param_constraints
    if constraints:
        return sorted(constraints)
    try:
        return sorted(info.factory(**dict(info.defaults)).get_params(deep=False))
    except (TypeError, AttributeError):
        return []
