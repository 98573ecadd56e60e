"""Live updates applied on the render thread: recordings appear, tails start, stores reset.

Mirror mode: chunks arrive as ordinary ``chunk`` updates (the data client stores them); events
only announce recordings, each of which is tailed into its own ``TimelineStore``. Query mode:
events and standing-query results feed one ``RemoteStore`` per recording.
"""

from __future__ import annotations

import numpy as np

from .data_client import Update
from .remote_store import RemoteStore


def apply_live(client, update: Update) -> None:
    """Apply one live ``event``/``result``/``reset`` update to ``client``'s stores."""
    s = client.state
    live = client.live
    if update.kind == "reset":
        _reset(client, update.recording_id)
        return
    if update.kind == "result":
        params = update.value or {}
        rid = params.get("recording_id")
        st = client.stores.get(rid)
        if "entity" in params and isinstance(st, RemoteStore):
            st.on_result(params, update.batch)
            s.generation += 1
        return
    name, params = update.value
    if name == "stats":  # the ingest's health, every second: the status bar shows it
        s.live_stats = dict(params)
        return
    mirror = live is None or live.mode == "mirror"
    if name in ("snapshot", "recording_added"):
        recs = params.get("recordings", []) if name == "snapshot" else [params]
        recs = [r for r in recs if r["recording_id"] not in client.closed]  # closed by the user
        known = set(client.stores)
        for rec in recs:
            rid = rec["recording_id"]
            if mirror:
                client._store_for(rid, rec.get("application_id", ""))
                if live is not None:
                    live.tail(rid)
            else:
                _remote(client, rid, rec.get("application_id", "")).on_summary(rec)
        newest = recs[-1]["recording_id"] if recs else None
        if newest is not None and (newest not in known or s.recording_id is None):
            client._activate(newest)  # a new run becomes the active one; a resync keeps the user's choice
    elif mirror or params.get("recording_id") in client.closed:
        return  # the tailed chunks carry everything else
    elif name == "timeline_extended":
        st = _remote(client, params["recording_id"])
        st.on_timeline(params["timeline"], params["kind"], params.get("min"), params.get("max"))
    elif name == "entity_added":
        _remote(client, params["recording_id"]).on_rows({params["entity_path"]: 0})
    elif name == "rows_added":
        rid = params["recording_id"]
        at = _remote(client, rid).on_rows(params.get("rows", {}))
        pending = client._pending_times.setdefault(rid, {})
        for timeline, t in at.items():  # steppable times, as for files
            pending.setdefault(timeline, []).append(np.array([t], dtype=np.int64))
    else:
        return
    s.generation += 1


def _reset(client, recording_id: str) -> None:
    """Drop the mirrored copy of ``recording_id``; its tail starts over from the first chunk."""
    from store import TimelineStore

    s = client.state
    client.stores[recording_id] = TimelineStore()
    client.times[recording_id] = {}
    client._pending_times.pop(recording_id, None)
    if s.recording_id == recording_id:
        s.store = client.stores[recording_id]
        s.time.times = client.times[recording_id]
        s.time.timeline = None  # picked again as the data comes back
        client._seen_timelines = set()
    s.generation += 1


def _remote(client, recording_id: str, application_id: str = "") -> RemoteStore:
    st = client.stores.get(recording_id)
    if not isinstance(st, RemoteStore):
        st = client.stores[recording_id] = RemoteStore(recording_id)
        client.state.recordings[recording_id] = application_id
    elif application_id:
        client.state.recordings[recording_id] = application_id
    return st
