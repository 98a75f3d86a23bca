"""Shared plumbing of every system: the ``Evaluation`` record, ``Params`` helpers
(validation, dict/YAML round trip) and env construction from ``params=`` /
``config=`` / keyword overrides (ARCHITECTURE.md, model and env contracts).

Nothing here knows any physics; see :mod:`isac_envs.physics` for that.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, TypeVar

import numpy as np

__all__ = [
    "Evaluation",
    "ParamsBase",
    "CONFIG_DIR",
    "config_path",
    "load_config",
    "resolve_params",
    "require_finite",
    "require_positive",
    "require_nonnegative",
    "require_int",
    "require_in_range",
    "check_action",
]

def _config_dir(package_dir: Path = Path(__file__).resolve().parent) -> Path:
    """``isac_envs/configs/`` of an installed wheel, else the source checkout's ``configs/``."""
    packaged = package_dir / "configs"  # package data (pyproject package-dir)
    return packaged if packaged.is_dir() else package_dir.parent / "configs"


#: The per-system YAML configs (``configs/<system>/<name>.yaml`` in the repository), shipped in
#: the wheel as ``isac_envs/configs/``: works for wheel, git-URL, editable and source-tree use.
CONFIG_DIR = _config_dir()

#: Violations at or below this amount count as satisfied (every system uses it).
FEASIBILITY_TOL = 1e-6


@dataclass(frozen=True)
class Evaluation:
    """Result of ``evaluate(params, instance, decision)``: the single source of every score.

    objective: the paper's objective, larger is better.
    metrics: its components (floats), keyed by name with the unit in the name.
    violations: dimensionless amount by which each named paper constraint is violated (0.0 = holds).
    feasible: every violation within tolerance.
    """

    objective: float
    metrics: dict[str, float] = field(default_factory=dict)
    violations: dict[str, float] = field(default_factory=dict)
    feasible: bool = True

    def penalised(self, penalty: float) -> float:
        """Reward of the env contract: objective - penalty * sum(violations)."""
        return float(self.objective - penalty * sum(self.violations.values()))


# --------------------------------------------------------------------------- validation
def _fail(name: str, value: Any, what: str) -> None:
    raise ValueError(f"{name} must be {what}, got {value!r}")


def require_finite(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        _fail(name, value, "a finite number")


def require_positive(name: str, value: Any, allow_inf: bool = False) -> None:
    """Raise ValueError unless ``value`` is a (finite, unless allow_inf) number > 0."""
    if allow_inf and isinstance(value, numbers.Real) and value == math.inf:
        return
    require_finite(name, value)
    if value <= 0:
        _fail(name, value, "> 0")


def require_nonnegative(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a finite number >= 0."""
    require_finite(name, value)
    if value < 0:
        _fail(name, value, ">= 0")


def require_int(name: str, value: Any, minimum: int = 1) -> None:
    """Raise ValueError unless ``value`` is an integer >= ``minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, value, f"an integer >= {minimum}")
    if value < minimum:
        _fail(name, value, f"an integer >= {minimum}")


def require_in_range(name: str, value: Any, lo: float, hi: float,
                     lo_open: bool = False, hi_open: bool = False) -> None:
    """Raise ValueError unless lo <(=) value <(=) hi."""
    require_finite(name, value)
    ok_lo = value > lo if lo_open else value >= lo
    ok_hi = value < hi if hi_open else value <= hi
    if not (ok_lo and ok_hi):
        lb, rb = ("(" if lo_open else "["), (")" if hi_open else "]")
        _fail(name, value, f"in {lb}{lo}, {hi}{rb}")


# --------------------------------------------------------------------------- params
P = TypeVar("P", bound="ParamsBase")


class ParamsBase:
    """Mixin for the frozen ``Params`` dataclasses of every system.

    Subclasses are ``@dataclass(frozen=True)`` and implement ``validate()``, which
    raises ``ValueError`` naming the field and the value; ``__post_init__`` calls it.
    """

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[P], data: Mapping[str, Any] | None) -> P:
        """Build from a mapping of field values; an unknown key is a ValueError naming it."""
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise ValueError(
                f"unknown {cls.__module__.rsplit('.', 2)[-2]} Params field(s) {unknown}; "
                f"known fields: {cls.field_names()}"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    def replace(self: P, **changes: Any) -> P:
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise ValueError(f"unknown Params field(s) {unknown}")
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def config_path(system: str, config: str | Path) -> Path:
    """Resolve ``small`` / ``paper`` / any name under ``configs/<system>/``, or a path."""
    p = Path(config)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ValueError(f"config file {str(p)!r} does not exist")
        return p
    candidate = CONFIG_DIR / system / f"{config}.yaml"
    if not candidate.exists():
        names = sorted(x.stem for x in (CONFIG_DIR / system).glob("*.yaml"))
        raise ValueError(f"unknown config {config!r} for {system}; available: {names} or a .yaml path")
    return candidate


def _yaml_loader():
    """SafeLoader that also reads ``2.0e9`` / ``1e-3`` as floats (YAML 1.1 wants ``2.0e+9``)."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""", re.X),
        list("-+0123456789."))
    return Loader


def load_config(params_cls: type[P], system: str, config: str | Path) -> P:
    """Read a YAML mapping of ``Params`` fields (unknown keys are an error naming the key)."""
    import yaml  # local import: only needed when a config is given

    path = config_path(system, config)
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_yaml_loader())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"config {str(path)!r} must be a mapping of Params fields, got {type(data).__name__}")
    try:
        return params_cls.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"config {str(path)!r}: {exc}") from None


def resolve_params(params_cls: type[P], system: str, params: P | None = None,
                   config: str | Path | None = None, **overrides: Any) -> P:
    """The env contract: ``params=`` or ``config=`` (not both), keyword overrides on top."""
    if params is not None and config is not None:
        raise ValueError("give either params= or config=, not both")
    if params is not None:
        if not isinstance(params, params_cls):
            raise TypeError(f"params must be a {params_cls.__name__}, got {type(params).__name__}")
        base = params
    elif config is not None:
        base = load_config(params_cls, system, config)
    else:
        base = params_cls()
    return base.replace(**overrides) if overrides else base


def check_action(action: Any, shape: tuple[int, ...], name: str = "action") -> np.ndarray:
    """Validate an env action: right shape, all finite; returns a float64 copy clipped to [-1, 1]."""
    try:
        a = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers with shape {shape}, got {type(action).__name__}") from None
    if a.shape != tuple(shape):
        if a.size == int(np.prod(shape)):
            a = a.reshape(shape)
        else:
            raise ValueError(f"{name} must have shape {tuple(shape)}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a.ravel()))
        raise ValueError(f"{name} contains non-finite values (NaN/inf) at flat indices {bad.tolist()}")
    return np.clip(a, -1.0, 1.0)
