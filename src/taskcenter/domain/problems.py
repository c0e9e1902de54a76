"""What is wrong with a request: every problem at once, each naming its field, in both languages.

A client that sends a body with four mistakes learns all four from one answer (it took a new
user eight tries to create a first instance when each answer named one). Validators add to a
``Problems`` and raise once at the end; the wording of the usual reasons lives here, so every
endpoint says the same thing the same way in English and Chinese.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from taskcenter.domain.errors import InvalidParameter

_KINDS_ZH = {
    "a string": "字符串",
    "an integer": "整数",
    "a boolean": "布尔值",
    "a JSON object": "JSON 对象",
    "an object": "对象",
    "a list": "列表",
    "a number": "数字",
}


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (\\x00, \\u2028, ...).

    Field names can come from a client (a key of ``entities``); they are echoed in messages.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    en: str
    zh: str

    def text(self, language: str) -> str:
        return f"{self.field}: {self.zh if language == 'zh-cn' else self.en}"


class Problems:
    """Collects the problems of one request; ``check()`` raises them all as one InvalidParameter."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, field: str, en: str, zh: str) -> None:
        self._items.append(Problem(printable(field), en, zh))

    def has(self, field: str) -> bool:
        """Whether ``field`` (or anything inside it) already has a problem."""
        return any(p.field == field or p.field.startswith((f"{field}.", f"{field}[")) for p in self._items)

    # The usual reasons, worded once.
    def required(self, field: str) -> None:
        self.add(field, "is required.", "必填。")

    def wrong_type(self, field: str, kind: str) -> None:
        self.add(field, f"must be {kind}.", f"必须是{_KINDS_ZH.get(kind, kind)}。")

    def too_long(self, field: str, limit: int, unit: str = "characters") -> None:
        unit_zh = {"characters": "个字符", "bytes": "字节", "items": "项"}.get(unit, unit)
        self.add(field, f"must be at most {limit} {unit}.", f"最多 {limit} {unit_zh}。")

    def not_one_of(self, field: str, allowed: list[str] | tuple[str, ...]) -> None:
        listed = ", ".join(allowed)
        self.add(field, f"must be one of {listed}.", f"必须是以下之一：{listed}。")

    def out_of_range(self, field: str, low: int, high: int) -> None:
        self.add(field, f"must be an integer from {low} to {high}.", f"必须是 {low} 到 {high} 之间的整数。")

    def unknown(self, field: str, allowed: frozenset[str]) -> None:
        listed = ", ".join(sorted(allowed))
        self.add(
            field,
            f"unknown field; allowed fields are {listed}.",
            f"未知字段；允许的字段为 {listed}。",
        )

    def check(self) -> None:
        if self._items:
            raise invalid(self._items)


MAX_LISTED = 20  # a body with ten thousand bad strings gets a message of readable size


def invalid(problems: list[Problem] | Problems) -> InvalidParameter:
    """One InvalidParameter whose message lists every problem, in English and in Chinese."""
    items = list(problems)
    en = [p.text("en-us") for p in items[:MAX_LISTED]]
    zh = [p.text("zh-cn") for p in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        en.append(f"... and {len(items) - MAX_LISTED} more problems.")
        zh.append(f"……另有 {len(items) - MAX_LISTED} 个问题。")
    return InvalidParameter(" ".join(en), " ".join(zh))


def bad(field: str, en: str, zh: str) -> InvalidParameter:
    """A request with one problem (where nothing else can be checked without this field)."""
    return invalid([Problem(printable(field), en, zh)])
