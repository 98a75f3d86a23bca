"""SB3 ``VecEnv`` adapters over Gymnasium 1.x native vector envs (issue 12).

* :class:`VectorEnvAdapter`: one Gymnasium ``VectorEnv`` in ``AutoresetMode.SAME_STEP`` (the
  isac_envs native vector envs, ``gym.make_vec(id, num_envs=N)``) seen as an SB3 ``VecEnv``:
  the batch is stepped in one call, ``final_obs``/``final_info`` of the autoreset step become
  SB3's per-env ``terminal_observation`` (and the terminal step's info), a truncation that is
  not a termination sets ``TimeLimit.truncated`` -- exactly what ``DummyVecEnv`` over the single
  envs would hand SB3 (tested). ``VecNormalize`` works on top.
* :class:`AgentBatchVecEnv`: parameter-sharing multi-agent training over the same native vector
  env: ``B`` envs x ``n`` agents = ``B n`` SB3 slots, per-agent observations and the joint action
  from the system's batched hooks ``batch_agent_observations`` / ``batch_joint_action``
  (``isac_envs/<system>/parallel.py``), so no PettingZoo env is stepped at all.
* :func:`native_vector_env`: ``gym.make_vec(id, vectorization_mode="vector_entry_point")`` when the
  id registers a SAME_STEP native vector env, else ``None`` (the caller falls back to one env per
  slot).

Seeding: SB3's ``VecEnv.seed(s)`` makes the next ``reset()`` call ``reset(seed=s)`` on the vector
env, i.e. env ``i`` starts from seed ``s + i`` (Gymnasium's convention); a ``reset_seed(i, k)``
function (training seed streams) instead gives env ``i`` the seed of its ``k``-th explicit reset.
After an episode ends the vector env resets env ``i`` from its own generator (SAME_STEP autoreset,
no new seed), as ``SyncVectorEnv`` does.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

#: keys of a Gymnasium vector info dict that are autoreset bookkeeping, not env info
_AUTORESET_KEYS = ("final_obs", "_final_obs", "final_info", "_final_info")


def autoreset_mode(venv: VectorEnv) -> AutoresetMode | None:
    mode = getattr(venv, "metadata", {}).get("autoreset_mode")
    if isinstance(mode, str):  # some envs store the enum's value
        try:
            return AutoresetMode(mode)
        except ValueError:
            return None
    return mode


def has_vector_entry_point(env_id: str) -> bool:
    """True when ``env_id`` registers a ``vector_entry_point`` (a native vector env)."""
    return gym.spec(env_id).vector_entry_point is not None


def native_vector_env(env_id: str, num_envs: int, **env_kwargs: Any) -> VectorEnv | None:
    """The id's native SAME_STEP vector env, or ``None`` if it has none (or another autoreset mode)."""
    if not has_vector_entry_point(env_id):
        return None
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    if autoreset_mode(venv) != AutoresetMode.SAME_STEP:
        venv.close()
        return None
    return venv


def unbatch_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Env ``i``'s info out of a Gymnasium vector info dict (arrays + ``_key`` masks, nested dicts)."""
    out = {}
    for key, value in infos.items():
        if key.startswith("_") or key in _AUTORESET_KEYS:
            continue
        mask = infos.get("_" + key)
        if mask is not None and not mask[i]:
            continue
        out[key] = unbatch_info(value, i) if isinstance(value, dict) else value[i]
    return out


def _final_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    final = infos.get("final_info")
    if final is None:
        return {}
    if isinstance(final, dict):  # SyncVectorEnv's convention: a batched dict
        return unbatch_info(final, i)
    item = final[i]  # an object array / list of per-env dicts
    return dict(item) if item is not None else {}


def _feedback_keys(feedback: Callable) -> tuple[str, ...]:
    """The info keys a ``batch_feedback(params, <keys...>, joint_action)`` hook reads."""
    import inspect

    names = list(inspect.signature(feedback).parameters)
    if len(names) < 3 or names[0] != "params" or names[-1] != "joint_action":
        raise ValueError(f"batch_feedback must be (params, <info keys...>, joint_action), got ({', '.join(names)})")
    return tuple(names[1:-1])


def _check_same_step(venv: VectorEnv) -> None:
    mode = autoreset_mode(venv)
    if mode != AutoresetMode.SAME_STEP:
        raise ValueError(f"the vector env must use AutoresetMode.SAME_STEP (SB3's convention), got "
                         f"metadata['autoreset_mode']={mode!r}")


class _NativeVecBase(VecEnv):
    """What both adapters share: seeding, reset options, the per-env attribute API."""

    venv: VectorEnv

    def _reset_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self._reset_seed is not None:
            kwargs["seed"] = [int(self._reset_seed(i, self._resets)) for i in range(self.venv.num_envs)]
        elif any(s is not None for s in self._seeds[: self.venv.num_envs]):
            if any(s is None for s in self._seeds[: self.venv.num_envs]):
                raise ValueError("seed() must give every env a seed (or none)")
            seeds = [int(s) for s in self._seeds[: self.venv.num_envs]]
            # SB3's seed(s) is s + i: pass the int (envs such as CartPoleVectorEnv take no list)
            kwargs["seed"] = seeds[0] if seeds == list(range(seeds[0], seeds[0] + len(seeds))) else seeds
        options = [o for o in self._options if o]
        if options:
            if any(o != options[0] for o in options) or len(options) != len(self._options):
                raise ValueError("a native vector env takes one options dict for all envs (set_options(dict))")
            kwargs["options"] = options[0]
        self._resets += 1
        self._reset_seeds()
        self._reset_options()
        return kwargs

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """As SB3: the next reset seeds env ``i`` with ``seed + i`` (unless a ``reset_seed`` stream is set)."""
        if seed is None:
            seed = int(np.random.randint(0, np.iinfo(np.uint32).max, dtype=np.uint32))
        self._seeds = [seed + i for i in range(self.num_envs)]
        return self._seeds

    def close(self) -> None:
        self.venv.close()

    # The vector env is one object: attributes and methods are those of the vector env,
    # replicated for every requested index (SB3 uses get_attr("render_mode") and env_method
    # only for rendering / wrappers checks; per-sub-env state lives in batched arrays).
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.venv.render() if self.render_mode == "rgb_array" else None
        return list(frames) if frames is not None else [None] * self.num_envs


class VectorEnvAdapter(_NativeVecBase):
    """An SB3 ``VecEnv`` over a Gymnasium ``VectorEnv`` with ``AutoresetMode.SAME_STEP``.

    venv: the vector env (e.g. ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")``).
    reset_seed: optional ``f(env_index, reset_index) -> seed`` for every explicit ``reset()``
        (training seed streams); without it, ``seed()`` / no seed as in SB3.
    keep_info: copy every env's info entries into SB3's per-env info dicts (the terminal step's
        info for finished envs, as ``DummyVecEnv``); ``False`` keeps only ``terminal_observation``
        and ``TimeLimit.truncated`` (what SB3's algorithms read; faster at large N).
    """

    def __init__(self, venv: VectorEnv, reset_seed: Callable[[int, int], int] | None = None,
                 keep_info: bool = True):
        _check_same_step(venv)
        self.venv = venv
        self._reset_seed = reset_seed
        self._resets = 0
        self.keep_info = keep_info
        self._actions: np.ndarray | None = None
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)

    def reset(self) -> np.ndarray:
        obs, infos = self.venv.reset(**self._reset_kwargs())
        self.reset_infos = [unbatch_info(infos, i) if self.keep_info else {} for i in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        env_infos = [unbatch_info(infos, i) if self.keep_info else {} for i in range(self.num_envs)]
        if self.keep_info:  # as DummyVecEnv, on every step
            time_limit = np.logical_and(truncated, np.logical_not(terminated))
            for i, info in enumerate(env_infos):
                info["TimeLimit.truncated"] = bool(time_limit[i])
        if dones.any():
            final_obs = infos["final_obs"]
            for i in np.flatnonzero(dones):
                self.reset_infos[i] = env_infos[i]
                env_infos[i] = _final_info(infos, i) if self.keep_info else {}
                env_infos[i]["terminal_observation"] = np.asarray(final_obs[i], dtype=obs.dtype)
                env_infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, np.asarray(rewards, np.float32), dones, env_infos


class AgentBatchVecEnv(_NativeVecBase):
    """Parameter-sharing multi-agent slots over a native vector env: slot ``b n + k`` = agent k of env b.

    batch_obs: ``(params, (B, D)[, previous]) -> (B, n, d)`` per-agent observations of the vector
    observation; batch_action: ``(params, (B, n, a)) -> (B, A)`` the joint action of the per-agent
    actions (contract 6 hooks of ``isac_envs/<system>/parallel.py``).
    feedback: optional ``batch_feedback(params, <info keys...>, joint_action) -> previous`` for agents
    whose local observation holds the previous slot's feedback (device_free_localization): its
    parameters between ``params`` and ``joint_action`` name the vector env's info arrays it reads;
    ``previous`` is zero at every episode start and passed to ``batch_obs(..., previous=...)``.
    Every agent gets the team reward and the episode's end, as in the PettingZoo env.
    """

    def __init__(self, venv: VectorEnv, params, n_agents: int, agent_observation_space, agent_action_space,
                 batch_obs: Callable, batch_action: Callable,
                 reset_seed: Callable[[int, int], int] | None = None, feedback: Callable | None = None):
        _check_same_step(venv)
        self.venv, self.params, self.n_agents = venv, params, int(n_agents)
        self.batch_obs, self.batch_action, self.feedback = batch_obs, batch_action, feedback
        self._feedback_keys = _feedback_keys(feedback) if feedback is not None else ()
        self._previous: np.ndarray | None = None
        self._reset_seed = reset_seed
        self._resets = 0
        self._actions: np.ndarray | None = None
        super().__init__(venv.num_envs * self.n_agents, agent_observation_space, agent_action_space)

    def _agent_obs(self, vec_obs: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
        extra = {} if self.feedback is None else {"previous": previous}
        per_agent = np.asarray(self.batch_obs(self.params, vec_obs, **extra), np.float32)
        return per_agent.reshape(-1, *self.observation_space.shape)

    def _step_feedback(self, infos: dict, joint: np.ndarray, ended: np.ndarray) -> np.ndarray:
        """This step's feedback for every env (ended envs: from their terminal step's ``final_info``)."""
        values = []
        for key in self._feedback_keys:
            v = np.array(infos[key], copy=True)
            final = infos.get("final_info")
            if len(ended) and isinstance(final, dict) and key in final:
                v[ended] = np.asarray(final[key])[ended]
            values.append(v)
        return np.asarray(self.feedback(self.params, *values, joint))

    def reset(self) -> np.ndarray:
        obs, _ = self.venv.reset(**self._reset_kwargs())
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._previous = None
        return self._agent_obs(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        per_agent = self._actions.reshape(self.venv.num_envs, self.n_agents, *self.action_space.shape)
        joint = self.batch_action(self.params, np.clip(per_agent, -1.0, 1.0))
        obs, rewards, terminated, truncated, infos = self.venv.step(joint)
        n = self.n_agents
        ended = np.flatnonzero(np.logical_or(terminated, truncated))
        dones = np.repeat(np.logical_or(terminated, truncated), n)
        previous = None if self.feedback is None else self._step_feedback(infos, joint, ended)
        slot_infos: list[dict] = [{} for _ in range(self.num_envs)]
        if len(ended):
            final = np.stack([np.asarray(infos["final_obs"][b], np.float32) for b in ended])
            final_prev = None if previous is None else previous[ended]
            final_agents = self._agent_obs(final, final_prev).reshape(len(ended), n, *self.observation_space.shape)
            for j, b in enumerate(ended):
                time_limit = bool(truncated[b] and not terminated[b])
                for k in range(n):
                    slot_infos[b * n + k] = {"terminal_observation": final_agents[j, k],
                                             "TimeLimit.truncated": time_limit}
            if previous is not None:
                previous = previous.copy()
                previous[ended] = 0.0  # a new episode starts without feedback
        self._previous = previous
        return (self._agent_obs(obs, previous), np.repeat(np.asarray(rewards, np.float32), n), dones,
                slot_infos)
