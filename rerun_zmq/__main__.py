"""``python -m rerun_zmq`` runs the ``rerun-zmq`` command."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
