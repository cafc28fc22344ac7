"""Magic inputs: reserved judge model names that pick a scenario from the request itself, for
clients that cannot reach the control plane (Stripe's test card numbers, for evaluations).

`parameters.judge.model = "emulator/<directive>[+<directive>...]"`, for example
`emulator/error@queued`, `emulator/judge-fail-40`, `emulator/pass-80+polls-2`. The full list is in
`DIRECTIVES` and in the README. An unknown directive is a 400 naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ._errors import InvalidRequest
from ._first_error import first_error
from ._parameters import ClassifyParameters, CompareParameters, ScoreParameters
from ._scenarios import RECORDING_NAME, Outcome, Progression, Scenario

PREFIX = "emulator/"
FIELD = "parameters.judge.model"
_NUMBER = r"(\d+(?:\.\d+)?)"
_PHASE = r"(?:@(pending|queued|running))?"

# directive pattern -> (what it sets, meaning)
DIRECTIVES: dict[str, str] = {
    "completed": "outcome: completed (the default)",
    "error[@phase]": "outcome: error in the phase (default running)",
    "user_error[@phase]": "outcome: user_error in the phase (default running)",
    "stall[@phase]": "outcome: never leave the phase (default running)",
    "preempt[-N]": "outcome: fall back running → queued N times (default 1) first",
    "pass-P": "classify: P% of rows get a pass label",
    "mean-X / spread-X": "score: mean and standard deviation, in score units",
    "wins-A-B-T": "compare: A/B/Tie weights",
    "gen-fail-P / judge-fail-P / invalid-P": "P% of rows fail generation / judging / get an invalid verdict",
    "immediate / manual / polls-N / durations-P-Q-R": "progression (seconds for pending, queued, running)",
    "replay:NAME": "replay the recording NAME as it was (alone: no other directive)",
}
_REPLAY = "replay:"

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(f"^{pattern}$"), name)
    for pattern, name in [
        ("completed", "completed"),
        (f"(error|user_error|stall){_PHASE}", "end"),
        (r"preempt(?:-(\d+))?", "preempt"),
        (f"pass-{_NUMBER}", "pass"),
        (f"mean-(-?{_NUMBER[1:-1]})", "mean"),
        (f"spread-{_NUMBER}", "spread"),
        (f"wins-{_NUMBER}-{_NUMBER}-{_NUMBER}", "wins"),
        (f"(gen-fail|judge-fail|invalid)-{_NUMBER}", "rate"),
        ("(immediate|manual)", "mode"),
        (r"polls-(\d+)", "polls"),
        (f"durations-{_NUMBER}-{_NUMBER}-{_NUMBER}", "durations"),
    ]
]
_RATE_FIELDS = {"gen-fail": "generation_fail_rate", "judge-fail": "judge_fail_rate", "invalid": "invalid_rate"}


def _unknown(model: str, directive: str) -> InvalidRequest:
    known = "; ".join(f"{name} ({meaning})" for name, meaning in DIRECTIVES.items())
    return InvalidRequest(
        f"Unknown magic directive '{directive}' in {FIELD} '{model}'. Magic judge models are "
        f"'{PREFIX}' followed by directives joined with '+': {known}.",
        param=FIELD,
    )


def recording_of(params: ClassifyParameters | ScoreParameters | CompareParameters) -> str | None:
    """The recording a magic judge model `emulator/replay:<name>` asks to replay, or None."""
    model = params.judge.model
    if not model.startswith(PREFIX):
        return None
    directives = model[len(PREFIX) :].split("+")
    named = [directive[len(_REPLAY) :] for directive in directives if directive.startswith(_REPLAY)]
    if not named:
        return None
    if len(directives) > 1:
        raise InvalidRequest(
            f"Magic judge model '{model}' ({FIELD}): '{_REPLAY}<name>' replays a recording as it was and takes no "
            "other directive.",
            param=FIELD,
        )
    if not re.fullmatch(RECORDING_NAME, named[0]):
        raise InvalidRequest(
            f"Magic judge model '{model}' ({FIELD}) names no recording: a name is letters, digits, '.', '_' and '-'.",
            param=FIELD,
        )
    return named[0]


def scenario_of(params: ClassifyParameters | ScoreParameters | CompareParameters) -> Scenario | None:
    """The scenario a magic judge model asks for, or None for an ordinary model (and for a replay:
    `recording_of`)."""
    model = params.judge.model
    if not model.startswith(PREFIX) or recording_of(params) is not None:
        return None
    outcome: dict[str, Any] = {}
    progression: dict[str, Any] = {}
    for directive in model[len(PREFIX) :].split("+"):
        found = next(((match, name) for rule, name in _RULES if (match := rule.match(directive))), None)
        if found is None:
            raise _unknown(model, directive)
        match, name = found
        groups = match.groups()
        if name == "completed":
            outcome["kind"] = "completed"
        elif name == "end":
            outcome["kind"] = groups[0]
            if groups[1]:
                outcome["at"] = groups[1]
            if groups[0] != "stall":
                outcome["message"] = f"Emulated {groups[0]} requested by the magic judge model '{model}'."
        elif name == "preempt":
            outcome["preemptions"] = int(groups[0] or 1)
        elif name == "pass":
            outcome["pass_percentage"] = float(groups[0])
        elif name in ("mean", "spread"):
            outcome[f"score_{name}"] = float(groups[0])
        elif name == "wins":
            outcome["compare_weights"] = dict(zip(("A", "B", "Tie"), map(float, groups), strict=False))
        elif name == "rate":
            outcome[_RATE_FIELDS[groups[0]]] = float(groups[1]) / 100
        elif name == "mode":
            progression["mode"] = groups[0]
        elif name == "polls":
            progression.update(mode="after_polls", polls=int(groups[0]))
        else:
            progression.update(
                mode="durations", pending=float(groups[0]), queued=float(groups[1]), running=float(groups[2])
            )
    try:
        return Scenario(
            progression=Progression(**progression) if progression else None,
            outcome=Outcome(**outcome) if outcome else None,
        )
    except ValidationError as exc:
        raise InvalidRequest(
            f"Magic judge model '{model}' ({FIELD}) combines directives that do not fit: {first_error(exc).message}.",
            param=FIELD,
        ) from None
