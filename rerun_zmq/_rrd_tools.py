"""``rerun-zmq rrd print|stats|verify|merge``: inspect and combine .rrd files."""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import _wire
from ._chunk import ChunkError, parse_chunk
from ._rrd import RrdError, RrdReader, RrdWriter
from ._wire import ChunkMsg, Hello


def stats(path: str) -> dict:
    """Summary of a file; raises ``RrdError`` if it is not an .rrd at all."""
    reader = RrdReader(path)
    recordings: dict[str, dict] = {}
    entities: set[str] = set()
    timelines: dict[str, str] = {}
    rows = chunks = bad_chunks = 0
    producers: set[str] = set()
    for msg in reader:
        if isinstance(msg, Hello):
            recordings.setdefault(msg.recording_id, {"application_id": msg.application_id,
                                                     "recording_id": msg.recording_id,
                                                     "store_kind": msg.store_kind})
            producers.add(msg.producer_id)
        elif isinstance(msg, ChunkMsg):
            try:
                info = parse_chunk(msg.batch)
            except ChunkError:
                bad_chunks += 1
                continue
            chunks += 1
            rows += msg.batch.num_rows
            if msg.store_kind == "recording":
                entities.add(info.entity_path)
                timelines.update(info.timelines)
    return {
        "path": str(path),
        "format_version": reader.format_version,
        "writer_version": reader.writer_version,
        "bytes": reader.size,
        "recordings": list(recordings.values()),
        "producers": len(producers),
        "entities": sorted(entities),
        "timelines": dict(sorted(timelines.items())),
        "rows": rows,
        "chunks": chunks,
        "invalid_chunks": bad_chunks,
        "complete": reader.complete and bad_chunks == 0,
        "stopped_at": reader.stopped_at,
        "error": reader.error,
    }


def _print(path: str, out) -> int:
    reader = RrdReader(path)
    print(f"# {path}: format version {reader.format_version}, written by {reader.writer_version}", file=out)
    for i, msg in enumerate(reader):
        if isinstance(msg, ChunkMsg):
            meta = msg.batch.schema.metadata or {}
            ent = meta.get(b"rz.entity_path", b"?").decode()
            static = " static" if meta.get(b"rz.is_static") == b"1" else ""
            print(f"[{i}] CHUNK {ent}{static} rows={msg.batch.num_rows} recording={msg.recording_id}", file=out)
            for field in msg.batch.schema:
                print(f"      {field.name}: {field.type}", file=out)
        else:
            print(f"[{i}] {json.dumps(_wire.to_json_dict(msg))}", file=out)
    if reader.complete:
        print("# complete", file=out)
    else:
        print(f"# INCOMPLETE: {reader.error}", file=out)
    return 0


def _merge(out_path: str, inputs: list[str]) -> int:
    # every input opened (and checked) before the output is created: writing truncates ``out_path``,
    # which would destroy an input given as the output too (and fault the reader mapping it)
    readers = [RrdReader(path) for path in inputs]
    if os.path.exists(out_path) and any(os.path.samefile(out_path, path) for path in inputs):
        raise RrdError(f"merge output {out_path} is also one of its inputs; write to a new file")
    writer = RrdWriter(out_path)
    incomplete = []
    try:
        for path, reader in zip(inputs, readers):
            for msg in reader:
                writer.write(msg)
            if not reader.complete:
                incomplete.append(f"{path}: {reader.error}")
    finally:
        writer.close()
    for line in incomplete:
        print(f"warning: merged what was readable of {line}", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rerun-zmq rrd", description="Inspect and combine .rrd files.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("print", help="human-readable dump of every message")
    p.add_argument("file")
    p = sub.add_parser("stats", help="summary (recordings, entities, timelines, rows, completeness)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("verify", help="exit 0 only for a complete, valid file")
    p.add_argument("file")
    p = sub.add_parser("merge", help="write the messages of several files into one")
    p.add_argument("out")
    p.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "print":
            return _print(args.file, sys.stdout)
        if args.cmd == "merge":
            return _merge(args.out, args.inputs)
        s = stats(args.file)
    except (RrdError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.cmd == "verify":
        if s["complete"]:
            print(f"ok: {args.file}: {s['rows']} rows in {s['chunks']} chunks, complete")
            return 0
        print(f"invalid: {args.file}: {s['error'] or 'invalid chunks'}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        for key, value in s.items():
            print(f"{key}: {value}")
    return 0
