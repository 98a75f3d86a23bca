"""``ISACEnv``: what every system's Gymnasium env shares (construction, reset plumbing).

A system env subclasses it, sets ``system`` and ``params_cls``, and implements the
spec's ``reset``/``step``/``render`` with ``_start_episode`` and ``_check_render_mode``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from isac_envs.core import resolve_params


class ISACEnv(gym.Env):
    """Base class: ``Env(params=None, config=None, render_mode=None, **param_overrides)``."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    #: system package name, e.g. "device_free_localization" (config lookup)
    system: str = ""
    #: the system's ``Params`` dataclass
    params_cls: type = object
    #: the system's ``Instance`` dataclass (type check of ``options["instance"]``)
    instance_cls: type = object

    def __init__(self, params=None, config=None, render_mode: str | None = None, **param_overrides: Any):
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.params = resolve_params(self.params_cls, self.system, params, config, **param_overrides)
        self.instance = None

    def _start_episode(self, seed: int | None, options: dict | None, sample):
        """Seed ``self.np_random`` and return ``options["instance"]`` or ``sample(params, np_random)``."""
        super().reset(seed=seed)
        options = options or {}
        unknown = set(options) - {"instance"}
        if unknown:
            raise ValueError(f"unknown reset option(s) {sorted(unknown)}; supported: ['instance']")
        inst = options.get("instance")
        if inst is None:
            inst = sample(self.params, self.np_random)
        elif not isinstance(inst, self.instance_cls):
            raise TypeError(f"options['instance'] must be a {self.instance_cls.__name__}, got {type(inst).__name__}")
        else:
            validate = self._instance_validator()
            if validate is not None:  # shapes against self.params, finiteness (ValueError naming the field)
                validate(self.params, inst)
        self.instance = inst
        return inst

    def _instance_validator(self):
        """``isac_envs.<system>.model.validate_instance`` (contract 1), or None if the system has none."""
        import importlib

        try:
            model = importlib.import_module(f"isac_envs.{self.system}.model")
        except ImportError:
            return None
        return getattr(model, "validate_instance", None)
