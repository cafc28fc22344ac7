"""Capacity: at most `per_tenant` jobs running at once for each API key, `total` in all and a number
per evaluation type (None: no limit), the tenants whose jobs go first, and how it changed over time
(docs/capacity.md).

The capacity is kept in the store as a `CapacityLog`: each change with the clock instant it
applies from, so a change made now never rewrites what jobs did before it (a job that read back
`running` a minute ago still did). Before the first change, and in a log with no change at all
(the default), there is no limit: every job runs on its own timeline, as if the service had
unlimited capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._clock import EARLIEST_NS
from ._parameters import EvalType


@dataclass(frozen=True)
class Capacity:
    """How many jobs may be `running` at once: per API key, and in all (None: no limit); per
    evaluation type (`per_type`: (type, most) pairs, a type not listed has no limit); and which
    tenants' waiting jobs get a free slot first (`priority`: API keys or tenant names, first first;
    tenants not listed after every listed one)."""

    per_tenant: int | None = None
    total: int | None = None
    # Defaults only, never required: a Capacity stored before these fields existed reads as none.
    per_type: tuple[tuple[EvalType, int], ...] = ()
    priority: tuple[str, ...] = ()

    @property
    def limited(self) -> bool:
        return self.per_tenant is not None or self.total is not None or bool(self.per_type)

    @property
    def given(self) -> bool:
        """Whether it says anything (a limit or a priority): only then is it kept in the log."""
        return self.limited or bool(self.priority)

    def type_limit(self, eval_type: str) -> int | None:
        """Most jobs of `eval_type` running at once (None: no limit)."""
        for name, most in self.per_type:
            if name == eval_type:
                return most
        return None

    def priority_of(self, key: str, name: str | None) -> int:
        """Where a tenant (its API key, its name) comes in the priority: the index of the first entry
        naming it; after every entry when none does."""
        for index, entry in enumerate(self.priority):
            if entry == key or (name is not None and entry == name):
                return index
        return len(self.priority)


UNLIMITED = Capacity()


@dataclass(frozen=True)
class CapacityLog:
    """The capacity over time: `changes` are (instant, capacity) pairs in time order, each in force
    from its instant (inclusive) to the next one's. Before the first change: no limit."""

    changes: tuple[tuple[int, Capacity], ...] = ()

    @classmethod
    def from_start(cls, capacity: Capacity) -> CapacityLog:
        """A capacity in force from the beginning of time (the settings' capacity)."""
        return cls(((EARLIEST_NS, capacity),) if capacity.given else ())

    @property
    def active(self) -> bool:
        """Whether any capacity limit was ever in force: without one, nothing waits for a slot."""
        return bool(self.changes)

    def at(self, ns: int) -> Capacity:
        """The capacity in force at instant `ns`."""
        found = UNLIMITED
        for start, capacity in self.changes:
            if start > ns:
                break
            found = capacity
        return found

    def changed(self, ns: int, capacity: Capacity) -> CapacityLog:
        """This log with `capacity` in force from `ns` on: a change already planned at or after `ns`
        (the clock was set back) gives way to it. A log that never limits anything is empty."""
        kept = tuple(change for change in self.changes if change[0] < ns)
        if not any(c.given for _, c in kept) and not capacity.given:
            return CapacityLog()
        return CapacityLog((*kept, (ns, capacity)))
