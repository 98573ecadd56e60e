"""UI state per application id, as JSON in the user's data folder (XDG), never pickle.

``$XDG_DATA_HOME/rerun-zmq/<application id>/ui_state.json`` (``~/.local/share`` when unset) holds
the blueprint (cameras and view settings inside it), the side panel sizes and the timeline the
user picked. Writes are atomic (temp file + rename); a broken file is reported and ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

VERSION = 1
FILE = "ui_state.json"


def data_home() -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share``; never a relative path (that would land in the
    working directory): ``OSError`` when no absolute home can be found."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    home = os.environ.get("HOME", "")
    if not os.path.isabs(home):  # unset, empty or relative: the account's home instead
        import pwd

        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            home = ""
    if not os.path.isabs(home):
        raise OSError("no absolute home folder for the UI state (set XDG_DATA_HOME)")
    return Path(home) / ".local" / "share"


def state_dir(application_id: str) -> Path:
    """The folder of one application id (characters unsafe in file names are replaced)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", application_id).strip(".")[:80] or "_"
    if safe != application_id:  # "a/b" and "a_b", or two non-ASCII ids, must not share a folder
        safe += "-" + hashlib.sha256(application_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return data_home() / "rerun-zmq" / safe


def save_state(application_id: str, data: dict) -> Path:
    folder = state_dir(application_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE
    tmp = path.with_suffix(".json.tmp")
    text = json.dumps({"version": VERSION, **data}, indent=1, sort_keys=True, allow_nan=False)  # strict JSON
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def load_state(application_id: str) -> dict | None:
    """The saved state, or None when there is none; ``ValueError`` when the file is unreadable."""
    try:
        path = state_dir(application_id) / FILE
    except OSError as exc:
        raise ValueError(str(exc)) from exc
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"{path}: expected an object with version {VERSION}")
    return data


class Persistence:
    """Loads when the active application id changes, saves when it changes again, periodically
    (when something changed) and on close."""

    def __init__(self, workspace, enabled: bool = True, every_s: float = 5.0) -> None:
        self.ws = workspace
        self.enabled = enabled
        self.every_s = every_s
        self.app_id: str | None = None
        self.pending_timeline: str | None = None
        self._last_text: str | None = None
        self._last_t = 0.0

    def snapshot(self) -> dict:
        s, ws = self.ws.state, self.ws
        return {
            "blueprint": ws.layout.to_json(),
            "panels": {"left_split": list(ws.left_split), "selection_width": ws.selection_width},
            "timeline": s.time.timeline if s.time.user_chose else None,
        }

    def apply(self, data: dict) -> None:
        ws = self.ws
        if data.get("blueprint"):
            ws.layout.load_json(data["blueprint"])
        panels = data.get("panels") or {}
        split = panels.get("left_split")
        if isinstance(split, list) and len(split) == 2 and all(isinstance(x, (int, float)) for x in split):
            ws.left_split = [min(max(float(x), 0.05), 0.8) for x in split]
        if isinstance(panels.get("selection_width"), (int, float)):
            ws.selection_width = min(max(float(panels["selection_width"]), 120.0), 800.0)
        self.pending_timeline = data.get("timeline") if isinstance(data.get("timeline"), str) else None

    def tick(self, now: float) -> None:
        """Once per frame: follow the active application id, apply a pending timeline, autosave."""
        s = self.ws.state
        if s.application_id != self.app_id:
            self.save()
            if self.app_id is not None:  # another application: its own layout (saved, from code or automatic)
                self.ws.layout.forget()
            self.app_id = s.application_id
            self._last_text = None
            if self.app_id and self.enabled:
                try:
                    data = load_state(self.app_id)
                except ValueError as exc:
                    s.errors.append(f"ui state: {exc}")
                    data = None
                if data is not None:
                    try:
                        self.apply(data)
                    except ValueError as exc:  # valid JSON, but not a layout we can use
                        s.errors.append(f"ui state of {self.app_id!r}: {exc}")
                    self._last_text = json.dumps(self.snapshot(), sort_keys=True)
        if self.pending_timeline and s.store is not None and self.pending_timeline in s.store.timelines():
            from .data_client import select_timeline

            select_timeline(s, self.pending_timeline)
            self.pending_timeline = None
        if self.enabled and now - self._last_t >= self.every_s:
            self._last_t = now
            self.save(only_if_changed=True)

    def save(self, only_if_changed: bool = False) -> Path | None:
        if not self.enabled or not self.app_id:
            return None
        try:
            snap = self.snapshot()
            text = json.dumps(snap, sort_keys=True, allow_nan=False)
            if only_if_changed and text == self._last_text:
                return None
            self._last_text = text
            return save_state(self.app_id, snap)
        except (OSError, ValueError, TypeError) as exc:  # a full disk, or a NaN/odd value: not JSON
            self.ws.state.errors.append(f"ui state not saved: {exc}")
            return None
