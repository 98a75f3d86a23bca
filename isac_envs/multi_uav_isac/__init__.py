"""ISAC multi-UAV network with cell association and communication/sensing power (AIBOT paper).

See :mod:`isac_envs.multi_uav_isac.model` (the model) and :mod:`isac_envs.multi_uav_isac.env`
(the Gymnasium env ``isac_envs/MultiUAVISAC-v0``).
"""
