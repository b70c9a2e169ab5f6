"""Google partial-response field masks (the ``fields`` parameter).

Syntax handled: comma lists (``a,b``), paths with ``.`` or ``/``
(``sheets.properties.title``, ``files/id``), sub-selections
(``sheets(properties(sheetId,title),data(rowData(values(formattedValue))))``)
and ``*`` (everything at that level).  ``parse_mask`` gives a tree where
``None`` means "the whole value"; ``apply_mask`` projects JSON with it.
"""

from __future__ import annotations

from typing import Any

Mask = dict[str, Any] | None  # None = select everything below


class FieldMaskError(ValueError):
    """Raised for a malformed field mask."""


def _merge(a: Mask, b: Mask) -> Mask:
    if a is None or b is None:
        return None
    out = dict(a)
    for key, sub in b.items():
        out[key] = _merge(out[key], sub) if key in out else sub
    return out


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise FieldMaskError(text)
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise FieldMaskError(text)
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _parse_item(item: str) -> dict[str, Any]:
    sub: Mask = None
    if "(" in item:
        head, _, rest = item.partition("(")
        if not rest.endswith(")"):
            raise FieldMaskError(item)
        sub = parse_mask(rest[:-1])
        item = head
    segments = list(item.replace("/", ".").split("."))
    if any(not s.strip() for s in segments):
        raise FieldMaskError(item)
    node: dict[str, Any] = {segments[-1].strip(): sub}
    for segment in reversed(segments[:-1]):
        node = {segment.strip(): node}
    return node


def parse_mask(text: str) -> Mask:
    """In: a ``fields`` string. Out: the mask tree (None for '' or '*')."""
    text = (text or "").strip()
    if text in ("", "*"):
        return None
    mask: dict[str, Any] = {}
    for item in _split_top(text):
        mask = _merge(mask, _parse_item(item))  # type: ignore[assignment]
        if mask is None:
            return None
    return mask


def apply_mask(value: Any, mask: Mask) -> Any:
    """In: JSON value and mask tree. Out: the projected value (lists map element-wise)."""
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply_mask(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        star = mask["*"]
        return {
            k: apply_mask(v, _merge(star, mask[k]) if k in mask else star) for k, v in value.items()
        }
    return {key: apply_mask(item, mask[key]) for key, item in value.items() if key in mask}


def mask_selects(mask: Mask, *path: str) -> bool:
    """Out: whether anything at ``path`` (e.g. 'sheets', 'data') is selected."""
    node = mask
    for key in path:
        if node is None:
            return True
        if key in node:
            node = node[key]
        elif "*" in node:
            node = node["*"]
        else:
            return False
    return True


def top_level_paths(text: str) -> list[list[str]]:
    """In: an update mask like ``title,gridProperties.frozenRowCount``.

    Out: the leaf paths as key lists (``*`` stays ``['*']``).
    """
    mask = parse_mask(text) if text and text.strip() != "*" else None
    if mask is None:
        return [["*"]]
    paths: list[list[str]] = []

    def walk(node: dict[str, Any], prefix: list[str]) -> None:
        for key, sub in node.items():
            if sub is None:
                paths.append(prefix + [key])
            else:
                walk(sub, prefix + [key])

    walk(mask, [])
    return paths
