"""A poll's answer, ``{"job": job_info(job)}``, rendered from the job's shown columns in Python.

The pure-Python twin of _poll_readers.c's batch_answer, used by storage.polls.pure_readers: the same
bytes from the same column values. taskcenter.domain.wire.job_info is the definition; the store
contract tests hold both renderings to it, and tests/storage/test_poll_readers.py holds this one to
the C byte for byte, on odd values too.

Texts arrive as the database sent them, in bytes. orjson writes each string exactly as the C does
(quotes, backslashes and control characters escaped, the rest as it is); a text that is not UTF-8,
which only a hand edit of a SQLite file can store, is escaped here the same way, byte by byte, as
the C copies it.
"""

from __future__ import annotations

import re
import time

import orjson

_EMPTY_OBJECT = orjson.Fragment(b"{}")
_ESCAPED = re.compile(rb'[\x00-\x1f"\\]')
_SHORT_ESCAPES = {
    b'"': b'\\"', b"\\": b"\\\\", b"\b": b"\\b", b"\f": b"\\f", b"\n": b"\\n", b"\r": b"\\r", b"\t": b"\\t"
}  # fmt: skip


def render(
    job_id: bytes | None,
    name: bytes | None,
    status: bytes | None,
    created_us: int,
    ended_us: int | None,
    progress: int,
    instance_id: bytes | None,
    instance_name: bytes | None,
    entities: bytes | None,
    fail_reason: bytes | None,
) -> bytes:
    """The answer's JSON, compact as the cloud writes it. A None text is SQL's NULL, shown as "";
    ``entities`` is the stored JSON text, written as it is ({} when there is none)."""
    has_instance = instance_id is not None
    return orjson.dumps(
        {
            "job": {
                "id": _string(job_id),
                "name": _string(name),
                "status": _string(status),
                "created": _time(created_us),
                "ended": "" if ended_us is None else _time(ended_us),
                "process": f"{progress}%" if status == b"Running" else "",
                "instance": {
                    "id": _string(instance_id),
                    "name": _string(instance_name if has_instance else None),
                },
                "entities": orjson.Fragment(entities) if entities else _EMPTY_OBJECT,
                "fail_reason": _string(fail_reason if status == b"Failed" else None),
            }
        }
    )


def _string(text: bytes | None) -> str | orjson.Fragment:
    if text is None:
        return ""
    try:
        return text.decode()
    except UnicodeDecodeError:
        escaped = _ESCAPED.sub(lambda m: _SHORT_ESCAPES.get(m[0]) or b"\\u%04x" % m[0][0], text)
        return orjson.Fragment(b'"' + escaped + b'"')


def _time(us: int) -> str:
    """yyyy-mm-ddThh:mm:ss+0000, the fraction of a second cut off (wire.format_time), for any
    64-bit count of microseconds since the Unix epoch, as C's gmtime_r gives it."""
    t = time.gmtime(us // 1_000_000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}+0000"
    )
