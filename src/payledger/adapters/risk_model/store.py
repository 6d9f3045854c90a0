"""Model versions on disk: plain arrays and JSON, never a pickle; one atomic ``current`` pointer.

Layout of ``[risk.model] directory``::

    versions/<version>.npz    the forest's arrays (numpy, loaded with allow_pickle=False)
    versions/<version>.json   format, features, when and on how much it was trained, and
                              the SHA-256 of the .npz
    current                   the name of the version in use

A new version is written in full before ``current`` is switched to it by an atomic rename, so
a reader sees the old model or the new one, never half of one. Loading trusts nothing it
reads: the pointer must be a version name, the JSON must have the expected format and
features, the .npz its recorded hash, plain numeric arrays of consistent shapes, and trees
whose children come after their parent (so a walk always ends). Anything else is a
:class:`ModelProblem`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

import numpy as np

from payledger.adapters.risk_model.features import FEATURES
from payledger.adapters.risk_model.forest import Forest

FORMAT = "payledger-isolation-forest/1"
VERSION = re.compile(r"v\d{8}T\d{12}Z")
"""``v`` + the training time to the microsecond, UTC."""
_ARRAYS = {f.name for f in fields(Forest)} - {"sample_size"}
_INTS = {"left", "right", "feature", "roots"}


class ModelProblem(Exception):
    """A model version is missing, unreadable or not to be trusted (the message says which)."""


@dataclass(frozen=True)
class StoredModel:
    version: str
    trained_at: datetime
    rows: int
    forest: Forest


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def save(directory: Path, version: str, trained_at: datetime, rows: int, forest: Forest) -> None:
    """Write ``version`` in full (not yet in use: see :func:`switch`)."""
    versions = directory / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    arrays = {name: getattr(forest, name) for name in sorted(_ARRAYS)}
    npz = versions / f"{version}.npz"
    tmp = versions / f".{version}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, npz)
    meta = {
        "format": FORMAT,
        "version": version,
        "trained_at": trained_at.isoformat(),
        "rows": rows,
        "features": list(FEATURES),
        "sample_size": forest.sample_size,
        "sha256": hashlib.sha256(npz.read_bytes()).hexdigest(),
    }
    _write_atomically(versions / f"{version}.json", json.dumps(meta, indent=2).encode())


def switch(directory: Path, version: str) -> None:
    """Make ``version`` the one in use, after checking it loads."""
    load(directory, version)
    _write_atomically(directory / "current", version.encode() + b"\n")


def current(directory: Path) -> str:
    """The version in use; :class:`ModelProblem` when there is none or the pointer is bad."""
    try:
        name = (directory / "current").read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ModelProblem(f"no model trained yet in {directory}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelProblem(f"the current-model pointer is unreadable: {exc}") from None
    if not VERSION.fullmatch(name):
        raise ModelProblem("the current-model pointer does not name a version")
    return name


def versions(directory: Path) -> list[str]:
    """The versions on disk, oldest first."""
    found = (directory / "versions").glob("*.json")
    return sorted(p.stem for p in found if VERSION.fullmatch(p.stem))


def prune(directory: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest versions, never the one in use."""
    try:
        in_use = current(directory)
    except ModelProblem:
        in_use = ""
    for old in versions(directory)[:-keep]:
        if old != in_use:
            for suffix in (".npz", ".json"):
                (directory / "versions" / f"{old}{suffix}").unlink(missing_ok=True)


def load(directory: Path, version: str | None = None) -> StoredModel:
    """The model ``version`` (default: the one in use), checked; else :class:`ModelProblem`."""
    name = version or current(directory)
    if not VERSION.fullmatch(name):
        raise ModelProblem(f"{name!r} is not a model version name")
    meta = _meta(directory / "versions" / f"{name}.json", name)
    npz = directory / "versions" / f"{name}.npz"
    try:
        data = npz.read_bytes()
    except OSError as exc:
        raise ModelProblem(f"model {name}: its arrays are unreadable ({exc})") from None
    if hashlib.sha256(data).hexdigest() != meta.sha256:
        raise ModelProblem(f"model {name}: its arrays do not match their recorded hash")
    forest = _forest(npz, meta.sample_size, name)
    return StoredModel(name, meta.trained_at, meta.rows, forest)


@dataclass(frozen=True)
class _Meta:
    sha256: str
    sample_size: int
    rows: int
    trained_at: datetime


def _meta(path: Path, name: str) -> _Meta:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelProblem(f"model {name}: its description is unreadable ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelProblem(f"model {name}: not a {FORMAT} model")
    if meta.get("features") != list(FEATURES):
        raise ModelProblem(f"model {name}: trained on other features; train again")
    sha, size, rows, trained = (
        meta.get(k) for k in ("sha256", "sample_size", "rows", "trained_at")
    )
    if not (
        isinstance(sha, str)
        and isinstance(size, int)
        and isinstance(rows, int)
        and isinstance(trained, str)
    ):
        raise ModelProblem(f"model {name}: its description lacks a field or has a wrong type")
    try:
        trained_at = datetime.fromisoformat(trained)
    except ValueError:
        raise ModelProblem(f"model {name}: trained_at is not a date") from None
    return _Meta(sha, size, rows, trained_at)


def _forest(npz: Path, sample_size: int, name: str) -> Forest:
    try:
        with np.load(npz, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError) as exc:
        # allow_pickle=False makes numpy refuse object arrays with a ValueError.
        raise ModelProblem(f"model {name}: its arrays are not plain numbers ({exc})") from None
    if set(arrays) != _ARRAYS:
        raise ModelProblem(f"model {name}: expected arrays {sorted(_ARRAYS)}")
    for key, array in arrays.items():
        expected = np.integer if key in _INTS else np.floating
        if not np.issubdtype(array.dtype, expected) or not np.all(np.isfinite(array)):
            raise ModelProblem(f"model {name}: array {key} is not {expected.__name__} numbers")
    forest = Forest(sample_size=sample_size, **arrays)
    _check_shapes(forest, name)
    return forest


def _check_shapes(f: Forest, name: str) -> None:
    nodes = len(f.left)
    index = np.arange(nodes)
    inner = f.left >= 0
    problems = {
        "node arrays differ in length": any(
            a.ndim != 1 or len(a) != nodes for a in (f.right, f.feature, f.threshold, f.leaf_depth)
        ),
        "no trees": nodes == 0 or f.roots.ndim != 1 or len(f.roots) == 0,
        "a root outside the nodes": bool(np.any((f.roots < 0) | (f.roots >= nodes))),
        "a child not after its parent": bool(
            np.any(inner & ((f.left <= index) | (f.right <= index) | (f.right >= nodes)))
            or np.any(f.left >= nodes)
            or np.any(~inner & (f.right >= 0))
        ),
        "a split on an unknown feature": bool(
            np.any(inner & ((f.feature < 0) | (f.feature >= len(FEATURES))))
        ),
        "a path length out of range": bool(np.any((f.leaf_depth < 0) | (f.leaf_depth > 100))),
        "quantiles of the wrong shape": f.quantiles.shape != (3, len(FEATURES)),
        "calibration of the wrong shape": f.calibration.shape != (2,),
        "a sample size below 2": f.sample_size < 2,
    }
    wrong = [problem for problem, found in problems.items() if found]
    if wrong:
        raise ModelProblem(f"model {name}: {'; '.join(wrong)}")
