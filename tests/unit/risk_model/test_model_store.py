"""Model versions on disk: trained, switched, switched back; broken ones never stop scoring."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from payledger.adapters.risk_model import load_scorer, load_trainer, switch_model
from payledger.adapters.risk_model.forest import grow
from payledger.adapters.risk_model.store import ModelProblem, current, load, versions
from payledger.bench.risk_data import generate
from payledger.config import RiskModelSettings, RiskSettings
from payledger.domain.errors import DomainError
from payledger.domain.money import Money
from payledger.domain.risk import Action, CustomerProfile, RiskHistory, RiskSubject, SubjectKind

EVENTS = generate(seed=3, customers=80, days=40, warmup_days=10).events


def settings(directory: Path, **model: object) -> RiskSettings:
    chosen = {"min_events": 100, "trees": 20} | model
    return RiskSettings(model=RiskModelSettings(directory=directory, **chosen))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


def trainer(directory: Path, **model: object):
    from payledger.adapters.risk_model import rule_limits
    from payledger.adapters.risk_model.trainer import ForestTrainer

    s = settings(directory, **model)
    return ForestTrainer(rule_limits(s.rules), s.model, now=Clock())


SALE = RiskSubject(
    "T-new", SubjectKind.SALE, Money.of("42.00"), datetime(2026, 6, 1, tzinfo=UTC), "C1", "K1"
)
ODD = RiskSubject(
    "T-odd",
    SubjectKind.REFUND,
    Money.of("250000.00"),
    datetime(2026, 6, 1, tzinfo=UTC),
    "C1",
    "K1",
    avs_result="No Match",
    csc_result="No Match",
)
KNOWN = RiskHistory(
    customer=CustomerProfile(
        payments=20,
        total=Money.of("800.00"),
        largest=Money.of("60.00"),
        mean=Money.of("40.00"),
        first_seen=datetime(2025, 6, 1, tzinfo=UTC),
    )
)


def test_train_v1_then_v2_moves_current_and_switching_back_restores_v1(tmp_path):
    train = trainer(tmp_path)
    v1 = train.train(EVENTS)
    scorer = load_scorer(settings(tmp_path))
    assert scorer.model_version == v1.version and scorer.model_problem == ""
    assert v1.rows == len(EVENTS)

    v2 = train.train(EVENTS[: len(EVENTS) // 2])
    assert v2.version > v1.version
    assert current(tmp_path) == v2.version
    assert versions(tmp_path) == [v1.version, v2.version]
    assert load_scorer(settings(tmp_path)).model_version == v2.version

    switch_model(settings(tmp_path), v1.version)
    assert current(tmp_path) == v1.version
    assert load(tmp_path).rows == len(EVENTS)
    assert load_scorer(settings(tmp_path)).model_version == v1.version


def test_a_running_scorer_picks_up_a_new_version_on_refresh(tmp_path):
    train = trainer(tmp_path)
    train.train(EVENTS)
    scorer = load_scorer(settings(tmp_path))
    v2 = train.train(EVENTS)
    assert scorer.model_version != v2.version
    scorer.refresh()  # type: ignore[attr-defined]
    assert scorer.model_version == v2.version
    assert scorer.assess(SALE, KNOWN).model_version == v2.version


def test_old_versions_are_pruned_but_never_the_one_in_use(tmp_path):
    train = trainer(tmp_path, keep_versions=2)
    first = train.train(EVENTS)
    for _ in range(3):
        train.train(EVENTS)
    kept = versions(tmp_path)
    assert len(kept) == 2 and first.version not in kept
    assert current(tmp_path) == kept[-1]


def test_too_few_events_to_learn_from_are_refused(tmp_path):
    with pytest.raises(DomainError, match="min_events"):
        trainer(tmp_path).train(EVENTS[:99])
    assert not (tmp_path / "current").exists()


def test_an_unusual_event_is_explained_by_its_top_features(tmp_path):
    trainer(tmp_path, weight=0.6).train(EVENTS)
    scorer = load_scorer(settings(tmp_path))
    takeover = replace(ODD, kind=SubjectKind.SALE)
    tries = [
        replace(
            SALE,
            transaction_id=f"E{i}",
            kind=SubjectKind.DECLINE,
            occurred_at=SALE.occurred_at - timedelta(minutes=i + 1),
        )
        for i in range(8)
    ]
    busy = replace(KNOWN, by_card=tries, by_customer=tries, declines=tries)
    model = [r for r in scorer.assess(takeover, busy).reasons if r.code == "model_outlier"]
    assert model and 0 < model[0].weight <= 0.6
    assert "amount_vs_mean" in model[0].detail and "training 1-99%" in model[0].detail
    plain = scorer.assess(SALE, KNOWN)
    assert [r.code for r in plain.reasons] == [] and plain.action is Action.ALLOW


def test_the_exported_forest_scores_exactly_as_scikit_learn():
    x = np.random.default_rng(4).normal(size=(3000, 16))
    forest = grow(x, trees=30, sample_size=128, seed=9, quantile=0.99)
    reference = IsolationForest(n_estimators=30, max_samples=128, random_state=9).fit(x)
    np.testing.assert_allclose(forest.scores(x[:500]), -reference.score_samples(x[:500]))


def test_with_no_model_trained_the_rules_score_alone_and_say_why(tmp_path):
    scorer = load_scorer(settings(tmp_path / "never"))
    assert scorer.model_version == ""
    assert "no model trained yet" in scorer.model_problem
    result = scorer.assess(ODD, RiskHistory())
    assert result.model_version == ""
    assert "refund_larger" in {r.code for r in result.reasons}


def corrupt(tmp_path: Path, how: str) -> None:
    version = trainer(tmp_path).train(EVENTS).version
    npz = tmp_path / "versions" / f"{version}.npz"
    meta_file = tmp_path / "versions" / f"{version}.json"
    if how == "truncated":
        npz.write_bytes(npz.read_bytes()[:100])
    elif how == "missing":
        npz.unlink()
    elif how == "garbage json":
        meta_file.write_text("{not json")
    elif how == "pointer outside":
        (tmp_path / "current").write_text("../../etc/passwd")
    elif how == "other features":
        meta = json.loads(meta_file.read_text())
        meta["features"] = ["amount"]
        meta_file.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("truncated", "do not match their recorded hash"),
        ("missing", "unreadable"),
        ("garbage json", "description is unreadable"),
        ("pointer outside", "does not name a version"),
        ("other features", "other features"),
    ],
)
def test_a_broken_model_leaves_the_rules_scoring_and_reports_it(tmp_path, how, problem):
    corrupt(tmp_path, how)
    scorer = load_scorer(settings(tmp_path))
    assert problem in scorer.model_problem
    result = scorer.assess(ODD, RiskHistory())
    assert result.model_version == "" and result.action is not Action.ALLOW
    assert "model_outlier" not in {r.code for r in result.reasons}


def rewrite_arrays(tmp_path: Path, change) -> None:
    """Replace the stored arrays with changed ones and record their hash, as an attacker who
    can write the directory would: the hash alone cannot be the defence."""
    version = trainer(tmp_path).train(EVENTS).version
    npz = tmp_path / "versions" / f"{version}.npz"
    with np.load(npz) as stored:
        arrays = {key: stored[key] for key in stored.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz.write_bytes(buffer.getvalue())
    meta_file = tmp_path / "versions" / f"{version}.json"
    meta = json.loads(meta_file.read_text())
    meta["sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    meta_file.write_text(json.dumps(meta))


def test_the_loader_refuses_pickled_content(tmp_path):
    rewrite_arrays(tmp_path, lambda a: a.update(threshold=np.array([{"x": 1}], dtype=object)))
    scorer = load_scorer(settings(tmp_path))
    assert "not plain numbers" in scorer.model_problem
    with zipfile.ZipFile(next((tmp_path / "versions").glob("*.npz"))) as z:
        assert "threshold.npy" in z.namelist()  # the object array is there, and was refused


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda a: a.update(left=a["left"] * 0), "a child not after its parent"),
        (lambda a: a.update(feature=a["feature"] + 99), "unknown feature"),
        (lambda a: a.update(roots=np.array([], np.int64)), "no trees"),
        (lambda a: a.update(extra=np.zeros(1)), "expected arrays"),
        (lambda a: a.update(threshold=a["threshold"].astype(np.int64)), "not floating"),
    ],
)
def test_the_loader_refuses_arrays_that_are_not_a_sound_forest(tmp_path, change, problem):
    rewrite_arrays(tmp_path, change)
    assert problem in load_scorer(settings(tmp_path)).model_problem


def test_switching_to_a_version_that_does_not_load_is_refused_and_changes_nothing(tmp_path):
    good = trainer(tmp_path).train(EVENTS).version
    with pytest.raises(ModelProblem):
        switch_model(settings(tmp_path), "v20990101T000000000000Z")
    assert current(tmp_path) == good


def test_load_trainer_builds_a_trainer_that_writes_where_load_scorer_reads(tmp_path):
    info = load_trainer(settings(tmp_path)).train(EVENTS)
    assert load_scorer(settings(tmp_path)).model_version == info.version
