"""PettingZoo entry modules: ``<system>_v0`` with ``env()`` and ``parallel_env()``."""
