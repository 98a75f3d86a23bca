"""Disjoint seed ranges: training never sees an evaluation instance (ARCHITECTURE: fair comparison)."""

from __future__ import annotations

TRAIN_SEEDS = range(0, 1_000_000)
VALIDATION_SEEDS = range(1_000_000, 2_000_000)
TEST_SEEDS = range(2_000_000, 3_000_000)

assert TRAIN_SEEDS.stop <= VALIDATION_SEEDS.start and VALIDATION_SEEDS.stop <= TEST_SEEDS.start


def eval_seeds(n: int, offset: int = 0) -> list[int]:
    """The first ``n`` evaluation (test-split) instance seeds starting at ``offset``."""
    if n < 1:
        raise ValueError(f"episodes must be >= 1, got {n}")
    if offset < 0 or offset + n > len(TEST_SEEDS):
        raise ValueError(f"seed offset {offset} with {n} episodes leaves the test seed range")
    return [TEST_SEEDS[offset + i] for i in range(n)]


def validation_seeds(n: int, offset: int = 0) -> list[int]:
    """Seeds for periodic evaluation during training (never the test split)."""
    return [VALIDATION_SEEDS[offset + i] for i in range(n)]


def train_seed(i: int) -> int:
    """The i-th training seed (wraps inside the training range)."""
    return TRAIN_SEEDS[i % len(TRAIN_SEEDS)]
