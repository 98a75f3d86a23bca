"""``isac figures <system>``: one module per system with ``main(out_dir, quick, workers) -> list[Path]``.

Every plotted number comes from the system's ``evaluate()``; matplotlib uses the Agg backend.
"""

from __future__ import annotations

import importlib
from pathlib import Path


def make_figures(system: str, out_dir: Path, quick: bool = False, workers: int = 1) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    mod = importlib.import_module(f"agents.figures.{system}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return mod.main(out_dir=out_dir, quick=quick, workers=workers)


def parallel_map(fn, items, workers: int = 1, desc: str = ""):
    """map(fn, items) over processes (``workers`` > 1) with a progress bar; order preserved."""
    from tqdm.auto import tqdm

    items = list(items)
    if workers <= 1:
        return [fn(x) for x in tqdm(items, desc=desc, leave=False)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(tqdm(pool.map(fn, items), total=len(items), desc=desc, leave=False))
