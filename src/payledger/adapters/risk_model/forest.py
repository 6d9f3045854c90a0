"""An isolation forest as plain arrays: grown by scikit-learn, scored and explained with numpy.

Why an isolation forest: the merchant's history has no fraud labels, so the model must be
unsupervised; it needs no scaling of features with very different ranges (amounts, counts,
flags), grows each tree on a small sample (training on a million events takes seconds, not
minutes), and scores "how few splits isolate this event", which is what an unusual payment
is. Local-outlier or one-class-SVM models cost O(n^2) or a kernel per score; an autoencoder
needs tuning and a GPU-shaped dependency for no gain on 16 features.

Why the trees are exported: scikit-learn's ``score_samples`` costs ~10 ms per call on one row
(input validation, joblib), over the 5 ms budget; walking the exported arrays with numpy
costs well under 1 ms. The arrays (no pickle) are also what is stored (:mod:`.store`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from payledger.adapters.risk_model.features import FEATURES

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def average_path(n: Floats) -> Floats:
    """c(n): the mean path length of an unsuccessful search in a binary tree of n points."""
    n = np.asarray(n, np.float64)
    out = np.zeros_like(n)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass(frozen=True)
class Forest:
    """Every tree's nodes in one set of arrays; ``roots`` says where each tree starts."""

    left: Ints
    """Child for ``x[feature] <= threshold``; -1 at a leaf."""
    right: Ints
    feature: Ints
    threshold: Floats
    leaf_depth: Floats
    """At a leaf: its depth plus c(points left in it); what a path ending there counts."""
    roots: Ints
    sample_size: int
    quantiles: Floats
    """Per feature, the training 1st, 50th and 99th percentiles (3 x features)."""
    calibration: Floats
    """The training scores' quantiles: where the model starts to count, and where fully."""

    @property
    def depth(self) -> int:
        return int(np.max(self.leaf_depth)) + 1 if len(self.leaf_depth) else 0

    def scores(self, x: Floats) -> Floats:
        """Anomaly scores in 0..1 (0.5 is unremarkable, near 1 is isolated at once)."""
        out = np.empty(len(x))
        for start in range(0, len(x), 4096):
            out[start : start + 4096] = self._scores(x[start : start + 4096])
        return out

    def _scores(self, x: Floats) -> Floats:
        x = x.astype(np.float32).astype(np.float64)  # as scikit-learn's trees compare
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth + 1):
            inner = self.left[node] >= 0
            if not inner.any():
                break
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        mean_path = self.leaf_depth[node].mean(axis=1)
        return np.asarray(2.0 ** (-mean_path / average_path(np.array([self.sample_size]))[0]))

    def weight(self, score: float, most: float) -> float:
        """The model's share of a risk score: 0 below the training quantile, ``most`` at the
        top of the training scores, linear between."""
        low, high = float(self.calibration[0]), float(self.calibration[1])
        if score <= low:
            return 0.0
        return most * min(1.0, (score - low) / max(high - low, 1e-9))

    def explain(self, row: Floats, top: int = 3) -> list[tuple[str, float, float]]:
        """The features furthest outside the training's 1st..99th percentiles: (name, value,
        the percentile it passed), furthest first."""
        p1, p50, p99 = self.quantiles
        above = (row - p99) / np.maximum(p99 - p50, 1e-6)
        below = (p1 - row) / np.maximum(p50 - p1, 1e-6)
        distance = np.maximum(above, below)
        order = np.argsort(-distance)[:top]
        return [
            (FEATURES[i], float(row[i]), float(p99[i] if above[i] >= below[i] else p1[i]))
            for i in order
            if distance[i] > 0
        ]


def grow(x: Floats, trees: int, sample_size: int, seed: int, quantile: float) -> Forest:
    """Grow a forest on ``x`` (rows are events, columns :data:`FEATURES`) and export it,
    calibrated so that the model counts from the ``quantile`` of the training scores on."""
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(
        n_estimators=trees, max_samples=min(sample_size, len(x)), random_state=seed
    )
    model.fit(x)
    parts = [_export(estimator.tree_) for estimator in model.estimators_]
    feature_maps = model.estimators_features_
    sizes = np.array([len(p[0]) for p in parts])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    left, right, feature, threshold, leaf_depth = (
        np.concatenate([p[k] for p in parts]) for k in range(5)
    )
    shift = np.repeat(starts, sizes)
    left = np.where(left >= 0, left + shift, -1)
    right = np.where(right >= 0, right + shift, -1)
    columns = np.concatenate(
        [m[np.clip(p[2], 0, None)] for m, p in zip(feature_maps, parts, strict=True)]
    )
    feature = np.where(left >= 0, columns, 0)
    sample = min(len(x), 50_000)
    rng = np.random.default_rng(seed)
    calibration_rows = x[rng.choice(len(x), sample, replace=False)] if sample < len(x) else x
    forest = Forest(
        left=left.astype(np.int64),
        right=right.astype(np.int64),
        feature=feature.astype(np.int64),
        threshold=threshold.astype(np.float64),
        leaf_depth=leaf_depth.astype(np.float64),
        roots=starts.astype(np.int64),
        sample_size=int(model.max_samples_),
        quantiles=np.percentile(x, [1, 50, 99], axis=0),
        calibration=np.zeros(2),
    )
    scores = forest.scores(calibration_rows)
    top = max(quantile, 1 - (1 - quantile) / 10)
    return replace(forest, calibration=np.quantile(scores, [quantile, top]))


def _export(tree: object) -> tuple[Ints, Ints, Ints, Floats, Floats]:
    """One fitted tree's arrays, with each leaf's path length (depth + c(samples))."""
    left = np.asarray(tree.children_left, np.int64)  # type: ignore[attr-defined]
    right = np.asarray(tree.children_right, np.int64)  # type: ignore[attr-defined]
    feature = np.asarray(tree.feature, np.int64)  # type: ignore[attr-defined]
    threshold = np.asarray(tree.threshold, np.float64)  # type: ignore[attr-defined]
    samples = np.asarray(tree.n_node_samples, np.float64)  # type: ignore[attr-defined]
    depth = np.zeros(len(left))
    for node in range(len(left)):  # children always come after their parent
        if left[node] >= 0:
            depth[left[node]] = depth[right[node]] = depth[node] + 1
    leaf_depth = np.where(left < 0, depth + average_path(samples), 0.0)
    return left, right, feature, threshold, leaf_depth
