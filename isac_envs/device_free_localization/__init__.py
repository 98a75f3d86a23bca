"""Device-free localisation in a monostatic ISAC network (Rivera Figueroa et al., arXiv 2402.10660).

``model`` (Params, Instance, Decision, sample/advance/evaluate), ``env``
(``isac_envs/DeviceFreeLocalization-v0``), ``parallel`` (PettingZoo, imports pettingzoo).
"""
