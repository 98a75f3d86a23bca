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
    "ConfigError",
    "MAX_ARRAY_ELEMENTS",
    "config_path",
    "read_config_mapping",
    "load_config",
    "resolve_params",
    "require_finite",
    "require_positive",
    "require_nonnegative",
    "require_int",
    "require_in_range",
    "require_real",
    "require_int_in_range",
    "require_array_size",
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


def _is_real(value: Any) -> bool:
    """A real number that is not a bool (``numbers.Real``: int, float, numpy scalars)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (10**400)
        return False


def _is_nan(value: Any) -> bool:
    try:
        return math.isnan(value)
    except OverflowError:  # a huge int is not NaN
        return False


def require_finite(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a finite real number (bools and strings rejected)."""
    if not _is_real(value) or not _is_finite(value):
        _fail(name, value, "a finite number")


def require_real(name: str, value: Any, allow_inf: bool = False) -> None:
    """Raise ValueError unless ``value`` is a real number, not NaN (and finite unless ``allow_inf``).

    bools, strings and None are rejected even though ``float("1.0")``/``float(True)`` would work.
    """
    if not _is_real(value) or _is_nan(value) or (not allow_inf and not _is_finite(value)):
        _fail(name, value, "a real number" + ("" if allow_inf else " (finite)"))


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
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
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


#: Largest number of elements any per-instance array may have (about 0.8 GB of float64):
#: size fields of every ``Params`` are capped so that what they allocate stays below it.
MAX_ARRAY_ELEMENTS = 10**8


def require_int_in_range(name: str, value: Any, lo: int, hi: int) -> None:
    """Raise ValueError unless ``value`` is an integer in [lo, hi] (bools and floats rejected)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        _fail(name, value, f"an integer in [{lo}, {hi}]")


def require_array_size(what: str, shape: tuple[int, ...], limit: int = MAX_ARRAY_ELEMENTS) -> None:
    """Raise ValueError if an array of ``shape`` (named by the fields that size it) would exceed ``limit`` elements."""
    n = math.prod(int(s) for s in shape)
    if n > limit:
        count = f"{n:.3g}" if n < 10**300 else "over 1e300"
        raise ValueError(f"{what} would need an array of shape {tuple(int(s) for s in shape)} "
                         f"({count} elements, limit {limit:.0e}); reduce these sizes")


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
        if data is not None and not isinstance(data, Mapping):
            raise TypeError(f"Params fields must be given as a mapping, got {type(data).__name__}")
        data = dict(data or {})
        not_str = [k for k in data if not isinstance(k, str)]
        if not_str:
            raise ValueError(f"Params field names must be strings, got key(s) {not_str!r}; "
                             f"known fields: {cls.field_names()}")
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


class ConfigError(ValueError):
    """A config file (or name) that cannot be used: the message names the file and, where
    there is one, the key. ``path`` and ``key`` keep them for programs."""

    def __init__(self, message: str, path: str | Path | None = None, key: Any = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.key = key


def config_path(system: str, config: str | Path) -> Path:
    """Resolve ``small`` / ``paper`` / any name under ``configs/<system>/``, or a path to a YAML file."""
    if not isinstance(config, (str, Path)):
        raise TypeError(f"config must be a config name or a path, got {type(config).__name__} {config!r}")
    if not str(config).strip():
        raise ConfigError("config must be a config name (e.g. 'small') or a path to a .yaml file, got ''",
                          path=str(config))
    p = Path(config)
    candidate = CONFIG_DIR / system / f"{config}.yaml"
    if p.suffix in (".yaml", ".yml") or p.is_file() or (p.is_dir() and not candidate.is_file()):
        if not p.exists():
            raise ConfigError(f"config file {str(p)!r} does not exist", path=p)
        if p.is_dir():
            raise ConfigError(f"config {str(p)!r} is a directory, not a YAML file", path=p)
        return p
    if not candidate.is_file():
        names = sorted(x.stem for x in (CONFIG_DIR / system).glob("*.yaml"))
        raise ConfigError(f"unknown config {str(config)!r} for {system}; available: {names} or a .yaml path",
                          path=str(config))
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


def _yaml_problem(exc: Exception) -> str:
    """One line out of a PyYAML error: what went wrong and where (line, column)."""
    import yaml

    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    problem = " ".join(str(problem).split())  # one line
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, yaml.constructor.ConstructorError):
        return f"unsupported YAML content ({problem}){where}; a config holds plain numbers, strings and lists"
    return f"malformed YAML: {problem}{where}"


def read_config_mapping(path: str | Path) -> dict:
    """The YAML mapping in ``path`` (safe loader); every failure is a ``ConfigError`` naming the file."""
    import yaml

    name = repr(str(path))
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"config {name} cannot be read: {exc.strerror or exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                          path=path) from None
    try:
        data = yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {name}: {_yaml_problem(exc)}", path=path) from None
    except RecursionError:
        raise ConfigError(f"config {name}: YAML nested too deeply", path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {name} must be a mapping of Params fields (key: value lines), "
                          f"got a {type(data).__name__}", path=path)
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(f"config {name}: key {key!r} is of type {type(key).__name__}; "
                              f"Params field names are strings", path=path, key=key)
    return data


def load_config(params_cls: type[P], system: str, config: str | Path) -> P:
    """Read a YAML mapping of ``Params`` fields; every problem is a ``ConfigError`` naming the file
    (and the key: unknown key, invalid value)."""
    path = config_path(system, config)
    data = read_config_mapping(path)
    unknown = sorted(set(data) - set(params_cls.field_names()))
    if unknown:
        raise ConfigError(f"config {str(path)!r}: unknown {system} Params field(s) {unknown}; "
                          f"known fields: {params_cls.field_names()}", path=path, key=unknown[0])
    try:
        return params_cls.from_dict(data)
    except (ValueError, TypeError) as exc:
        key = next((k for k in data if str(exc).split(" ", 1)[0] == k), None)
        raise ConfigError(f"config {str(path)!r}: {exc}", path=path, key=key) from None


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
    """Validate an env action strictly and return a float64 copy clipped to [-1, 1].

    ``action`` must be an array (or nested list) of real numbers (int/float dtypes) with exactly
    ``shape`` (no reshaping) and all entries finite. None, strings, objects, bools and complex
    numbers are a ``TypeError``; a wrong shape or a NaN/inf entry a ``ValueError``; each message
    names the action (``name``), e.g. ``actions['bs_0']``.
    """
    shape = tuple(int(s) for s in shape)
    if action is None:
        raise TypeError(f"{name} is None; expected an array of real numbers with shape {shape}")
    if isinstance(action, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers with shape {shape}, got {type(action).__name__} {action!r:.40}")
    try:
        a = np.asarray(action)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers with shape {shape}, "
                        f"got a {type(action).__name__} that is not one ({exc})") from None
    if a.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {a.dtype}")
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float dtype) with shape {shape}, "
                        f"got dtype {a.dtype} from a {type(action).__name__}")
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a.ravel()))
        raise ValueError(f"{name} contains non-finite values (NaN/inf) at flat indices {bad.tolist()}")
    return np.clip(a, -1.0, 1.0)
