"""Issue 9, env plumbing: instance validation at reset, strict PettingZoo steps."""

import importlib
import sys
import types
from dataclasses import dataclass, replace

import numpy as np
import pytest

from isac_envs import SYSTEMS
from isac_envs.base_env import ISACEnv

PZ_MODULES = [m for (_, _, m) in SYSTEMS.values() if m is not None]


# --------------------------------------------------------------------------- reset validates instances
@dataclass(frozen=True)
class _FakeParams:
    size: int = 3

    def replace(self, **kw):
        return replace(self, **kw)


@dataclass(frozen=True)
class _FakeInstance:
    gains: np.ndarray


class _FakeEnv(ISACEnv):
    system = "fake_hardening_sys"
    params_cls = _FakeParams
    instance_cls = _FakeInstance

    def __init__(self):  # no config machinery needed for the fake
        self.params, self.instance, self.render_mode = _FakeParams(), None, None

    def reset(self, seed=None, options=None):
        inst = self._start_episode(seed, options, lambda p, rng: _FakeInstance(rng.random(p.size)))
        return inst.gains.astype(np.float32), {}


def _fake_validate(params, instance):
    g = np.asarray(instance.gains)
    if g.shape != (params.size,):
        raise ValueError(f"Instance.gains must have shape ({params.size},), got {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError(f"Instance.gains has non-finite entries at {np.flatnonzero(~np.isfinite(g)).tolist()}")


@pytest.fixture
def fake_system(monkeypatch):
    pkg = types.ModuleType("isac_envs.fake_hardening_sys")
    pkg.__path__ = []
    model = types.ModuleType("isac_envs.fake_hardening_sys.model")
    model.calls = []

    def validate_instance(params, instance):
        model.calls.append(instance)
        _fake_validate(params, instance)

    model.validate_instance = validate_instance
    monkeypatch.setitem(sys.modules, pkg.__name__, pkg)
    monkeypatch.setitem(sys.modules, model.__name__, model)
    return model


def test_reset_validates_given_instance(fake_system):
    env = _FakeEnv()
    obs, _ = env.reset(seed=0)  # sampled instances are not re-validated
    assert fake_system.calls == [] and obs.shape == (3,)
    good = _FakeInstance(np.array([0.1, 0.2, 0.3]))
    obs, _ = env.reset(options={"instance": good})
    assert fake_system.calls == [good] and env.instance is good
    with pytest.raises(ValueError, match=r"gains.*non-finite.*\[1\]"):
        env.reset(options={"instance": _FakeInstance(np.array([0.1, np.nan, 0.3]))})
    with pytest.raises(ValueError, match=r"gains must have shape \(3,\), got \(5,\)"):
        env.reset(options={"instance": _FakeInstance(np.zeros(5))})
    assert env.instance is good  # a rejected instance is not installed


def test_reset_without_validator_still_type_checks(monkeypatch, fake_system):
    monkeypatch.delattr(fake_system, "validate_instance")
    env = _FakeEnv()
    env.reset(options={"instance": _FakeInstance(np.zeros(3))})
    with pytest.raises(TypeError, match="_FakeInstance"):
        env.reset(options={"instance": np.zeros(3)})


def test_real_env_calls_system_validator(monkeypatch):
    """The hook looks the function up by ``env.system`` (the system helpers add it)."""
    import gymnasium as gym

    import isac_envs  # noqa: F401

    env = gym.make("isac_envs/DeviceFreeLocalization-v0").unwrapped
    _, info = env.reset(seed=1)
    inst = env.instance
    model = importlib.import_module("isac_envs.device_free_localization.model")
    seen = []

    def spy(params, instance):
        seen.append((params, instance))
        raise ValueError("Instance.spy rejected")

    monkeypatch.setattr(model, "validate_instance", spy, raising=False)
    with pytest.raises(ValueError, match="spy rejected"):
        env.reset(options={"instance": inst})
    assert seen == [(env.params, inst)]


# --------------------------------------------------------------------------- PettingZoo step rules
def _pz(module):
    return importlib.import_module(module).parallel_env(config="small")


def _actions(env, agents=None):
    return {a: np.zeros(env.action_space(a).shape, np.float32) for a in (agents or env.possible_agents)}


@pytest.mark.parametrize("module", PZ_MODULES)
def test_step_before_reset(module):
    env = _pz(module)
    for acts in ({}, _actions(env)):
        with pytest.raises(RuntimeError, match=r"reset\(\)"):
            env.step(acts)


@pytest.mark.parametrize("module", PZ_MODULES)
def test_step_after_end_does_not_advance(module):
    env = _pz(module)
    env.reset(seed=3)
    steps = 0
    while env.agents:
        env.step(_actions(env, env.agents))
        steps += 1
        assert steps < 10_000
    state = env.state().copy()
    inst = env.unwrapped_env.instance
    for acts in ({}, _actions(env)):
        with pytest.raises(RuntimeError, match=r"episode has ended.*reset\(\)"):
            env.step(acts)
    np.testing.assert_array_equal(env.state(), state)
    assert env.unwrapped_env.instance is inst
    env.reset(seed=3)  # and reset() starts a new episode
    assert env.agents == env.possible_agents


@pytest.mark.parametrize("module", PZ_MODULES)
def test_unknown_agent_keys(module):
    env = _pz(module)
    env.reset(seed=0)
    state = env.state().copy()
    acts = _actions(env)
    acts["intruder"] = acts[env.possible_agents[0]]
    acts[7] = acts[env.possible_agents[0]]
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['intruder', 7\]"):
        env.step(acts)
    np.testing.assert_array_equal(env.state(), state)
    with pytest.raises(TypeError, match="dict"):
        env.step([np.zeros(2)])


@pytest.mark.parametrize("module", PZ_MODULES)
@pytest.mark.parametrize("bad, needle", [(None, "is None"), ("complex", "complex")])
def test_bad_agent_action_names_agent(module, bad, needle):
    env = _pz(module)
    env.reset(seed=0)
    acts = _actions(env)
    agent = env.possible_agents[-1]
    acts[agent] = None if bad is None else acts[agent] + 1j
    with pytest.raises(TypeError) as ei:
        env.step(acts)
    assert f"actions[{agent!r}]" in str(ei.value) and needle in str(ei.value)


@pytest.mark.parametrize("module", PZ_MODULES)
def test_agent_action_wrong_shape(module):
    env = _pz(module)
    env.reset(seed=0)
    acts = _actions(env)
    agent = env.possible_agents[0]
    acts[agent] = acts[agent][None, :]
    with pytest.raises(ValueError, match=rf"actions\[{agent!r}\] must have shape"):
        env.step(acts)


@pytest.mark.parametrize("module", PZ_MODULES)
def test_pettingzoo_api_still_passes(module):
    from pettingzoo.test import parallel_api_test

    parallel_api_test(_pz(module), num_cycles=20)


# --------------------------------------------------------------------------- real systems (after merge)
def _float_fields(inst):
    import dataclasses

    return [f.name for f in dataclasses.fields(inst)
            if isinstance(getattr(inst, f.name), np.ndarray) and getattr(inst, f.name).dtype.kind in "fc"
            and getattr(inst, f.name).size]


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_real_system_rejects_nan_and_foreign_instances(system):
    """Contract 1 end to end: runs where the system's model has ``validate_instance`` (skipped before)."""
    import dataclasses

    import gymnasium as gym

    model = importlib.import_module(f"isac_envs.{system}.model")
    if not hasattr(model, "validate_instance"):
        pytest.skip(f"isac_envs.{system}.model.validate_instance not written yet (system helper)")
    env = gym.make(SYSTEMS[system][0], config="small").unwrapped
    env.reset(seed=0)
    inst = env.instance
    env.reset(options={"instance": inst})  # its own instance is fine
    for name in _float_fields(inst)[:4]:
        arr = getattr(inst, name).copy()
        arr.flat[0] = np.nan
        with pytest.raises(ValueError, match=name):
            env.reset(options={"instance": dataclasses.replace(inst, **{name: arr})})
    big = gym.make(SYSTEMS[system][0], config="paper").unwrapped
    big.reset(seed=0)
    shapes = lambda i: [np.shape(getattr(i, f.name)) for f in dataclasses.fields(i)]  # noqa: E731
    if shapes(big.instance) != shapes(inst):
        with pytest.raises(ValueError, match="shape"):
            env.reset(options={"instance": big.instance})
