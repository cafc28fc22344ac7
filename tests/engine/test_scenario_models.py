"""Scenario data: validation at registration, verdict weights, and resolution precedence."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from together_eval_emulator.engine._memory_store import MemoryStore
from together_eval_emulator.engine._rulebooks import ScenarioRules
from together_eval_emulator.engine._scenarios import (
    CreateContext,
    Match,
    Outcome,
    Progression,
    Scenario,
    ScenarioBook,
    ScenarioEntry,
    lookup,
    verdict_weights,
)
from together_eval_emulator.http._wire import ClassifyParameters, CompareParameters, ScoreParameters

JUDGE = {"model": "judge-model", "model_source": "serverless", "system_template": "t"}


def ctx(**overrides: object) -> CreateContext:
    values: dict[str, object] = dict(
        tenant_key="key-a",
        tenant_name=None,
        type="classify",
        parameters={"judge": JUDGE, "labels": ["good", "bad"]},
        file_id="file-1",
        filename="qa.jsonl",
    )
    values.update(overrides)
    return CreateContext(**values)  # type: ignore[arg-type]


def first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    return ".".join(map(str, error["loc"])), error["msg"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"mode": "durations", "polls": 2}, "polls"),
        ({"mode": "after_polls", "running": 3}, "running"),
        ({"mode": "after_polls", "polls": -1}, "polls"),
        ({"mode": "sometimes"}, "mode"),
        ({"mode": "durations", "queued": -1}, "queued"),
    ],
)
def test_progression_rejects_fields_of_another_mode(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Progression.model_validate(data)
    assert first_error(info.value)[0] == field


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "completed", "at": "queued"}, "at"),
        ({"kind": "stall", "message": "x"}, "message"),
        ({"kind": "error", "pass_percentage": 50}, "pass_percentage"),
        ({"kind": "completed", "pass_percentage": 50, "label_weights": {"good": 1}}, "label_weights"),
        ({"kind": "completed", "compare_weights": {"A": 0, "B": 0}}, "compare_weights"),
        ({"kind": "error", "judge_fail_rate": 0.5}, "judge_fail_rate"),
        ({"kind": "completed", "judge_fail_rate": 1.5}, "judge_fail_rate"),
        ({"kind": "completed", "colour": "red"}, "colour"),
    ],
)
def test_outcome_validation_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Outcome.model_validate(data)
    assert first_error(info.value)[0] == field


def test_outcome_phase_defaults_to_running() -> None:
    assert Outcome(kind="error").phase == "running"
    assert Outcome(kind="stall", at="queued").phase == "queued"


def test_polls_per_phase() -> None:
    progression = Progression(mode="after_polls", polls={"queued": 3})
    assert [progression.polls_for(s) for s in ("pending", "queued", "running")] == [1, 3, 1]
    assert Progression(mode="after_polls", polls=2).polls_for("running") == 2


def test_verdict_weights_per_type() -> None:
    classify = ClassifyParameters.model_validate(
        {"input_data_file_path": "f", "judge": JUDGE, "labels": ["a", "b"], "pass_labels": ["a"]}
    )
    assert verdict_weights(Outcome(pass_percentage=80), classify).pass_share == pytest.approx(0.8)
    assert verdict_weights(Outcome(label_weights={"b": 1}), classify).label_weights == {"b": 1}
    score = ScoreParameters.model_validate(
        {"input_data_file_path": "f", "judge": JUDGE, "min_score": 1, "max_score": 11, "pass_threshold": 5}
    )
    weights = verdict_weights(Outcome(score_mean=6, score_spread=0), score)
    assert weights.score_mean == pytest.approx(0.5) and weights.score_spread == 0
    compare = CompareParameters.model_validate({"input_data_file_path": "f", "judge": JUDGE})
    weights = verdict_weights(Outcome(compare_weights={"A": 3, "B": 1, "Tie": 4}), compare)
    assert weights.agreement == pytest.approx(0.5) and weights.a_share == pytest.approx(0.75)
    failing = verdict_weights(Outcome(generation_fail_rate=0.1, judge_fail_rate=0.2, invalid_rate=0.3), compare)
    assert (failing.generation_fail_rate, failing.judge_fail_rate, failing.invalid_rate) == (0.1, 0.2, 0.3)


def test_lookup_dotted_paths() -> None:
    data = {"judge": {"model": "m"}, "labels": ["x", "y"]}
    assert lookup(data, "judge.model") == (True, "m")
    assert lookup(data, "labels.1") == (True, "y")
    assert lookup(data, "judge.nope") == (False, None)


def test_match_fields() -> None:
    assert Match().matches(ctx())
    assert Match(
        type="classify",
        judge_model="judge-*",
        model_source="serverless",
        file_id="file-1",
        filename="*.jsonl",
        tenant="key-a",
        parameters={"labels.0": "good"},
    ).matches(ctx())
    assert Match(tenant="team-a").matches(ctx(tenant_name="team-a"))
    for miss in (
        Match(type="score"),
        Match(judge_model="other"),
        Match(model_source="external"),
        Match(file_id="file-2"),
        Match(filename="*.csv"),
        Match(tenant="key-b"),
        Match(parameters={"labels.0": "bad"}),
        Match(parameters={"nope": 1}),
    ):
        assert not miss.matches(ctx()), miss


def test_resolution_precedence_field_by_field() -> None:
    book = ScenarioRules(MemoryStore())
    book.load(
        ScenarioBook(
            default=Scenario(progression=Progression(mode="immediate")),
            types={"classify": Scenario(outcome=Outcome(kind="stall"))},
        )
    )
    base = Scenario(progression=Progression(), outcome=Outcome())
    resolved = book.resolve(ctx(), magic=None, base=base)
    assert resolved.progression.mode == "immediate" and resolved.outcome.kind == "stall"
    assert resolved.source == {"progression": "default", "outcome": "type:classify"}

    rule = book.add(ScenarioEntry(match=Match(judge_model="judge-model"), outcome=Outcome(kind="error")))
    nxt = book.add(ScenarioEntry(times=1, progression=Progression(mode="manual")))
    resolved = book.resolve(ctx(), magic=None, base=base)
    assert resolved.source == {"progression": f"scenario:{nxt.id}", "outcome": f"scenario:{rule.id}"}
    assert [e.id for e in book.book().entries] == [rule.id]  # the next-1 entry is used up

    magic = Scenario(outcome=Outcome(kind="user_error"))
    resolved = book.resolve(ctx(), magic=magic, base=base)
    assert resolved.outcome.kind == "user_error" and resolved.source["outcome"] == "magic"
    resolved = book.resolve(ctx(type="score"), magic=None, base=base)
    assert resolved.source == {"progression": "default", "outcome": f"scenario:{rule.id}"}


def test_next_n_entries_apply_in_order_and_only_when_matching() -> None:
    book = ScenarioRules(MemoryStore())
    base = Scenario(progression=Progression(), outcome=Outcome())
    first = book.add(ScenarioEntry(times=2, match=Match(type="score"), outcome=Outcome(kind="error")))
    second = book.add(ScenarioEntry(times=1, outcome=Outcome(kind="stall")))
    kinds = [
        book.resolve(ctx(type=t), magic=None, base=base).outcome.kind for t in ("classify", "score", "score", "score")
    ]
    assert kinds == ["stall", "error", "error", "completed"]
    assert book.book().entries == [] and first.id != second.id
    assert book.remove("scn-404") is None
