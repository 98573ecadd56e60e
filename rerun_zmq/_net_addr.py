"""Ingest addresses: ``"host:port"``, ``"tcp://host:port"``, ``":port"`` or ``None`` (127.0.0.1:9876)."""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9876


def parse_addr(addr: str | None, default_port: int = DEFAULT_PORT) -> str:
    """-> a ZeroMQ endpoint ``tcp://host:port``; raises ``ValueError`` naming the expected form."""
    if addr is None or addr == "":
        return f"tcp://{DEFAULT_HOST}:{default_port}"
    if not isinstance(addr, str):
        raise TypeError(f"addr must be a str like '127.0.0.1:9876', got {type(addr).__name__}")
    text = addr.strip()
    for prefix in ("tcp://", "rerun+tcp://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if "://" in text:
        raise ValueError(f"addr must be 'host:port' or 'tcp://host:port', got {addr!r}")
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = text, str(default_port)
    host = host or DEFAULT_HOST
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_s)
    except ValueError:
        raise ValueError(f"addr port must be a number, got {addr!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"addr port must be in 1..65535, got {port}")
    if host in ("0.0.0.0", "*"):
        host = DEFAULT_HOST
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def host_port(addr: str | None, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    endpoint = parse_addr(addr, default_port)[len("tcp://"):]
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)
