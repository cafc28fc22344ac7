"""The results engine: per-row verdicts from a seeded hash, and everything derived from them.

A row's verdict is a pure function of (seed, job configuration, row content), so the same
dataset and parameters give the same labels, scores and winners in any order and on any face.
Aggregates (`results`) and the result file are both computed from the same verdicts
(docs/reference/results.md#results, docs/reference/results.md#result-file).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._datasets import Dataset, canonical, paused_gc
from ._pacing import pace
from ._parameters import ClassifyParameters, CompareParameters, ModelRequest, ScoreParameters
from ._templates import render
from ._textgen import sentences

FAILED_ROWS_LIMIT = 0.30  # "if more than 30% of rows fail generation or judging, the job itself fails"
# Forced verdicts of failed rows (`Judge.verdict(forced=...)`); a NUL keeps them apart from any label.
GENERATION_FAILED, JUDGE_FAILED, INVALID = "\x00generation_failed", "\x00judge_failed", "\x00invalid"
FAILURE_KINDS = (GENERATION_FAILED, JUDGE_FAILED, INVALID)


@dataclass(frozen=True)
class Outcome:
    """How verdicts are distributed and how often rows fail (scenarios change these)."""

    pass_share: float = 0.75  # classify: probability mass of the pass labels
    label_weights: dict[str, float] | None = None  # classify: explicit weights per label
    score_mean: float = 0.65  # score: mean as a fraction of the range
    score_spread: float = 0.2  # score: spread as a fraction of the range
    a_share: float = 0.55  # compare: P(original pass picks A)
    agreement: float = 0.75  # compare: P(flipped pass agrees with the original)
    generation_fail_rate: float = 0.0
    judge_fail_rate: float = 0.0
    invalid_rate: float = 0.0


DEFAULT_OUTCOME = Outcome()


_words = struct.Struct(">8Q").unpack  # a 64-byte digest as eight 64-bit words
_UNIT = 2.0**-64
_row_json = json.JSONEncoder(ensure_ascii=False).encode
_OTHER = {"A": "B", "B": "A"}


def plain_number(value: float) -> float | int:
    """Integral floats are written without `.0` (docs/wire-contract.md#decision-results-format)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sorted_results(results: dict[str, Any]) -> dict[str, Any]:
    """Keys of `results` and nested objects in byte-sorted order, integral floats as ints
    (docs/wire-contract.md#decision-results-format)."""
    return {
        key: sorted_results(value) if isinstance(value, dict) else plain_number(value)
        for key, value in sorted(results.items(), key=lambda item: item[0].encode())
    }


@dataclass(slots=True)
class RowVerdict:
    row: dict[str, Any]
    generated: dict[str, str | None] = field(default_factory=dict)  # output column -> text
    successful: bool = True
    generation_failed: bool = False
    judge_failures: int = 0
    invalid: bool = False
    label: str | None = None
    score: float | int | None = None
    choice_original: str | None = None
    choice_flipped: str | None = None
    final_decision: str = ""
    feedback: str | None = None
    feedback_flipped: str | None = None


class Judge:
    """Computes the verdict of every row of one job."""

    def __init__(
        self,
        eval_type: str,
        params: ClassifyParameters | ScoreParameters | CompareParameters,
        seed: int,
        outcome: Outcome = DEFAULT_OUTCOME,
        cache_key: str | None = None,
    ) -> None:
        self.cache_key = cache_key  # what identical judges are shared under (jobs.shared), if anything
        self.type = eval_type
        self.params = params
        self.seed = seed
        self.outcome = outcome
        config = params.model_dump(exclude={"input_data_file_path"})
        self._key = f"{seed}\x1f{eval_type}\x1f{canonical(config)}\x1f".encode()
        self._models = self._generators()
        self._model_keys = {
            column: f"{seed}\x1f{canonical(model.model_dump())}\x1f" for column, model in self._models.items()
        }
        self._single_pass = bool(getattr(params, "disable_position_bias_correction", False))
        self._may_fail = bool(outcome.generation_fail_rate or outcome.judge_fail_rate or outcome.invalid_rate)
        if isinstance(params, ClassifyParameters):
            self._label_cdf = self._classify_cdf(params)
            self._label_edges = [edge for edge, _ in self._label_cdf]
            self._pass_labels = frozenset(params.pass_labels)
        if isinstance(params, ScoreParameters):
            self._integer_scores = all(float(x).is_integer() for x in (params.min_score, params.max_score))

    # ------------------------------------------------------------ configuration

    def _generators(self) -> dict[str, ModelRequest]:
        """Output column -> model that generates it, for object-valued model fields."""
        fields = {
            "model_to_evaluate": "MODEL_TO_EVALUATE_OUTPUT",
            "model_a": "MODEL_TO_EVALUATE_OUTPUT_A",
            "model_b": "MODEL_TO_EVALUATE_OUTPUT_B",
        }
        return {
            column: value
            for name, column in fields.items()
            if isinstance(value := getattr(self.params, name, None), ModelRequest)
        }

    def _classify_cdf(self, params: ClassifyParameters) -> list[tuple[float, str]]:
        weights = self.outcome.label_weights
        if weights is None:
            passing = [label for label in params.labels if label in params.pass_labels]
            failing = [label for label in params.labels if label not in params.pass_labels]
            share = self.outcome.pass_share if failing else 1.0
            weights = {label: share / len(passing) for label in passing}
            weights.update({label: (1 - share) / len(failing) for label in failing})
        total = sum(weights.get(label, 0.0) for label in params.labels) or 1.0
        cdf, running = [], 0.0
        for label in params.labels:
            running += weights.get(label, 0.0) / total
            cdf.append((running, label))
        return cdf

    # ------------------------------------------------------------ verdicts

    def verdicts(
        self, dataset: Dataset, kinds: Sequence[str] | None = None, *, text: bool = True
    ) -> Iterator[RowVerdict]:
        """Each row's verdict, in input order; `kinds` forces each row's (`verdict(forced=...)`)."""
        verdict = self.verdict
        if kinds is None:
            for row, key in zip(dataset.rows, dataset.row_keys, strict=False):
                pace()
                yield verdict(row, key, text=text)
            return
        for row, key, kind in zip(dataset.rows, dataset.row_keys, kinds, strict=True):
            pace()
            yield verdict(row, key, text=text, forced=kind)

    def verdict(
        self, row: dict[str, Any], row_key: bytes | None = None, *, text: bool = True, forced: str | None = None
    ) -> RowVerdict:
        """The verdict of one row; `row_key` is its canonical JSON, when already known.
        Without `text`, feedback and generated responses are left out (aggregates need none).
        `forced` decides the verdict instead of the seeded draw (a replayed recording's rows,
        `replay_kinds`): a failure kind, a label, `pass` / `fail` (score) or `A` / `B` / `Tie`."""
        key = canonical(row).encode() if row_key is None else row_key
        words = _words(hashlib.blake2b(self._key + key, digest_size=64).digest())
        verdict = RowVerdict(row=row)
        if self._models:
            verdict.generated = {
                column: self._generate(model, row, column) if text else "" for column, model in self._models.items()
            }
        outcome = self.outcome
        if self._may_fail or forced in FAILURE_KINDS:
            if forced == GENERATION_FAILED or (
                forced is None and self._models and words[5] * _UNIT < outcome.generation_fail_rate
            ):
                verdict.generation_failed = True
                verdict.generated = {column: None for column in verdict.generated}
            elif forced == JUDGE_FAILED or (forced is None and words[6] * _UNIT < outcome.judge_fail_rate):
                verdict.judge_failures = 1 if self.type != "compare" or self._single_pass else 2
            elif forced == INVALID or (
                forced is None and words[7] * _UNIT < outcome.invalid_rate and self.type != "compare"
            ):
                verdict.invalid = True
            if verdict.generation_failed or verdict.judge_failures or verdict.invalid:
                verdict.successful = False
                return verdict
        u0 = words[0] * _UNIT
        if self.type == "classify":
            index = bisect_right(self._label_edges, u0)
            label = verdict.label = forced or self._label_cdf[min(index, len(self._label_cdf) - 1)][1]
            if text:
                verdict.feedback = _feedback(label in self._pass_labels, label, words[6] << 64 | words[7], self.seed)
        elif self.type == "score":
            score = verdict.score = self._forced_score(self._score(u0, words[1] * _UNIT), forced)
            if text:
                passed = score >= self.params.pass_threshold  # type: ignore[union-attr]
                verdict.feedback = _feedback(passed, f"a score of {score}", words[6] << 64 | words[7], self.seed)
        else:
            original = "A" if u0 < outcome.a_share else "B"
            original = verdict.choice_original = forced if forced in _OTHER else original
            if text:
                verdict.feedback = _compare_feedback(original, words[6] << 64 | words[7], self.seed)
            if self._single_pass:
                verdict.final_decision = original
            else:
                agrees = words[1] * _UNIT < outcome.agreement if forced is None else forced != "Tie"
                flipped = original if agrees else _OTHER[original]
                verdict.choice_flipped = flipped
                # The flipped pass saw A and B swapped: its own words name the other letter.
                if text:
                    verdict.feedback_flipped = _compare_feedback(
                        _OTHER[flipped], (words[6] << 64 | words[7]) >> 40, self.seed
                    )
                verdict.final_decision = original if original == flipped else "Tie"
        return verdict

    def _score(self, u0: float, u1: float) -> float | int:
        params: ScoreParameters = self.params  # type: ignore[assignment]
        low, high = params.min_score, params.max_score
        span = high - low
        # Triangular noise around the mean: bounded, seeded, cheap.
        value = low + span * (self.outcome.score_mean + self.outcome.score_spread * (u0 + u1 - 1) * 1.7)
        if math.isnan(value):  # a spread so wide against a range so narrow that inf * 0 came up
            value = low
        value = min(max(value, low), high)
        if self._integer_scores:
            return int(round(value))
        return round(value, 2)

    def _forced_score(self, score: float | int, forced: str | None) -> float | int:
        """A drawn score moved to the passing side (`pass`) or the failing side (`fail`) of the
        threshold when it is on the other one."""
        params: ScoreParameters = self.params  # type: ignore[assignment]
        threshold = params.pass_threshold
        if forced == "pass" and score < threshold:
            return plain_number(min(threshold, params.max_score))
        if forced == "fail" and score >= threshold:
            below = threshold - 1 if self._integer_scores else round(threshold - 0.01, 2)
            return plain_number(max(below, params.min_score))
        return score

    def _generate(self, model: ModelRequest, row: dict[str, Any], column: str) -> str:
        prompt = render(model.input_template, row)
        digest = hashlib.blake2b(f"{self._model_keys[column]}{prompt}".encode(), digest_size=16).digest()
        bits = int.from_bytes(digest, "big")
        return sentences(self.seed, bits, 2 + bits % 3)


def _feedback(passed: bool, verdict: str, bits: int, seed: int) -> str:
    lead = "The response meets the criteria" if passed else "The response falls short of the criteria"
    return f"{lead}, so it receives {verdict}. {sentences(seed, bits, 1)}"


def _compare_feedback(winner: str, bits: int, seed: int) -> str:
    return f"Response {winner} is better. {sentences(seed, bits, 1)}"


# ---------------------------------------------------------------- aggregates (docs/reference/results.md#results)


def is_job_failure(failed_rows: int, total_rows: int) -> bool:
    return total_rows > 0 and failed_rows / total_rows > FAILED_ROWS_LIMIT


def summarize(judge: Judge, dataset: Dataset) -> tuple[dict[str, Any], int]:
    """The `results` object without `result_file_id`, and the number of failed rows."""
    n = len(dataset.rows)
    generation_fails = judge_fails = invalid = failed_rows = 0
    labels: dict[str, int] = {}
    scores: list[float] = []
    passes = 0
    wins = {"A": 0, "B": 0, "Tie": 0}
    params = judge.params
    if isinstance(params, ClassifyParameters):
        labels = {label: 0 for label in params.labels}
    with paused_gc():
        for verdict in judge.verdicts(dataset, text=False):
            generation_fails += verdict.generation_failed
            judge_fails += verdict.judge_failures
            invalid += verdict.invalid
            if not verdict.successful:
                failed_rows += 1
                continue
            if verdict.label is not None:
                labels[verdict.label] += 1
                passes += verdict.label in params.pass_labels  # type: ignore[union-attr]
            elif verdict.score is not None:
                scores.append(verdict.score)
                passes += verdict.score >= params.pass_threshold  # type: ignore[union-attr]
            else:
                wins[verdict.final_decision] += 1
    if isinstance(params, ClassifyParameters):
        results: dict[str, Any] = {
            "generation_fail_count": generation_fails,
            "invalid_label_count": invalid,
            "judge_fail_count": judge_fails,
            "label_counts": labels,
            "pass_percentage": 100 * passes / n,
        }
    elif isinstance(params, ScoreParameters):
        mean = sum(scores) / len(scores) if scores else 0.0
        std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores)) if scores else 0.0
        results = {
            "aggregated_scores": {"mean_score": mean, "pass_percentage": 100 * passes / n, "std_score": std},
            "failed_samples": failed_rows,
            "generation_fail_count": generation_fails,
            "invalid_score_count": invalid,
            "judge_fail_count": judge_fails,
        }
    else:
        results = {
            "A_wins": wins["A"],
            "B_wins": wins["B"],
            "Ties": wins["Tie"],
            "generation_fail_count": generation_fails,
            "judge_fail_count": judge_fails,
        }
    return results, failed_rows


# ---------------------------------------------------------------- result file rows


def result_row(judge: Judge, verdict: RowVerdict) -> dict[str, Any]:
    row = dict(verdict.row)
    if judge.type in ("classify", "score"):
        if "MODEL_TO_EVALUATE_OUTPUT" in verdict.generated:
            row["MODEL_TO_EVALUATE_OUTPUT"] = verdict.generated["MODEL_TO_EVALUATE_OUTPUT"]
        row["evaluation_successful"] = verdict.successful
        key = "label" if judge.type == "classify" else "score"
        row[key] = verdict.label if judge.type == "classify" else verdict.score
        if verdict.feedback is not None:
            row["feedback"] = verdict.feedback
        return row
    if "MODEL_TO_EVALUATE_OUTPUT_A" in verdict.generated:
        row["MODEL_TO_EVALUATE_OUTPUT_A"] = verdict.generated["MODEL_TO_EVALUATE_OUTPUT_A"]
    row["evaluation_successful"] = verdict.successful
    if "MODEL_TO_EVALUATE_OUTPUT_B" in verdict.generated:
        row["MODEL_TO_EVALUATE_OUTPUT_B"] = verdict.generated["MODEL_TO_EVALUATE_OUTPUT_B"]
    row["choice_original"] = verdict.choice_original
    if verdict.feedback is not None:
        row["judge_feedback_original_order"] = verdict.feedback
    if not judge._single_pass:
        row["choice_flipped"] = verdict.choice_flipped
        if verdict.feedback_flipped is not None:
            row["judge_feedback_flipped_order"] = verdict.feedback_flipped
    row["final_decision"] = verdict.final_decision
    row["is_incomplete"] = not verdict.successful
    return row


LINES_PER_CHUNK = 1024  # rows joined and encoded at a time: all at once would hold the GIL long


def result_file(judge: Judge, dataset: Dataset, kinds: list[str] | None = None) -> bytes:
    """The JSONL result file: one row per input row, in input order (docs/wire-contract.md#decision-result-file).
    `kinds` forces each row's verdict (a replayed recording's rows: `replay_kinds`)."""
    chunks: list[bytes] = []
    lines: list[str] = []
    with paused_gc():
        for verdict in judge.verdicts(dataset, kinds):
            lines.append(_row_json(result_row(judge, verdict)))
            if len(lines) == LINES_PER_CHUNK:
                chunks.append(("\n".join(lines) + "\n").encode())
                lines = []
    if lines or not chunks:
        chunks.append(("\n".join(lines) + "\n").encode())
    return b"".join(chunks)


def jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    """Result rows as a result file's bytes (the same encoding as `result_file`)."""
    with paused_gc():
        lines = [_row_json(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------- a recording's rows (docs/recordings.md)


def _count(results: dict[str, Any], key: str) -> int:
    value = results.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        raise ValueError(f"results.{key} is {value!r}, not a count")
    return int(value)


def _label_counts(results: dict[str, Any]) -> dict[str, int]:
    counts = results.get("label_counts") or {}
    if isinstance(counts, str):  # the form the API reference declares
        try:
            counts = json.loads(counts)
        except ValueError:
            raise ValueError("results.label_counts is not a JSON object") from None
    if not isinstance(counts, dict):
        raise ValueError("results.label_counts is not an object")
    return {str(label): _count(counts, label) for label in counts}


def replay_kinds(judge: Judge, dataset: Dataset, results: dict[str, Any]) -> list[str]:
    """Each row's forced verdict (`Judge.verdict(forced=...)`) so that the rows add up to the
    recorded `results`: as many failures of each kind, labels, passes or winners as counted.
    Which row gets which is a seeded shuffle of the rows. Raises ValueError saying why the
    counts cannot fit the rows and parameters."""
    n = len(dataset.rows)
    kinds = [GENERATION_FAILED] * _count(results, "generation_fail_count")
    judge_fails = _count(results, "judge_fail_count")
    if judge.type == "compare" and not judge._single_pass:
        if judge_fails % 2:
            raise ValueError(f"results.judge_fail_count is {judge_fails}: odd, but each failed row counts twice")
        judge_fails //= 2
    kinds += [JUDGE_FAILED] * judge_fails
    params = judge.params
    if isinstance(params, ClassifyParameters):
        kinds += [INVALID] * _count(results, "invalid_label_count")
        counts = _label_counts(results)
        unknown = sorted(set(counts) - set(params.labels))
        if unknown and any(counts[label] for label in unknown):
            raise ValueError(f"results.label_counts names {unknown}, not among the job's labels {params.labels}")
        for label in params.labels:
            kinds += [label] * counts.get(label, 0)
        passing = sum(counts.get(label, 0) for label in params.pass_labels)
    elif isinstance(params, ScoreParameters):
        kinds += [INVALID] * _count(results, "invalid_score_count")
        failed = len(kinds)
        if "failed_samples" in results and _count(results, "failed_samples") != failed:
            recorded = results["failed_samples"]
            raise ValueError(f"results.failed_samples is {recorded}, the failure counts add up to {failed}")
        share = (results.get("aggregated_scores") or {}).get("pass_percentage", 0)
        passing = round(share * n / 100) if isinstance(share, int | float) else -1
        if passing < 0 or passing > n - failed or not math.isclose(passing * 100 / n, share, abs_tol=1e-6):
            raise ValueError(f"aggregated_scores.pass_percentage {share!r} is no whole number of {n} rows passing")
        if n - failed - passing and params.pass_threshold <= params.min_score:
            scale = f"{params.min_score}..{params.max_score}"
            raise ValueError(f"no score of {scale} fails pass_threshold {params.pass_threshold}")
        kinds += ["pass"] * passing + ["fail"] * (n - failed - passing)
    else:
        ties = _count(results, "Ties")
        if ties and judge._single_pass:
            raise ValueError(f"results.Ties is {ties}, but with disable_position_bias_correction no row ties")
        kinds += ["A"] * _count(results, "A_wins") + ["B"] * _count(results, "B_wins") + ["Tie"] * ties
    if len(kinds) != n:
        raise ValueError(f"the recorded counts add up to {len(kinds)} rows, the dataset has {n}")
    if isinstance(params, ClassifyParameters):
        share = results.get("pass_percentage", 0)
        if not isinstance(share, int | float) or not math.isclose(passing * 100 / n, share, abs_tol=1e-6):
            raise ValueError(
                f"pass_percentage is {share!r}, but {passing} of {n} rows have a pass label {params.pass_labels}"
            )
    order = sorted(range(n), key=lambda i: hashlib.blake2b(judge._key + b"replay\x1f" + dataset.row_keys[i]).digest())
    placed = [""] * n
    for index, kind in zip(order, kinds, strict=True):
        placed[index] = kind
    return placed
