"""Analytic baselines: each paper's solver and comparison schemes, one module per solver.

``baselines/<system>/__init__.py`` declares the system's policies in ``POLICIES``
(see :mod:`baselines.registry`); ``baselines.policy.SolverPolicy`` runs any solver
through the same ``act(obs, info)`` interface as a learned agent.
"""
