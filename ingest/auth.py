"""CURVE authentication for ``--auth-keys DIR``: only producers whose public keys are in DIR get in.

Keys are the files ``zmq.auth.create_certificates`` writes (``NAME.key`` public, ``NAME.key_secret``
secret). The server's own secret key is ``--server-key`` or ``DIR/server.key_secret`` (created, with
``DIR/server.key`` for clients, when missing).
"""

from __future__ import annotations

import logging
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils import z85

from .errors import ConfigError

log = logging.getLogger("ingest")


def server_secret(keys_dir: Path, server_key: Path | None) -> bytes:
    path = Path(server_key) if server_key is not None else Path(keys_dir) / "server.key_secret"
    if not path.exists():
        if server_key is not None:
            raise ConfigError(f"--server-key {path} does not exist")
        zmq.auth.create_certificates(str(keys_dir), "server")
        log.info("created the server key pair %s (give %s to producers)", path, path.with_suffix(".key"))
    expected = ("a ZeroMQ CURVE certificate as zmq.auth.create_certificates writes it "
                "(a 'secret-key' line with 40 Z85 characters)")
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ConfigError(f"cannot read the server key {path}: expected {expected}: {exc}") from None
    if secret is None:
        raise ConfigError(f"{path} holds no secret key: expected {expected}")
    if len(secret) != 40 or not _z85(secret):
        raise ConfigError(f"the server key {path} is corrupt: expected {expected}, got a "
                          f"{len(secret)}-character secret-key")
    return secret


def _z85(key: bytes) -> bool:
    try:
        return len(z85.decode(key)) == 32
    except (ValueError, KeyError, IndexError, TypeError):
        return False


def start_authenticator(ctx: zmq.asyncio.Context, keys_dir: Path, server_key: Path | None):
    """ZAP handler admitting the public keys in ``keys_dir``; returns (authenticator, server secret)."""
    secret = server_secret(keys_dir, server_key)
    auth = AsyncioAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_curve(domain="*", location=str(keys_dir))
    except (OSError, ValueError) as exc:
        auth.stop()
        raise ConfigError(f"cannot read the public keys in --auth-keys {keys_dir}: expected ZeroMQ CURVE "
                          f"certificates (NAME.key, as zmq.auth.create_certificates writes them): {exc}") from None
    n = len(list(Path(keys_dir).glob("*.key")))
    log.info("CURVE on: %d public keys admitted from %s", n, keys_dir)
    return auth, secret
