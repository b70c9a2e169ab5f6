"""Drive v3 search queries (the ``q`` parameter of files.list).

``compile_query(q)`` parses a query and returns a predicate over Drive
records.  Supported: ``and`` / ``or`` / ``not`` / parentheses; ``name``
(=, !=, contains — word-prefix match, case-insensitive, as Drive does);
``fullText contains`` (approximated on the name); ``mimeType`` (=, !=);
``trashed`` / ``starred`` (=, !=); ``createdTime`` / ``modifiedTime``
(=, !=, <, <=, >, >=); ``'ID' in parents`` (also ``parents in 'ID'``);
``appProperties has { key='k' and value='v' }`` (same for
``properties``).  Strings may use single or double quotes with ``\\``
escapes.  Anything else raises :class:`QueryError` (Drive answers 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .timeutil import parse_time

Predicate = Callable[[dict[str, Any]], bool]
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(){}])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<num>-?\d+(?:\.\d+)?)
    )""",
    re.VERBOSE,
)
_TIME_FIELDS = {"createdTime", "modifiedTime"}
_BOOL_FIELDS = {"trashed", "starred"}
_ROOT_ALIASES = {"root"}


class QueryError(ValueError):
    """Raised when a Drive query cannot be parsed or uses an unsupported term."""


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot parse query near: {text[pos : pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "num":
            value = float(value)
        tokens.append((kind, value))
    return tokens


def word_prefix_match(name: str, needle: str) -> bool:
    """Out: whether ``needle`` starts ``name`` or one of its words (case-insensitive)."""
    name, needle = name.casefold(), needle.casefold()
    if not needle:
        return True
    start = name.find(needle)
    while start != -1:
        if start == 0 or not name[start - 1].isalnum():
            return True
        start = name.find(needle, start + 1)
    return False


class _Parser:
    def __init__(self, text: str, root_id: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.root_id = root_id

    def peek(self, offset: int = 0) -> tuple[str, Any]:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", None)

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        self.pos += 1
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        kind, value = self.peek(offset)
        return kind == "word" and value.lower() == word

    def expect(self, kind: str, value: Any = None) -> Any:
        got_kind, got = self.take()
        if got_kind != kind or (value is not None and str(got).lower() != value):
            raise QueryError(f"expected {value or kind}, got {got!r}")
        return got

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        if self.peek()[0] != "end":
            raise QueryError(f"unexpected {self.peek()[1]!r}")
        return predicate

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.is_word("and"):
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def parse_not(self) -> Predicate:
        if self.is_word("not"):
            self.take()
            inner = self.parse_not()
            return lambda r: not inner(r)
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.parse_or()
            self.expect("punct", ")")
            return inner
        return self.parse_term()

    def parse_term(self) -> Predicate:
        kind, value = self.take()
        if kind == "str":  # 'ID' in parents
            self.expect("word", "in")
            field = self.expect("word")
            return self._in_parents(field, value)
        if kind != "word":
            raise QueryError(f"unexpected {value!r}")
        field = value
        if self.is_word("has"):
            self.take()
            return self._has(field)
        if self.is_word("in"):  # parents in 'ID' (what gspread sends)
            self.take()
            return self._in_parents(field, self.expect("str"))
        if self.is_word("contains"):
            self.take()
            return self._contains(field, self.expect("str"))
        op_kind, op = self.take()
        if op_kind != "op":
            raise QueryError(f"expected an operator after {field}")
        return self._compare(field, op, self.take())

    def _in_parents(self, field: str, folder: str) -> Predicate:
        if field != "parents":
            raise QueryError(f"'in' is not supported for {field}")
        targets = {self.root_id if folder in _ROOT_ALIASES else folder}
        return lambda r: bool(targets.intersection(r.get("parents") or []))

    def _has(self, field: str) -> Predicate:
        if field not in ("appProperties", "properties"):
            raise QueryError(f"'has' is not supported for {field}")
        self.expect("punct", "{")
        self.expect("word", "key")
        self.expect("op", "=")
        key = self.expect("str")
        self.expect("word", "and")
        self.expect("word", "value")
        self.expect("op", "=")
        wanted = self.expect("str")
        self.expect("punct", "}")
        return lambda r: (r.get(field) or {}).get(key) == wanted

    def _contains(self, field: str, needle: str) -> Predicate:
        if field in ("name", "fullText"):
            return lambda r: word_prefix_match(r.get("name", ""), needle)
        if field == "mimeType":
            return lambda r: needle in r.get("mimeType", "")
        raise QueryError(f"'contains' is not supported for {field}")

    def _compare(self, field: str, op: str, token: tuple[str, Any]) -> Predicate:
        kind, value = token
        if field in _BOOL_FIELDS:
            if kind != "word" or value.lower() not in ("true", "false") or op not in ("=", "!="):
                raise QueryError(f"bad comparison for {field}")
            wanted = value.lower() == "true"
            return lambda r: (bool(r.get(field, False)) == wanted) == (op == "=")
        if kind != "str":
            raise QueryError(f"expected a quoted value for {field}")
        if field in _TIME_FIELDS:
            try:
                moment = parse_time(value)
            except ValueError as exc:
                raise QueryError(f"bad time {value!r}") from exc
            return _time_predicate(field, op, moment)
        if field in ("name", "mimeType") and op in ("=", "!="):
            return lambda r: (r.get(field) == value) == (op == "=")
        raise QueryError(f"unsupported term: {field} {op}")


def _time_predicate(field: str, op: str, moment: Any) -> Predicate:
    compare = {
        "=": lambda a: a == moment,
        "!=": lambda a: a != moment,
        "<": lambda a: a < moment,
        "<=": lambda a: a <= moment,
        ">": lambda a: a > moment,
        ">=": lambda a: a >= moment,
    }[op]
    return lambda r: compare(parse_time(r[field]))


def compile_query(text: str, root_id: str) -> Predicate:
    """In: a Drive ``q`` string and the id 'root' stands for. Out: predicate(record) -> bool."""
    if not text or not text.strip():
        return lambda r: True
    return _Parser(text, root_id).parse()
