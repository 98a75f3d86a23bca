"""Device-free localisation in a monostatic ISAC network (Rivera Figueroa et al., arXiv 2402.10660).

``model`` (Params, Instance, Decision, sample/advance/evaluate, batched pure functions), ``env``
(``isac_envs/DeviceFreeLocalization-v1``, and ``DeviceFreeLocalizationEnvV0`` behind ``-v0``), ``vector``
(the native batched ``DeviceFreeLocalizationVectorEnv`` of ``gym.make_vec``), ``parallel`` (PettingZoo,
imports pettingzoo).
"""
