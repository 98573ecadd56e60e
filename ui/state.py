"""``AppState``: everything the viewer knows, passed to every panel (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rerun_zmq._entity_path import is_descendant_or_self

from .camera import OrbitCamera
from .faults import FrameFaults
from .timefmt import is_user_timeline


@dataclass
class Options:
    """Command-line options of the viewer."""

    files: list[str] = field(default_factory=list)
    screenshot_to: str | None = None
    time: tuple[str, str] | None = None  # (timeline, value text)
    window_size: tuple[int, int] = (1280, 720)
    connect: str | None = None  # live query endpoint of an ingest
    headless: bool = False  # EGL, no window (tests, CI)
    hide: list[str] = field(default_factory=list)
    max_frames: int | None = None
    wait: float = 10.0  # live screenshot: seconds to wait for data
    live_mode: str = "mirror"  # mirror: tail chunks into a local store; query: latest_at at the cursor


@dataclass
class TimeState:
    """The time cursor and playback of the timeline panel."""

    timeline: str | None = None
    kind: str = "sequence"
    cursor: int = 0
    playing: bool = False
    loop: bool = False
    selection: tuple[int, int] | None = None  # time selection (Shift-drag on the scrubber): loop / save range
    speed: float = 1.0
    follow: bool = True  # stay at the newest data while at the end (live)
    user_chose: bool = False  # the user picked a timeline; stop auto-switching
    #: timeline -> sorted distinct times that hold data (for stepping)
    times: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class ViewState:
    """One view of the layout; Viewer II adds more kinds and an entity filter per view."""

    name: str = "3D"
    kind: str = "3d"
    origin: str = "/"
    camera: OrbitCamera = field(default_factory=OrbitCamera)
    image_size: tuple[int, int] = (0, 0)
    hovered: tuple[str, int] | None = None  # (entity, instance)
    show_grid: bool = True
    up: tuple[int, int] | None = None  # (axis, sign) the camera currently orbits about


@dataclass
class Notice:
    """A one-line message for the status bar (the result of a save, a dropped update)."""

    text: str
    level: str = "info"  # "info" | "error"


@dataclass
class AppState:
    store: object  # store.TimelineStore
    options: Options = field(default_factory=Options)
    recording_id: str | None = None
    application_id: str | None = None
    recordings: dict[str, str] = field(default_factory=dict)  # recording id -> application id
    time: TimeState = field(default_factory=TimeState)
    views: list[ViewState] = field(default_factory=lambda: [ViewState()])
    hidden: set[str] = field(default_factory=set)
    selected: str | None = None
    selected_instance: int | None = None  # the instance picked in a view (None: the whole entity)
    layout: object | None = None  # ui.blueprint.Layout, owned by the Workspace
    save_dialog: str | None = None  # "recording" or "selection": File > Save asked for it
    live_stats: dict = field(default_factory=dict)  # the ingest's last "stats" event (producers, rates)
    recording_sources: dict[str, list[str]] = field(default_factory=dict)  # recording id -> sources
    #: bumps whenever data was inserted; part of every cache key
    generation: int = 0
    #: source -> (fraction loaded, finished)
    progress: dict[str, tuple[float, bool]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: faults caught inside frames (a view, a panel, a data update): see ``ui.faults``
    faults: FrameFaults = field(default_factory=FrameFaults)
    notice: Notice | None = None  # the status bar's latest message
    save_job: object | None = None  # the running ``ui.save_job.SaveJob``, if any
    live_endpoint: str | None = None
    quit_requested: bool = False
    open_dialog: bool = False
    frame: int = 0
    frame_ms: float = 0.0
    #: widget id -> (x0, y0, x1, y1) of its last drawn rect (for tests driving ImGui input)
    ui_rects: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    #: files asked for by File → Open or drag-and-drop, picked up by the app each frame
    open_requests: list[str] = field(default_factory=list)

    def is_visible(self, path: str) -> bool:
        """An entity is shown unless it or one of its ancestors is hidden."""
        return not any(is_descendant_or_self(path, h) for h in self.hidden)

    def toggle_visible(self, path: str) -> None:
        if path in self.hidden:
            self.hidden.discard(path)
        elif self.is_visible(path):
            self.hidden.add(path)
        else:  # hidden by an ancestor: show this subtree by un-hiding the ancestors
            self.hidden = {h for h in self.hidden if not is_descendant_or_self(path, h)}

    def user_timelines(self) -> list[str]:
        return sorted(t for t in self.store.timelines() if is_user_timeline(t))

    def all_timelines(self) -> list[str]:
        names = list(self.store.timelines())
        return sorted(names, key=lambda n: (not is_user_timeline(n), n))
