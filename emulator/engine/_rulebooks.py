"""The scenario and fault books, read and written through the store: adding, removing, listing,
resolving a new job's scenario, and triggering fault rules. Rule ids and every counter (a "next
N" entry's uses, a fault's matches and firings, quota windows) are store counters."""

from __future__ import annotations

from ._faults import FaultBook, FaultRule, RequestFacts, matches, uniform
from ._scenarios import CreateContext, EvalType, Resolved, Scenario, ScenarioBook, ScenarioEntry, resolve_levels
from ._store import (
    FAULT_IDS,
    SCENARIO_IDS,
    Store,
    fault_fired_counter,
    fault_seen_counter,
    scenario_used_counter,
)


class ScenarioRules:
    """The scenarios attached at server, type and rule level (per-job ones live on the job)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def book(self) -> ScenarioBook:
        """The book as listed and exported: entries with their use counts, and the next id."""
        book = self.store.scenario_book()
        entries = [
            entry.model_copy(update={"used": self.store.counter(scenario_used_counter(entry.id or ""))})
            for entry in book.entries
        ]
        return book.model_copy(update={"entries": entries, "next_id": self.store.counter(SCENARIO_IDS) + 1})

    def load(self, book: ScenarioBook) -> None:
        """Replace the whole book, counters included (startup and state import)."""
        self.store.put_scenario_book(
            book.model_copy(update={"entries": [e.model_copy(update={"used": 0}) for e in book.entries], "next_id": 1})
        )
        self.store.set_counter(SCENARIO_IDS, book.next_id - 1)
        for entry in book.entries:
            self.store.set_counter(scenario_used_counter(entry.id or ""), entry.used)

    def _put(self, **changes: object) -> None:
        self.store.put_scenario_book(self.store.scenario_book().model_copy(update=changes))

    def add(self, entry: ScenarioEntry) -> ScenarioEntry:
        added = entry.model_copy(update={"id": f"scn-{self.store.increment(SCENARIO_IDS)}", "used": 0})
        self._put(entries=[*self.store.scenario_book().entries, added])
        return added

    def remove(self, entry_id: str) -> ScenarioEntry | None:
        """Remove one entry by id; returns it (with its use count), or None when there is none."""
        removed = next((e for e in self.book().entries if e.id == entry_id), None)
        if removed is not None:
            self._put(entries=[e for e in self.store.scenario_book().entries if e.id != entry_id])
        return removed

    def clear(self) -> list[ScenarioEntry]:
        """Remove every entry (the default and per-type scenarios stay); returns them."""
        removed = self.book().entries
        self._put(entries=[])
        return removed

    def set_default(self, scenario: Scenario) -> None:
        self._put(default=scenario)

    def set_type(self, eval_type: EvalType, scenario: Scenario) -> None:
        self._put(types={**self.store.scenario_book().types, eval_type: scenario})

    def clear_type(self, eval_type: EvalType) -> Scenario | None:
        types = dict(self.store.scenario_book().types)
        removed = types.pop(eval_type, None)
        self._put(types=types)
        return removed

    def resolve(
        self,
        ctx: CreateContext,
        *,
        magic: Scenario | None,
        base: Scenario,
        magic_recording: str | None = None,
        consume: bool = True,
    ) -> Resolved:
        """The scenario of a new job; consumes one use of the "next N" entry that applies (or, with
        `consume=False`, leaves that to `consume` once the job is made, or to no one: a look ahead
        that changes nothing).

        Precedence, field by field: magic input > the first matching "next N" entry > matching
        rules in the order added > the evaluation type's scenario > the server default > `base`
        (the server settings). A recording (docs/recordings.md) comes from the magic input, the
        "next N" entry or the first matching rule that names one, in that order."""
        book = self.store.scenario_book()
        levels: list[tuple[str, Scenario]] = []
        if magic is not None:
            levels.append(("magic", magic))
        entries: list[tuple[str, ScenarioEntry]] = []
        limited = next((e for e in book.entries if e.times is not None and e.match.matches(ctx)), None)
        if limited is not None:
            entries.append((f"scenario:{limited.id}", limited))
        entries += [(f"scenario:{e.id}", e) for e in book.entries if e.times is None and e.match.matches(ctx)]
        levels += entries
        if ctx.type in book.types:
            levels.append((f"type:{ctx.type}", book.types[ctx.type]))
        levels += [("default", book.default), ("settings", base)]
        recordings = [("magic", magic_recording)] if magic_recording is not None else []
        recordings += [(source, e.recording) for source, e in entries if e.recording is not None]
        resolved = resolve_levels(levels, recordings)
        resolved.limited = None if limited is None else limited.id
        resolved.rules = tuple(e.id or "" for _, e in entries if e.times is None)
        if consume:
            self.consume(resolved)
        return resolved

    def consume(self, resolved: Resolved) -> None:
        """Count a job made with `resolved` against the entries that matched it (`used`); its "next N"
        entry goes once used up."""
        for rule_id in resolved.rules:
            self.store.increment(scenario_used_counter(rule_id))
        if resolved.limited is None:
            return
        book = self.store.scenario_book()
        limited = next((e for e in book.entries if e.id == resolved.limited), None)
        if limited is None:
            return
        if self.store.increment(scenario_used_counter(limited.id or "")) >= (limited.times or 0):
            self._put(entries=[e for e in book.entries if e is not limited])


class FaultRules:
    """The fault rules in force, in order; the first rule that fires wins."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def active(self) -> bool:
        """Whether any rule is in force (the fast path of every request is to have none)."""
        return bool(self.store.fault_rules())

    def _counted(self, rule: FaultRule) -> FaultRule:
        rule_id = rule.id or ""
        return rule.model_copy(
            update={
                "seen": self.store.counter(fault_seen_counter(rule_id)),
                "fired": self.store.counter(fault_fired_counter(rule_id)),
                "window": self.store.quota_windows(rule_id),
            }
        )

    def rules(self) -> list[FaultRule]:
        """The rules with their counters, as listed and exported."""
        return [self._counted(rule) for rule in self.store.fault_rules()]

    def book(self) -> FaultBook:
        return FaultBook(rules=self.rules(), next_id=self.store.counter(FAULT_IDS) + 1)

    def load(self, book: FaultBook) -> None:
        """Replace every rule, counters included (startup and state import)."""
        self.store.put_fault_rules([self._bare(rule) for rule in book.rules])
        self.store.set_counter(FAULT_IDS, book.next_id - 1)
        for rule in book.rules:
            rule_id = rule.id or ""
            self.store.set_counter(fault_seen_counter(rule_id), rule.seen)
            self.store.set_counter(fault_fired_counter(rule_id), rule.fired)
            self.store.set_quota_windows(rule_id, rule.window)

    @staticmethod
    def _bare(rule: FaultRule) -> FaultRule:
        return rule.model_copy(update={"seen": 0, "fired": 0, "window": {}})

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule at the end, with a new id and fresh counters; returns it."""
        added = self._bare(rule).model_copy(update={"id": f"fault-{self.store.increment(FAULT_IDS)}"})
        self.store.put_fault_rules([*self.store.fault_rules(), added])
        return added

    def replace(self, rules: list[FaultRule]) -> None:
        """Replace every rule at once (each gets a new id, as when added)."""
        self.store.put_fault_rules([])
        for rule in rules:
            self.add(rule)

    def remove(self, rule_id: str) -> FaultRule | None:
        """Remove one rule by id; returns it (with its counters), or None when there is none."""
        removed = next((self._counted(r) for r in self.store.fault_rules() if r.id == rule_id), None)
        if removed is not None:
            self.store.put_fault_rules([r for r in self.store.fault_rules() if r.id != rule_id])
        return removed

    def clear(self) -> list[FaultRule]:
        """Remove every rule; returns them."""
        removed = self.rules()
        self.store.put_fault_rules([])
        return removed

    def trigger(self, facts: RequestFacts, now_ns: int, seed: int) -> tuple[FaultRule, float | None] | None:
        """The rule that fires for this request (as stored, without its counters) and, for a quota,
        the honest wait in seconds.

        A rule fires on a matching request once `after` matches have passed, while fewer than
        `times` have fired, with `probability` (seeded on the match count), and, with a quota,
        only when the tenant is over it."""
        store = self.store
        for rule in store.fault_rules():
            if not matches(rule.match, facts):
                continue
            rule_id = rule.id or ""
            seen = store.increment(fault_seen_counter(rule_id))
            if seen <= rule.after or (
                rule.times is not None and store.counter(fault_fired_counter(rule_id)) >= rule.times
            ):
                continue
            if rule.probability < 1 and uniform(seed, rule_id, seen) >= rule.probability:
                continue
            wait = None
            if rule.quota is not None:
                window_ns = int(rule.quota.window_seconds * 1e9)
                leaving = store.admit(rule_id, facts.tenant_key or "", now_ns, window_ns, rule.quota.limit)
                if leaving is None:
                    continue
                wait = (leaving + window_ns - now_ns) / 1e9
            store.increment(fault_fired_counter(rule_id))
            return rule, wait
        return None
