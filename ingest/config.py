"""``Config``: everything ``rerun-zmq serve`` can be told, parsed once and validated (uvicorn style)."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

DEFAULT_PORT = 9876
MiB = 1 << 20
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def total_ram_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def parse_bytes(text: str | int | None, *, what: str = "size") -> int | None:
    """``"75%"`` (of RAM), ``"4GB"``, ``"512MiB"``, ``"1000000"`` or ``None``/``"none"`` -> bytes."""
    if text is None or isinstance(text, int):
        return text
    s = str(text).strip().lower()
    if s in ("", "none", "off", "unlimited"):
        return None
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*(%|[kmgt]?i?b?)", s)
    if not m:
        raise ConfigError(f"{what} must look like '75%', '4GB' or '512MiB', got {text!r}")
    value, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        if not 0 < value <= 100:
            raise ConfigError(f"{what} percentage must be in (0, 100], got {text!r}")
        return int(total_ram_bytes() * value / 100)
    if unit not in _UNITS:
        raise ConfigError(f"{what}: unknown unit {unit!r} in {text!r}")
    return int(value * _UNITS[unit])


@dataclass
class Config:
    """Options of the ingest process. ``port=0`` picks a free port (reported on stdout)."""

    bind: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    save: Path | None = None
    shards: int = 1
    memory_limit: int | None = None
    max_message_bytes: int = 1 << 30
    #: bytes a producer may have sent but not yet acknowledged
    credit_bytes: int = 64 * MiB
    auth_keys: Path | None = None
    server_key: Path | None = None
    stats_interval: float = 10.0
    shutdown_timeout: float = 5.0
    #: push standing-query results and events at most this often (seconds)
    push_interval: float = 0.016
    quiet: bool = False
    #: receive big chunk frames into memory prefaulted by a background thread (``ingest.prefault``)
    prefault: bool = True
    #: producers on this machine hand big frames over in shared memory (``ingest.shm``)
    shm: bool = True

    def validate(self) -> Config:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be in 0..65535, got {self.port}")
        if self.shards < 1 or self.shards > 256:
            raise ConfigError(f"--shards must be in 1..256, got {self.shards}")
        if self.max_message_bytes < 1024:
            raise ConfigError(f"--max-message-bytes must be at least 1024, got {self.max_message_bytes}")
        if self.credit_bytes < 1:
            raise ConfigError(f"--credit-bytes must be positive, got {self.credit_bytes}")
        if self.save is not None and not Path(self.save).parent.exists():
            raise ConfigError(f"--save {self.save}: folder {Path(self.save).parent} does not exist")
        if self.auth_keys is not None and not Path(self.auth_keys).is_dir():
            raise ConfigError(f"--auth-keys {self.auth_keys} is not a directory")
        if not self.stats_interval > 0:
            raise ConfigError(f"--stats-interval must be a positive number of seconds, got {self.stats_interval}")
        if not self.shutdown_timeout >= 0:
            raise ConfigError(f"--shutdown-timeout must be zero or more seconds, got {self.shutdown_timeout}")
        return self

    @property
    def endpoint(self) -> str:
        host = "*" if self.bind in ("0.0.0.0", "*", "") else self.bind
        return f"tcp://{host}:{self.port}" if self.port else f"tcp://{host}:*"


def _port(text: str) -> int:
    if text == "auto":
        return 0
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be a number or 'auto', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rerun-zmq serve", description="Headless ingest and store.")
    p.add_argument("--bind", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help="TCP port; 0 or 'auto' picks a free one")
    p.add_argument("--save", type=Path, help="also write everything that arrives to this .rrd file")
    p.add_argument("--shards", type=int, default=1, help="store shards; N >= 2 runs N worker processes")
    p.add_argument("--memory-limit", default="75%", help="store memory limit: '75%%' of RAM, '4GB', 'none'")
    p.add_argument("--max-message-bytes", default="1GiB", help="refuse messages larger than this")
    p.add_argument("--credit-bytes", default="64MiB", help="unacknowledged bytes a producer may have in flight")
    p.add_argument("--auth-keys", type=Path, help="admit only producers whose CURVE public keys are in DIR")
    p.add_argument("--server-key", type=Path,
                   help="this server's CURVE secret key file (default DIR/server.key_secret, created if missing)")
    p.add_argument("--stats-interval", type=float, default=10.0, help="log health counters every N seconds")
    p.add_argument("--shutdown-timeout", type=float, default=5.0, help="graceful shutdown bound in seconds")
    p.add_argument("--quiet", action="store_true", help="log warnings only")
    p.add_argument("--no-shm", dest="shm", action="store_false",
                   help="producers on this machine send big frames over TCP too, not in shared memory")
    p.add_argument("--no-prefault", dest="prefault", action="store_false",
                   help="receive big frames into fresh memory instead of buffers prefaulted ahead of time")
    return p


def config_from_args(argv: list[str]) -> Config:
    a = build_parser().parse_args(argv)
    return Config(
        bind=a.bind, port=a.port, save=a.save, shards=a.shards,
        memory_limit=parse_bytes(a.memory_limit, what="--memory-limit"),
        max_message_bytes=parse_bytes(a.max_message_bytes, what="--max-message-bytes") or (1 << 30),
        credit_bytes=parse_bytes(a.credit_bytes, what="--credit-bytes") or 64 * MiB,
        auth_keys=a.auth_keys, server_key=a.server_key, stats_interval=a.stats_interval,
        shutdown_timeout=a.shutdown_timeout, quiet=a.quiet, prefault=a.prefault, shm=a.shm,
    ).validate()
