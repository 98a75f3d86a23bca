"""Training, evaluation, the leaderboard and the ``isac`` command.

``from agents import evaluate`` scores any policy on a system's leaderboard episodes
(:func:`agents.evaluation.evaluate`); importing :mod:`agents` loads nothing heavy (no torch,
no Stable-Baselines3) until a function that needs it runs.
"""

__all__ = ["evaluate", "EvaluationResult"]


def __getattr__(name: str):
    if name in __all__:
        from agents import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
