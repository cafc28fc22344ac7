"""Benchmark scores of documented-API jobs (see `_api.py`), derived from per-row verdicts.

Three seeded ingredients, each a pure function of the emulator seed and of names, never of time
or order:

* a model's *skill* on a dataset sets the verdict distribution of its job (the share of rows the
  judge passes), so different models get different, stable results and can be ranked;
* the judge model's two *error rates* (false pass, false fail), between 3% and 12%;
* each row's *model answer*: the reference answer when the model got the row right, otherwise a
  plausible wrong answer (another option, or another row's reference answer of the same
  category). Whether the model got it right follows the judge's verdict, except that the judge
  errs at its error rates.

`metrics` compare the judge's verdict (the prediction) with the reference check of the model's
answer (the ground truth); the README's "Metrics" section states every formula.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..engine._datasets import Dataset, canonical
from ..engine._parameters import ClassifyParameters, ScoreParameters
from ..engine._results import DEFAULT_OUTCOME, Judge, Outcome, RowVerdict

SKILL_RANGE = (0.30, 0.95)
JUDGE_ERROR_RANGE = (0.03, 0.12)
DIGITS = 4  # metrics are rounded to 4 decimals
_SIZE = re.compile(r"(?<![0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])", re.IGNORECASE)


def _uniform(*parts: object) -> float:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# ---------------------------------------------------------------- seeded ingredients


def parameter_count(model: str) -> float | None:
    """Billions of parameters named in a model id (`Llama-3.3-70B-…` → 70), or None."""
    sizes = [float(size) for size in _SIZE.findall(model)]
    return max(sizes) if sizes else None


def model_skill(seed: int, model: str, dataset: str) -> float:
    """The share of `model`'s answers on `dataset` the judge passes, in expectation.

    Seeded per model (±0.08) and per model and dataset (±0.04) around a base that grows with the
    parameter count in the name (3B ≈ 0.60, 70B ≈ 0.75, 405B ≈ 0.84; 0.68 without a count).
    """
    size = parameter_count(model)
    base = 0.68 if size is None else min(0.88, 0.55 + 0.11 * math.log10(max(size, 1.0)))
    value = (
        base + 0.16 * (_uniform(seed, "skill", model) - 0.5) + 0.08 * (_uniform(seed, "skill", model, dataset) - 0.5)
    )
    return round(min(max(value, SKILL_RANGE[0]), SKILL_RANGE[1]), DIGITS)


def skill_outcome(eval_type: str, seed: int, model: str, dataset: str, baseline: str | None) -> Outcome:
    """The verdict distribution of a documented-API job: the default one, moved by model skill."""
    skill = model_skill(seed, model, dataset)
    if eval_type == "classify":
        return replace(DEFAULT_OUTCOME, pass_share=skill)
    if eval_type == "score":
        return replace(DEFAULT_OUTCOME, score_mean=skill)
    rival = model_skill(seed, baseline or "", dataset)
    return replace(DEFAULT_OUTCOME, a_share=min(max(0.5 + 1.5 * (skill - rival), 0.05), 0.95))


def judge_error_rates(seed: int, judge_model: str) -> tuple[float, float]:
    """(false pass rate, false fail rate) of a judge model."""
    low, high = JUDGE_ERROR_RANGE
    return (
        low + (high - low) * _uniform(seed, "false-pass", judge_model),
        low + (high - low) * _uniform(seed, "false-fail", judge_model),
    )


# ---------------------------------------------------------------- per-row checks


@dataclass(frozen=True)
class RowCheck:
    judged_correct: bool  # the judge's verdict, as a binary prediction
    model_answer: str | None  # None when generation failed
    reference_match: bool  # model_answer == reference_answer: the ground truth


def judged_correct(judge: Judge, verdict: RowVerdict) -> bool:
    """classify: a pass label; score: score ≥ pass_threshold; compare: the model (A) wins or ties."""
    if not verdict.successful:
        return False
    params = judge.params
    if isinstance(params, ClassifyParameters):
        return verdict.label in params.pass_labels
    if isinstance(params, ScoreParameters):
        return verdict.score is not None and verdict.score >= params.pass_threshold
    return verdict.final_decision in ("A", "Tie")


def _answers_by_category(dataset: Dataset) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in dataset.rows():
        answers = found.setdefault(str(row.get("category", "")), [])
        answer = str(row.get("reference_answer", ""))
        if answer not in answers:
            answers.append(answer)
    return found


def _wrong_answer(row: dict[str, Any], reference: str, pool: dict[str, list[str]], u: float) -> str:
    options = row.get("options")
    candidates = [str(o) for o in options if str(o) != reference] if isinstance(options, list) else []
    if not candidates:
        candidates = [a for a in pool.get(str(row.get("category", "")), []) if a != reference]
    if not candidates:
        candidates = [a for answers in pool.values() for a in answers if a != reference]
    return candidates[int(u * len(candidates))] if candidates else "I don't know."


def row_checks(
    judge: Judge, dataset: Dataset, model: str, dataset_name: str, verdicts: Sequence[RowVerdict] | None = None
) -> list[tuple[RowVerdict, RowCheck]]:
    """Every row's verdict (`verdicts` when already drawn) with its reference check, in input order:
    `model`'s answers on the built-in dataset `dataset_name`."""
    seed = judge.seed
    false_pass, false_fail = judge_error_rates(seed, judge.params.judge.model)
    pool = _answers_by_category(dataset)
    checks = []
    for verdict in judge.verdicts(dataset) if verdicts is None else verdicts:
        passed = judged_correct(judge, verdict)
        reference = str(verdict.row.get("reference_answer", ""))
        answer: str | None = None
        if not verdict.generation_failed:
            key = canonical(verdict.row)
            u = _uniform(seed, "answer", model, dataset_name, key)
            right = u >= false_pass if passed else u < false_fail
            answer = (
                reference
                if right
                else _wrong_answer(verdict.row, reference, pool, _uniform(seed, "distractor", model, key))
            )
        checks.append((verdict, RowCheck(passed, answer, answer == reference)))
    return checks


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class CategorySummary:
    accuracy: float
    count: int


@dataclass(frozen=True)
class BenchmarkSummary:
    score: float
    accuracy: float
    precision: float
    recall: float
    f1_score: float
    categories: dict[str, CategorySummary]


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _score(judge: Judge, checks: list[tuple[RowVerdict, RowCheck]], accuracy: float) -> float:
    """classify: accuracy; score: mean normalised score; compare: win rate with ties as half."""
    params = judge.params
    successful = [verdict for verdict, _ in checks if verdict.successful]
    if isinstance(params, ClassifyParameters):
        return accuracy
    if isinstance(params, ScoreParameters):
        span = params.max_score - params.min_score
        return _ratio(
            sum((v.score - params.min_score) / span for v in successful if v.score is not None), len(successful)
        )
    wins = sum(v.final_decision == "A" for v in successful)
    ties = sum(v.final_decision == "Tie" for v in successful)
    return _ratio(wins + ties / 2, len(successful))


def summarize_checks(judge: Judge, checks: list[tuple[RowVerdict, RowCheck]]) -> BenchmarkSummary:
    total = len(checks)
    tp = sum(c.judged_correct and c.reference_match for _, c in checks)
    fp = sum(c.judged_correct and not c.reference_match for _, c in checks)
    fn = sum(not c.judged_correct and c.reference_match for _, c in checks)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    accuracy = _ratio(tp + fp, total)
    per_category: dict[str, list[bool]] = {}
    for verdict, check in checks:
        per_category.setdefault(str(verdict.row.get("category", "")), []).append(check.judged_correct)
    categories = {
        name: CategorySummary(round(_ratio(sum(flags), len(flags)), DIGITS), len(flags))
        for name, flags in sorted(per_category.items())
    }
    return BenchmarkSummary(
        score=round(_score(judge, checks, accuracy), DIGITS),
        accuracy=round(accuracy, DIGITS),
        precision=round(precision, DIGITS),
        recall=round(recall, DIGITS),
        f1_score=round(f1, DIGITS),
        categories=categories,
    )


CACHE_LIMIT = 1024  # summaries kept; cleared when full


class Summaries:
    """Benchmark summaries, each kept under what it is computed from: the judge's configuration
    (seed, parameters, verdict weights), the dataset's rows, the model and the dataset's name."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str, str], BenchmarkSummary] = {}

    def get(
        self, judge: Judge, dataset: Dataset, model: str, dataset_name: str, kinds: Sequence[str] | None = None
    ) -> BenchmarkSummary:
        """The documented score and metrics of `model`'s job on the built-in dataset `dataset_name`, from
        the verdicts its result file shows (`kinds`: each row's verdict forced, a replay's)."""
        if kinds is not None:  # a replay (rare, and its verdicts are not in the key): made each time
            verdicts = list(judge.verdicts(dataset, kinds))
            return summarize_checks(judge, row_checks(judge, dataset, model, dataset_name, verdicts))
        if judge.cache_key is None:  # a judge with no key of its own: nothing safe to cache under
            return summarize_checks(judge, row_checks(judge, dataset, model, dataset_name))
        key = (judge.cache_key, dataset.fingerprint, model, dataset_name)
        summary = self._entries.get(key)
        if summary is None:
            summary = summarize_checks(judge, row_checks(judge, dataset, model, dataset_name))
            if len(self._entries) >= CACHE_LIMIT:
                self._entries.clear()
            self._entries[key] = summary
        return summary


def result_fields(checks: list[tuple[RowVerdict, RowCheck]]) -> list[dict[str, Any]]:
    """The result-file fields of a documented-API job's rows: `judged_correct`, `model_answer` and
    `reference_match`, from which every documented metric can be recomputed."""
    return [
        {
            "judged_correct": check.judged_correct,
            "model_answer": check.model_answer,
            "reference_match": check.reference_match,
        }
        for _, check in checks
    ]
