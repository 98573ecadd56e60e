"""CURVE key files for producers and viewers (see ``ingest.auth`` for the server side)."""

from __future__ import annotations

import os


def _curve_keys(client_key, server_key) -> tuple[bytes, bytes, bytes] | None:
    """(secret, public, server public) from key files written by ``zmq.auth.create_certificates``."""
    if client_key is None and server_key is None:
        return None
    if client_key is None or server_key is None:
        raise ValueError("CURVE needs both client_key (this producer's .key_secret file) and server_key "
                         "(the ingest's public .key file)")
    import zmq.auth

    if isinstance(client_key, tuple):
        public, secret = client_key
    else:
        public, secret = zmq.auth.load_certificate(os.fspath(client_key))
    if secret is None:
        raise ValueError(f"{client_key} holds no secret key; pass the .key_secret file")
    server_public = server_key if isinstance(server_key, bytes) else zmq.auth.load_certificate(
        os.fspath(server_key))[0]
    return secret, public, server_public
