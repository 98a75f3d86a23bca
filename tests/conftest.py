"""Test-wide settings: every hypothesis property test is derandomized, so the suite gives the same
result on every run and machine (CI cannot flake); `isac fuzz --budget-s N` is the exploring soak."""

from hypothesis import settings

settings.register_profile("isac", derandomize=True, database=None)
settings.load_profile("isac")
