"""What a client sent, made safe to write into a log line."""

from __future__ import annotations


def escape(value: object) -> str:
    """``value`` as text for a log line, in Python's backslash escapes where it is not printable.

    A client's path, user name, header or query value may hold line breaks (a forged log line),
    terminal escape sequences (ESC: colours, a rewritten screen), NUL, or invisible characters
    that reorder what is shown (U+202E). Printable characters, Chinese included, stay as they
    are; every other one, and the backslash, becomes its escape (``\\n``, ``\\x1b``,
    ``\\u202e``, ``\\\\``), so one log line is one line and shows exactly what was sent.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        c if c.isprintable() and c != "\\" else c.encode("unicode_escape").decode("ascii") for c in text
    )
