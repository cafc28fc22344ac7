"""The engine: the services of one emulated account space over one store, built from its settings.

`Engine` owns the store, the clock and the services (tenants, jobs, files, scenarios, faults, the
journal) and gives each one the collaborators it needs, the add-ons (`_extension.py`) included.
Settings are never changed in place: `reseed`, `reconfigure` and a state import take a new settings
object and rebuild the services.

A new store is filled from the settings; a store that already holds a state (a persistent store
reopened after a restart, or a store shared with other processes) is taken up as it is, with the
seed it was made from (`Store.seed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from . import _ids as ids, _snapshot as snapshots, _startup as startup
from ._clock import NS, Clock, parse_time
from ._config import EmulatorConfig
from ._extension import Extension, check_names
from ._files import Files
from ._jobs import Jobs
from ._journal import Journal, RouteName
from ._memory_store import MemoryStore
from ._polling import Polling
from ._replays import Recordings
from ._rulebooks import FaultRules, ScenarioRules
from ._schedule import Schedule
from ._snapshot import Snapshot
from ._store import Store
from ._tenants import Tenants
from ._upload_tokens import UploadTokens


class Engine:
    """One emulated Together account space. Not thread-safe by itself: `http._core.Emulator` runs
    every request under a lock."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        store: Store | None = None,
        routes: Callable[[], Sequence[RouteName]] = tuple,
        wall_ns: Callable[[], int] = time.time_ns,
        extensions: Sequence[Extension] = (),
    ) -> None:
        self.config = config or EmulatorConfig()
        self.store = store or MemoryStore()
        self.clock = Clock(self.store, wall_ns)
        self._routes = routes
        self.extensions = check_names(extensions)  # the add-ons whose hooks jobs and files call
        with self.store.transaction():
            self.upload_tokens = UploadTokens(self.store.upload_token_key())  # the store's: kept across restarts
            seed = self.store.seed()
            if seed is not None and seed != self.config.seed:
                self.config = self.config.model_copy(update={"seed": seed})
            self._build()
            if seed is None:  # a new store: fill it from the settings
                self.reset()
            # else: a store with a state (a restart, or another process's store): taken up as it is

    def _build(self) -> None:
        """The services, wired to the store and the current settings."""
        store, config = self.store, self.config
        self.tenants = Tenants(store)
        self.scenarios = ScenarioRules(store)
        self.faults = FaultRules(store)
        self.schedule = Schedule(store)
        self.recordings = Recordings(store)
        self.files = Files(
            store,
            self.clock,
            self.upload_tokens,
            round(config.upload_url_seconds * NS),
            self.schedule,
            self.extensions,
        )
        self.jobs = Jobs(
            store, self.clock, self.files, self.scenarios, config, self.schedule, self.recordings, self.extensions
        )
        self.journal = Journal(store, self._routes, config.journal_limit, byte_limit=config.journal_byte_limit)
        self.polling = Polling(self.jobs, self.journal, config)

    def follow_store(self) -> None:
        """Take up the seed of the state in the store when it is not this engine's: another process
        sharing the store reseeded it or imported a state. Called at the start of every request."""
        seed = self.store.seed()
        if seed is None:  # emptied from outside (never by an engine): start it over
            self.reset()
        elif seed != self.config.seed:
            self.config = self.config.model_copy(update={"seed": seed})
            self._build()

    def _start_clock(self) -> None:
        config = self.config
        start_ns = parse_time(config.start_time) if config.start_time else None
        self.clock.start(config.clock, start_ns=start_ns, scale=config.time_scale)

    def reset(self, *, keep_clock: bool = False) -> None:
        """Forget every job, file, upload and journal entry; restart ids from the seed and the clock
        from its start (unless kept); then load the tenants, files, scenarios and faults of the settings."""
        kept = self.store.clock_state()
        self.store.clear()
        if keep_clock:
            self.store.set_clock_state(kept)
        else:
            self._start_clock()
        self.store.set_id_state(ids.initial_state(self.config.seed))
        startup.apply(
            self.config,
            store=self.store,
            clock=self.clock,
            tenants=self.tenants,
            files=self.files,
            scenarios=self.scenarios,
            faults=self.faults,
            schedule=self.schedule,
            recordings=self.recordings,
        )
        self.store.set_seed(self.config.seed)

    def reseed(self, seed: int) -> None:
        """Use `seed` from now on and start over from it; the clock keeps its time."""
        self.config = self.config.model_copy(update={"seed": seed})
        self._build()
        self.reset(keep_clock=True)

    def reconfigure(self, config: EmulatorConfig) -> None:
        """Replace every setting and reset everything, clock included."""
        self.config = config
        self._build()
        self.reset()

    def export_state(self) -> Snapshot:
        """The whole state as a snapshot (`GET /_emulator/state`)."""
        return snapshots.export_state(
            self.store,
            seed=self.config.seed,
            clock=self.clock,
            jobs=self.jobs,
            files=self.files,
            scenarios=self.scenarios,
            faults=self.faults,
            schedule=self.schedule,
        )

    def import_state(self, snapshot: Snapshot) -> None:
        """Replace the whole state with a snapshot's (nothing changes when it is invalid); its seed
        becomes this engine's, in a new settings object (the one given at construction is left alone)."""
        snapshots.import_state(
            self.store,
            snapshot,
            clock=self.clock,
            scenarios=self.scenarios,
            faults=self.faults,
            schedule=self.schedule,
            upload_lifetime_ns=self.files.upload_lifetime_ns,
            extensions=self.extensions,
        )
        self.store.set_seed(snapshot.seed)
        self.config = self.config.model_copy(update={"seed": snapshot.seed})
        self._build()
