"""``rr.script_add_args`` / ``script_setup`` / ``script_teardown``: the same flags for every example."""

from __future__ import annotations

import argparse

from . import _api
from ._recording import RecordingStream


def script_add_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--save FILE``, ``--connect [ADDR]``, ``--headless`` (and ``--serve`` as an alias of spawn)."""
    parser.add_argument("--headless", action="store_true", help="don't show a viewer; keep data in memory")
    default_addr = f"127.0.0.1:{_api.default_port()}"  # RERUN_ZMQ_PORT, as for rr.connect()
    parser.add_argument("--connect", dest="connect", nargs="?", const=default_addr, default=None,
                        metavar="ADDR", help=f"stream to a running rerun-zmq ingest (default {default_addr})")
    parser.add_argument("--save", type=str, default=None, metavar="FILE", help="save the recording to an .rrd file")
    parser.add_argument("--stdout", action="store_true", help=argparse.SUPPRESS)


def script_setup(args: argparse.Namespace, application_id: str, *, recording_id=None,
                 default_blueprint=None) -> RecordingStream | None:
    """``rr.init`` plus the sink the flags ask for (spawning the viewer when none is given)."""
    rec = _api.init(application_id, recording_id=recording_id, default_blueprint=default_blueprint)
    if rec is None:
        return None
    if getattr(args, "save", None):
        rec.save(args.save)
    elif getattr(args, "connect", None):
        _api.connect(args.connect, recording=rec)
    elif getattr(args, "headless", False):
        pass
    else:
        _api.spawn(recording=rec)
    return rec


def script_teardown(args: argparse.Namespace) -> None:
    """Flush everything logged and close the sink (the file gets its footer)."""
    rec = _api.resolve(None)
    if rec is not None:
        rec.close()
