"""The ingest's summary of the recordings its store workers hold (``--shards N``).

With workers, the ingest holds no store of its own: it keeps entities, row counts and time ranges
per recording from the workers' store events, so the summary (``snapshot``) answers without asking
the workers (``WorkerShards.hub``; with one shard, ``hub`` is the ``StoreHub`` itself). Time ranges
are kept per shard (``extend``), so that those of a dead worker can be dropped (``drop_shard``) and
the summary shows what the live workers hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MirrorStore:
    """What the ingest knows of one recording held by workers: entities, row counts, time ranges."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        #: timeline -> (kind, min, max) over every shard
        self.tl: dict[str, tuple[str, int, int]] = {}
        #: shard -> timeline -> (kind, min, max) its current worker holds
        self.tl_by_shard: dict[int, dict[str, tuple[str, int, int]]] = {}
        self.total_bytes = 0

    def entity_paths(self) -> list[str]:
        return sorted(self.rows)

    def row_counts(self) -> dict[str, int]:
        return dict(sorted(self.rows.items()))

    def timelines(self) -> dict[str, str]:
        return {name: kind for name, (kind, _, _) in self.tl.items()}

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        got = self.tl.get(timeline)
        return None if got is None else (got[1], got[2])

    def extend(self, shard: int, timeline: str, kind: str, lo: int, hi: int) -> tuple[str, int, int]:
        """Shard ``shard`` holds times ``lo..hi`` of ``timeline``; returns the range over every shard."""
        mine = self.tl_by_shard.setdefault(shard, {})
        old = mine.get(timeline)
        if old is not None:
            lo, hi = min(lo, old[1]), max(hi, old[2])
        mine[timeline] = (kind, lo, hi)
        old = self.tl.get(timeline)
        self.tl[timeline] = (kind, lo, hi) if old is None else (kind, min(lo, old[1]), max(hi, old[2]))
        return self.tl[timeline]

    def drop_shard(self, shard: int) -> list[str]:
        """Forget the time ranges shard ``shard`` held (its worker died); returns the timelines whose
        range over every shard changed (one no shard holds any more is removed)."""
        changed = []
        for name in self.tl_by_shard.pop(shard, {}):
            held = [tls[name] for tls in self.tl_by_shard.values() if name in tls]
            new = (held[0][0], min(h[1] for h in held), max(h[2] for h in held)) if held else None
            if new != self.tl.get(name):
                changed.append(name)
                if new is None:
                    del self.tl[name]
                else:
                    self.tl[name] = new
        return changed


@dataclass
class Mirror:
    """Recording id -> ``MirrorStore``, kept from the workers' store events (``hub`` of worker mode)."""

    stores: dict[str, MirrorStore] = field(default_factory=dict)
    application_ids: dict[str, str] = field(default_factory=dict)

    def recording_ids(self) -> list[str]:
        return list(self.stores)

    def store(self, recording_id: str, *, create: bool = False) -> MirrorStore:
        st = self.stores.get(recording_id)
        if st is None:
            st = self.stores[recording_id] = MirrorStore()
        return st

    def apply(self, name: str, params: dict) -> None:
        rid = params.get("recording_id")
        if not isinstance(rid, str):
            return
        st = self.store(rid)
        if name == "entity_added":
            st.rows.setdefault(params["entity_path"], 0)
        elif name == "rows_added":
            for ent, n in params["rows"].items():
                st.rows[ent] = st.rows.get(ent, 0) + n
        elif name == "data_dropped":
            ent = params["entity_path"]
            st.rows[ent] = max(0, st.rows.get(ent, 0) - params["rows"])
        # (timeline_extended is kept per shard by ``MirrorStore.extend`` before it gets here)

    def drop_shard(self, shard: int) -> list[tuple[str, str, tuple[str, int, int] | None]]:
        """Forget the time ranges shard ``shard`` held; returns (recording, timeline, its new range
        over the live shards or None) for each that changed."""
        return [(rid, name, st.tl.get(name)) for rid, st in self.stores.items() for name in st.drop_shard(shard)]
