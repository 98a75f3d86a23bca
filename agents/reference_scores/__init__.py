"""Reference scores: every solver's and the random anchor's per-test-seed records, shipped as data.

One JSON file per system and named config (``<system>_<config>.json`` next to this module),
written by ``isac reference-scores``. A file records the code version it was made with
(package version, Gymnasium id, a hash of the sources that decide the episodes), the Params of
the config, the score rule and the number of random streams; the leaderboard and
``agents.evaluate`` read solver and random rows from it only when all of these match the
installed code and it covers the requested seeds, and re-run the policies otherwise.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent

#: Bump when the per-episode aggregation (score, objective, feasible) changes.
FORMAT = 1

#: Sources shared by every system whose change can change an episode (relative to the repo root).
_SHARED_SOURCES = ("isac_envs/core.py", "isac_envs/base_env.py", "isac_envs/physics", "baselines/policy.py",
                   "baselines/registry.py")


def _repo_root() -> Path:
    import isac_envs

    return Path(isac_envs.__file__).resolve().parent.parent


def _source_files(root: Path, rel: str) -> list[tuple[str, Path]]:
    base = root / rel
    if base.is_file():
        return [(rel, base)]
    if not base.is_dir():
        return []
    out = []
    for f in base.rglob("*"):
        parts = f.relative_to(root).parts
        if f.is_file() and "__pycache__" not in parts and f.suffix not in (".pyc", ".pyo"):
            out.append(("/".join(parts), f))
    return out


def source_hash(system_name: str, root: str | Path | None = None) -> str:
    """SHA-256 over the system's ``isac_envs/<system>/`` and ``baselines/<system>/`` sources
    (and the shared core, physics and policy modules): relative POSIX paths + file bytes, in
    sorted order, ``__pycache__`` excluded, so the hash does not depend on where the tree lives.

    root: the folder holding ``isac_envs/`` and ``baselines/`` (default: the imported package's).
    """
    root = Path(root) if root is not None else _repo_root()
    files: list[tuple[str, Path]] = []
    for rel in (f"isac_envs/{system_name}", f"baselines/{system_name}", *_SHARED_SOURCES):
        files += _source_files(root, rel)
    h = hashlib.sha256()
    for rel, path in sorted(files):
        h.update(rel.encode("utf-8") + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def code_version(system) -> dict[str, str]:
    """What a reference file must match: package version, env id and the sources' hash."""
    import isac_envs

    return {"package_version": isac_envs.__version__, "env_id": system.env_id,
            "source_hash": source_hash(system.name)}


def reference_path(system_name: str, config: str, reference_dir: str | Path | None = None) -> Path | None:
    """``<dir>/<system>_<config>.json`` for a named config (``small``, ``paper``); None for a YAML path."""
    cfg = str(config)
    if cfg.endswith((".yaml", ".yml")) or "/" in cfg or "\\" in cfg:
        return None
    return Path(reference_dir or REFERENCE_DIR) / f"{system_name}_{cfg}.json"


def _params_dict(system, config: str) -> dict[str, Any]:
    from agents.evaluation import make_env

    env = make_env(system, config)
    params = env.unwrapped.params.to_dict()
    env.close()
    return json.loads(json.dumps(params))  # tuples -> lists, as read back from a file


def expected_header(system, config: str, random_streams: int) -> dict[str, Any]:
    """Everything a usable reference file's header must equal."""
    return {"format": FORMAT, "system": system.name, "config": str(config), "code_version": code_version(system),
            "params": _params_dict(system, config), "score_rule": system.score_rule,
            "random_streams": int(random_streams)}


@dataclass
class ReferenceFile:
    path: Path
    data: dict[str, Any]

    def policies(self) -> list[str]:
        return list(self.data["policies"])

    def rows(self, names: list[str], seeds: list[int]) -> dict[str, Any]:
        """name -> Row (episodes in ``seeds`` order; skipped policies keep their note)."""
        from agents.evaluation import EpisodeResult
        from agents.leaderboard import Row

        out = {}
        for name in names:
            entry = self.data["policies"].get(name)
            if entry is None:
                continue
            source = f"reference file {self.path.name}"
            if entry.get("skipped"):
                out[name] = Row(name, entry["kind"], None, note=entry["skipped"], source=source)
                continue
            by_seed = {int(r["seed"]): r for r in entry["records"]}
            if not all(s in by_seed for s in seeds):
                continue
            out[name] = Row(name, entry["kind"], [EpisodeResult.from_record(by_seed[s]) for s in seeds],
                            source=source)
        return out


def lookup(system, config: str, seeds: list[int], random_streams: int,
           reference_dir: str | Path | None = None) -> tuple[ReferenceFile | None, str]:
    """The usable reference file, or None and the reason it cannot be used."""
    path = reference_path(system.name, config, reference_dir)
    if path is None:
        return None, f"no reference file for a config path ({config})"
    if not path.is_file():
        return None, f"no reference file {path.name}"
    data = json.loads(path.read_text(encoding="utf-8"))
    want = expected_header(system, config, random_streams)
    for key, value in want.items():
        got = data.get(key)
        if got != value:
            if key == "code_version" and isinstance(got, dict):
                bad = [k for k in value if got.get(k) != value[k]]
                return None, f"{path.name} is stale (its {', '.join(bad)} differ{'s' if len(bad) == 1 else ''} " \
                             "from the installed code's)"
            return None, f"{path.name} does not match ({key} differs)"
    missing = sorted(set(seeds) - set(int(s) for s in data.get("seeds", [])))
    if missing:
        return None, f"{path.name} covers {len(data.get('seeds', []))} seeds, not the requested {len(seeds)}"
    return ReferenceFile(path, data), f"read from {path.name} (code version matches)"


def generate(system, config: str = "small", episodes: int = 100, reference_dir: str | Path | None = None,
             only: list[str] | None = None, random_streams: int | None = None, progress: bool = True) -> Path:
    """Run every registered solver and the random anchor on the first ``episodes`` test seeds
    and write the reference file; returns its path."""
    from agents.evaluation import RANDOM_STREAMS
    from agents.leaderboard import run_leaderboard
    from agents.seeds import eval_seeds

    streams = RANDOM_STREAMS if random_streams is None else random_streams
    path = reference_path(system.name, config, reference_dir)
    if path is None:
        raise ValueError(f"reference scores are kept for named configs (small, paper), not {config!r}")
    t0 = time.perf_counter()
    rows = run_leaderboard(system, config, episodes, agent_factories={}, only=only, progress=progress,
                           recompute=True, random_streams=streams)
    data = {**expected_header(system, config, streams), "seeds": eval_seeds(episodes),
            "generated_seconds": round(time.perf_counter() - t0, 1), "policies": {}}
    for r in rows:
        if r.episodes:
            data["policies"][r.name] = {"kind": r.kind, "records": [e.record() for e in r.episodes]}
        else:
            data["policies"][r.name] = {"kind": r.kind, "skipped": r.note}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path
