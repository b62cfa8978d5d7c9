"""The configuration slots over a restart: one state record (``network.profiles``) in the station
store, rewritten whole (one SQLite transaction) on every change.

The record holds the profiles the CSMS stored (SetNetworkProfile, B09.FR.01), the slots an
upgrade removed (A05.FR.06), the slot of the last successful connection (B10.FR.07) and the
config file's connection as last seen (``seed``).  Slot :data:`SEED_SLOT` holds the config
file's connection until the CSMS stores a profile there or an upgrade removes it; when the config
file's connection changes (an operator on site), it is slot 0 again (see :meth:`SlotStore.open`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocpp_station.blocks.networking.profiles import NetworkProfile

KEY = "network.profiles"
SEED_SLOT = 0


class Records(Protocol):
    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, value: dict[str, Any], *, synced: bool = True) -> None: ...


@dataclass
class SlotStore:
    records: Records
    seed: NetworkProfile
    stored: dict[int, NetworkProfile] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    last_good: int | None = None
    recorded: bool = False  # the record exists in the store

    @classmethod
    def open(cls, records: Records, seed: NetworkProfile) -> tuple[SlotStore, bool]:
        """The slots as stored, and whether the config file's connection changed since the last
        start (then slot 0 holds it again, whatever the CSMS stored there or removed: the site
        visit wins).  A first start reports no change and writes nothing: no record means the
        config file's connection in slot 0 and nothing else, which is what the first record
        written (a connection, a profile the CSMS stored) keeps with the seed it saw then.
        Before that nothing was stored that a changed config file could make stale."""
        store = cls(records, seed)
        record = records.load(KEY)
        if record is None:
            return store, False
        store.recorded = True
        slots = record.get("slots")
        if isinstance(slots, Mapping):
            for key, value in slots.items():
                profile = NetworkProfile.from_record(value) if isinstance(value, Mapping) else None
                if profile is not None and str(key).isdigit():
                    store.stored[int(key)] = profile
        removed = record.get("removed")
        if isinstance(removed, list):
            store.removed = {s for s in removed if isinstance(s, int) and not isinstance(s, bool)}
        last = record.get("lastGood")
        if isinstance(last, int) and not isinstance(last, bool):
            store.last_good = last
        known = record.get("seed")
        changed = known != seed.to_record()
        if changed:
            store.stored.pop(SEED_SLOT, None)
            store.removed.discard(SEED_SLOT)
            store._save()
        return store, changed

    def profiles(self) -> dict[int, NetworkProfile]:
        """Slot → profile, the seed in slot 0 unless stored over or removed."""
        out = dict(self.stored)
        if SEED_SLOT not in out and SEED_SLOT not in self.removed:
            out[SEED_SLOT] = self.seed
        return dict(sorted(out.items()))

    def put(self, slot: int, profile: NetworkProfile) -> None:
        """Store ``profile`` in ``slot`` (raises ``sqlite3.Error`` when it could not be written;
        memory is unchanged then)."""
        before = (dict(self.stored), set(self.removed))
        self.stored[slot] = profile
        self.removed.discard(slot)
        self._save_or_restore(before)

    def remove(self, slots: set[int]) -> None:
        """Empty ``slots`` (A05.FR.06)."""
        if not slots:
            return
        before = (dict(self.stored), set(self.removed))
        for slot in slots:
            self.stored.pop(slot, None)
        self.removed |= slots
        self._save_or_restore(before)

    def connected_on(self, slot: int) -> None:
        """Remember the slot of a successful connection (B10.FR.07), committed without a sync
        of its own: a power cut that loses it only makes the next start try the slots in
        priority order, and that start's connection records it again.  Not written while there
        is no record and the connection is the config file's, the only slot: the next start has
        that one slot alone to try (and falls back to it), so the record would change nothing;
        the first record written keeps it."""
        if self.last_good == slot:
            return
        self.last_good = slot
        if self.recorded or self.stored or slot != SEED_SLOT:
            self._save(synced=False)

    def _save_or_restore(self, before: tuple[dict[int, NetworkProfile], set[int]]) -> None:
        try:
            self._save()
        except Exception:
            self.stored, self.removed = before
            raise

    def _save(self, *, synced: bool = True) -> None:
        record: dict[str, Any] = {
            "slots": {str(slot): p.to_record() for slot, p in sorted(self.stored.items())},
            "removed": sorted(self.removed),
            "seed": self.seed.to_record(),
        }
        if self.last_good is not None:
            record["lastGood"] = self.last_good
        self.records.save(KEY, record, synced=synced)
        self.recorded = True
