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

from .errors import ConfigError

log = logging.getLogger("ingest")


def server_secret(keys_dir: Path, server_key: Path | None) -> bytes:
    path = Path(server_key) if server_key is not None else Path(keys_dir) / "server.key_secret"
    if not path.exists():
        if server_key is not None:
            raise ConfigError(f"--server-key {path} does not exist")
        zmq.auth.create_certificates(str(keys_dir), "server")
        log.info("created the server key pair %s (give %s to producers)", path, path.with_suffix(".key"))
    public, secret = zmq.auth.load_certificate(str(path))
    if secret is None:
        raise ConfigError(f"{path} holds no secret key")
    return secret


def start_authenticator(ctx: zmq.asyncio.Context, keys_dir: Path, server_key: Path | None):
    """ZAP handler admitting the public keys in ``keys_dir``; returns (authenticator, server secret)."""
    secret = server_secret(keys_dir, server_key)
    auth = AsyncioAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(keys_dir))
    n = len(list(Path(keys_dir).glob("*.key")))
    log.info("CURVE on: %d public keys admitted from %s", n, keys_dir)
    return auth, secret
