"""The ``rerun-zmq`` command: viewer (default), ``serve`` (headless ingest), ``rrd`` (file tools)."""

from __future__ import annotations

import sys

USAGE = """usage: rerun-zmq [FILE.rrd ...] [viewer options]   open files, or the live viewer
       rerun-zmq serve [--save FILE] [--port N] ...    headless ingest and store
       rerun-zmq rrd print|stats|verify|merge ...      inspect and combine .rrd files
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
    if argv and argv[0] == "rrd":
        from ._rrd_tools import main as rrd_main

        return rrd_main(argv[1:])
    if argv and argv[0] == "serve":
        try:
            from ingest.server import main as serve_main
        except ImportError:
            print("error: the ingest process is not part of this build yet", file=sys.stderr)
            return 2
        return serve_main(argv[1:])
    if argv and argv[0] in ("-h", "--help") and len(argv) == 1:
        pass
    try:
        from ui.app import main as viewer_main
    except ImportError as exc:
        print(f"error: the viewer is not part of this build yet ({exc})", file=sys.stderr)
        return 2
    return viewer_main(argv)
