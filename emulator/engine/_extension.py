"""The engine's side of the extension point: what an add-on may change in a job.

An add-on (the documented API is one) is an `Extension` registered with the engine
(`Engine(config, extensions=[...])`). The engine never names an add-on: it calls these hooks for the
jobs that carry the add-on's data, and leaves every other job alone.

A job carries an add-on's data in `Job.extensions[name]`: JSON-ready values the add-on chose when it
created the job (`Jobs.create(..., extensions={name: data})`). The data goes into state snapshots
as it is, so a persistent store keeps it the same way; on import the add-on checks it
(`import_data`). Whatever an add-on derives from a job (its verdicts, its result-file columns, its
view fields) is a function of the job record and this data, never stored beside them.

The HTTP side of the same extension point (routes, create bodies, view fields) is
`http._extension.ApiExtension`, a subclass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest

if TYPE_CHECKING:
    from ._parameters import ClassifyParameters, CompareParameters, ScoreParameters
    from ._results import Outcome, RowVerdict
    from ._store import Job


class Extension:
    """An add-on the engine calls back. Every hook has a neutral default, so an add-on overrides
    only what it changes. `name` keys its data on jobs and in snapshots: unique among the
    extensions of one engine."""

    name: str = ""

    def verdict_weights(
        self,
        eval_type: str,
        params: ClassifyParameters | ScoreParameters | CompareParameters,
        seed: int,
        data: Any,
        weights: Outcome,
    ) -> Outcome:
        """The verdict distribution of a job carrying `data`, given the one its scenarios chose
        (`weights`). Called whenever the job's judge is built: at creation, when a scenario is
        attached to it, and when it is imported from a snapshot; so it must be a pure function of
        its arguments."""
        return weights

    def result_fields(self, job: Job, data: Any, verdicts: Sequence[RowVerdict]) -> list[dict[str, Any]] | None:
        """Extra fields for each row of the job's result file (one dict per verdict, in input
        order, added after the real fields), or None for none."""
        return None

    def import_data(self, data: Any) -> Any:
        """The job data of a snapshot being imported, checked: raise `InvalidRequest` (its `param`
        a path inside the data, if any) or `ValueError` naming the problem. Returns what the job
        keeps; exporting it again must give the same data."""
        return data


def check_names(extensions: Sequence[Extension]) -> tuple[Extension, ...]:
    """The extensions of one engine, each with its own non-empty name."""
    names = [extension.name for extension in extensions]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise ValueError(f"every extension needs its own non-empty name, got {names}")
    return tuple(extensions)


def attached(extensions: Sequence[Extension], job_data: Mapping[str, Any]) -> list[tuple[Extension, Any]]:
    """The registered extensions whose data a job carries, with that data, in registration order."""
    return [(extension, job_data[extension.name]) for extension in extensions if extension.name in job_data]


def import_job_data(extensions: Sequence[Extension], job_data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A snapshot job's `extensions`, each checked by its extension; data of an extension this
    engine does not have is a 400 (the job could not be answered as it was exported)."""
    known = {extension.name: extension for extension in extensions}
    checked = {}
    for name, data in job_data.items():
        extension = known.get(name)
        if extension is None:
            raise InvalidRequest(
                f"{where}.extensions.{name}: this emulator has no extension {name!r} "
                f"(it has {sorted(known) or 'none'}); the job could not be answered as it was exported.",
                param=f"{where}.extensions.{name}",
            )
        try:
            checked[name] = extension.import_data(data)
        except InvalidRequest as exc:  # its `param`, if any, is a path inside the data
            param = f"{where}.extensions.{name}" + (f".{exc.param}" if exc.param else "")
            raise InvalidRequest(f"{param}: {exc.message}", param=param) from None
        except ValueError as exc:
            raise InvalidRequest(f"{where}.extensions.{name}: {exc}", param=f"{where}.extensions.{name}") from None
    return checked
