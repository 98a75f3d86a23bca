"""Stronger references (spec Sec. 8.5): exhaustive association search and local search, both
with exact KKT powers.

Given the set of UAVs of each BS the power problem separates per BS, so the penalised score of an
association is a sum of per-(BS, UAV subset) optima; both searches cache those (one vectorised
KKT solve for a whole batch of cells).
"""

from __future__ import annotations

import numpy as np

from baselines.multi_uav_isac import aibot
from baselines.multi_uav_isac.power import build_links, penalised_link_scores, power_kkt, solve_kkt
from isac_envs.multi_uav_isac.model import Decision, Instance, Params, validate_instance

#: exhaustive search refuses instances with more associations than this
MAX_ASSOCIATIONS = 50_000


class CellScores:
    """Cache of the optimal penalised score of BS m serving the UAV subset ``mask`` (bit j = UAV j)."""

    def __init__(self, params: Params, instance: Instance) -> None:
        self.params, self.instance = params, instance
        self.n_uav = params.num_uavs + 1
        self.cache: dict[tuple[int, int], float] = {}

    def scores(self, bs, masks) -> np.ndarray:
        """Scores of the cells (bs[i], masks[i]); empty cells score 0."""
        keys = [(int(m), int(s)) for m, s in zip(bs, masks)]
        todo = sorted({key for key in keys if key[1] and key not in self.cache})
        if todo:
            self._solve(todo)
        return np.array([self.cache[key] if key[1] else 0.0 for key in keys])

    def _solve(self, cells: list[tuple[int, int]]) -> None:
        masks = np.array([s for _, s in cells], np.int64)
        bits = (masks[:, None] >> np.arange(self.n_uav)[None, :]) & 1
        member_group, member_uav = np.nonzero(bits)
        lm = build_links(self.params, self.instance, member_uav, member_group, [m for m, _ in cells])
        p = solve_kkt(lm)
        score = lm.group_sum(penalised_link_scores(lm, p))
        self.cache.update(zip(cells, score.tolist()))


def _cell_masks(assoc: np.ndarray, num_bs: int) -> np.ndarray:
    """(..., M) bit masks of the UAVs of each BS for associations (..., K+1)."""
    onehot = assoc[..., :, None] == np.arange(num_bs)
    weights = (1 << np.arange(assoc.shape[-1], dtype=np.int64))[:, None]
    return np.sum(onehot * weights, axis=-2)


def exhaustive(params: Params, instance: Instance) -> Decision:
    """Global optimum of the penalised score over all M^(K+1) associations (exact KKT powers)."""
    validate_instance(params, instance)
    m, n = params.num_bs, params.num_uavs + 1
    count = m**n
    if count > MAX_ASSOCIATIONS:
        raise ValueError(f"exhaustive search needs num_bs**(num_uavs+1) <= {MAX_ASSOCIATIONS} associations, "
                         f"got {m}**{n} = {count} (use the 'small' config)")
    cells = CellScores(params, instance)
    all_masks = np.arange(1, 1 << n)
    bs = np.repeat(np.arange(m), len(all_masks))
    table = np.zeros((m, 1 << n))
    table[:, 1:] = cells.scores(bs, np.tile(all_masks, m)).reshape(m, -1)
    assoc_all = np.stack(np.unravel_index(np.arange(count), (m,) * n), axis=1).astype(np.int64)
    masks = _cell_masks(assoc_all, m)
    total = table[np.arange(m)[None, :], masks].sum(axis=1)
    best = assoc_all[int(np.argmax(total))]
    return power_kkt(params, instance, best)


def local_search(params: Params, instance: Instance, assoc0=None, max_rounds: int = 5) -> Decision:
    """First-improvement single-UAV re-association moves scored with exact KKT powers.

    Starts from AIBOT's association unless ``assoc0`` is given. A round scans UAV j = 0..K and,
    for each, BS m = 0..M-1 (m != a_j), accepting the first move that raises the penalised score;
    stops after a round without improvement or ``max_rounds``. Candidate cells are solved in
    batches (one vectorised KKT call per accepted move) and cached.
    """
    validate_instance(params, instance)
    if assoc0 is None:
        assoc0 = aibot.solve(params, instance).assoc
    assoc = np.array(assoc0, np.int64).copy()
    cells = CellScores(params, instance)
    for _ in range(max_rounds):
        if not _improvement_round(cells, assoc, params.num_bs):
            break
    return power_kkt(params, instance, assoc)


def _improvement_round(cells: CellScores, assoc: np.ndarray, m_count: int) -> bool:
    """One first-improvement scan over (UAV, BS) moves, in place; True if any move was accepted."""
    n = len(assoc)
    start, improved = 0, False
    while start < n:
        masks = _cell_masks(assoc, m_count)
        allowed = np.arange(m_count)[None, :] != assoc[start:, None]
        rows, targets = np.nonzero(allowed)                 # row-major: UAV order, then BS order
        uav = rows + start
        if uav.size == 0:
            break
        src, bit = assoc[uav], (1 << uav).astype(np.int64)
        old = cells.scores(src, masks[src]) + cells.scores(targets, masks[targets])
        new = cells.scores(src, masks[src] ^ bit) + cells.scores(targets, masks[targets] | bit)
        better = np.flatnonzero(new - old > 1e-12 * max(1.0, float(np.max(np.abs(old)))))
        if better.size == 0:
            break
        first = better[0]
        assoc[uav[first]] = targets[first]
        improved, start = True, int(uav[first]) + 1
    return improved


def solve(params: Params, instance: Instance, method: str = "exhaustive", **options) -> Decision:
    """Dispatch: ``method`` "exhaustive" or "local_search"."""
    if method == "exhaustive":
        return exhaustive(params, instance, **options)
    if method == "local_search":
        return local_search(params, instance, **options)
    raise ValueError(f"method must be 'exhaustive' or 'local_search', got {method!r}")
