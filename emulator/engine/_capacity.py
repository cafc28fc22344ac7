"""Capacity: at most `per_tenant` jobs running at once for each API key and `total` in all (None:
no limit), and how it changed over time (docs/capacity.md).

The capacity is kept in the store as a `CapacityLog`: each change with the clock instant it
applies from, so a change made now never rewrites what jobs did before it (a job that read back
`running` a minute ago still did). Before the first change, and in a log with no change at all
(the default), there is no limit: every job runs on its own timeline, as if the service had
unlimited capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._clock import EARLIEST_NS


@dataclass(frozen=True)
class Capacity:
    """How many jobs may be `running` at once: per API key, and in all (None: no limit)."""

    per_tenant: int | None = None
    total: int | None = None

    @property
    def limited(self) -> bool:
        return self.per_tenant is not None or self.total is not None


UNLIMITED = Capacity()


@dataclass(frozen=True)
class CapacityLog:
    """The capacity over time: `changes` are (instant, capacity) pairs in time order, each in force
    from its instant (inclusive) to the next one's. Before the first change: no limit."""

    changes: tuple[tuple[int, Capacity], ...] = ()

    @classmethod
    def from_start(cls, capacity: Capacity) -> CapacityLog:
        """A capacity in force from the beginning of time (the settings' capacity)."""
        return cls(((EARLIEST_NS, capacity),) if capacity.limited else ())

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
        if not any(c.limited for _, c in kept) and not capacity.limited:
            return CapacityLog()
        return CapacityLog((*kept, (ns, capacity)))
