"""Training, evaluation, the leaderboard and the ``isac`` command."""
