"""Checking the unit and period codes typed on the command line, before any work starts.

Each check returns the catalogue entry, or raises :class:`tonghop.errors.UserError` (exit 2)
with a Vietnamese message naming the nearest codes (``difflib``), or every code when the list
is short, so that a typo costs one look at the screen, not a started database.
"""

from __future__ import annotations

import difflib
import re

from tonghop.catalogue import CATALOGUE_DIR, Catalogue, Period, Unit
from tonghop.errors import UserError
from tonghop.settings import PROJECT_ROOT
from tonghop.vn import fold, nfc

#: a list of codes at most this long is shown in full in the message
LIST_ALL_UP_TO = 12
#: nearest codes suggested
SUGGESTIONS = 3
#: dashes a code copied from a Word document or a PDF may carry instead of "-"
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣－", "-"))


def _normal(code: str) -> str:
    return nfc(code).translate(_DASHES).strip().upper()


def _unpadded(code: str) -> str:
    """ "CB-XA-001" -> "CB-XA-1": a number typed without its leading zeros is the same code."""
    return re.sub(r"\d+", lambda m: str(int(m.group())), code)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (codes are short)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def nearest(code: str, choices, n: int = SUGGESTIONS) -> list[str]:
    """The codes of ``choices`` closest to ``code``: case, spaces, dashes and leading zeros
    ignored; among those ``difflib`` finds similar enough, the fewest edits first."""
    typed = _normal(code)
    ranked = []
    for choice in choices:
        normal = _normal(choice)
        ratio = difflib.SequenceMatcher(None, typed, normal).ratio()
        same = _unpadded(typed) == _unpadded(normal)
        if same or ratio >= 0.6:
            ranked.append((0 if same else _edits(typed, normal), -ratio, choice))
    return [choice for *_, choice in sorted(ranked)[:n]]


def _catalogue_file(name: str) -> str:
    path = CATALOGUE_DIR / f"{name}.csv"
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _unit_label(catalogue: Catalogue, code: str) -> str:
    unit = catalogue.units.get(code)
    return f"{code} ({unit.unit_name})" if unit else code


def require_period(catalogue: Catalogue, code: str) -> Period:
    """The period ``code``; UserError naming the nearest periods and, if few, all of them."""
    if code in catalogue.periods:
        return catalogue.periods[code]
    known = sorted(catalogue.periods)
    message = f"Không có kỳ báo cáo “{code}” trong danh mục."
    close = nearest(code, known)
    if close:
        message += f" Có phải ý bạn là: {', '.join(close)}?"
    if len(known) <= LIST_ALL_UP_TO:
        message += f" Các kỳ hiện có: {', '.join(known)}."
    else:
        message += f" Danh mục kỳ báo cáo: {_catalogue_file('periods')}."
    raise UserError(message)


def require_unit(catalogue: Catalogue, code: str) -> Unit:
    """The unit ``code``; UserError naming the nearest codes (or names, for a unit's name typed
    instead of its code)."""
    if code in catalogue.units:
        return catalogue.units[code]
    message = f"Không có đơn vị mã “{code}” trong danh mục."
    close = nearest(code, catalogue.units)
    if not close:  # a name typed instead of a code: "So Noi vu" finds Sở Nội vụ
        names: dict[str, str] = {}
        for unit in catalogue.units.values():
            names.setdefault(fold(unit.unit_name), unit.unit_code)
            names.setdefault(fold(unit.short_name), unit.unit_code)
        close = list(
            dict.fromkeys(
                names[m]
                for m in difflib.get_close_matches(fold(code), names, n=SUGGESTIONS, cutoff=0.6)
            )
        )
    if close:
        message += " Có phải ý bạn là: " + ", ".join(_unit_label(catalogue, c) for c in close) + "?"
    if len(catalogue.units) <= LIST_ALL_UP_TO:
        message += f" Các đơn vị hiện có: {', '.join(sorted(catalogue.units))}."
    else:
        message += (
            " Mã đơn vị ghi ở trang “Thông tin” của mẫu báo cáo đã được cấp; danh mục "
            f"{len(catalogue.units)} đơn vị: {_catalogue_file('units')}."
        )
    raise UserError(message)


def _periods_of_unit(catalogue: Catalogue, unit_code: str) -> list[str]:
    return sorted(
        p.period_code
        for p in catalogue.periods.values()
        if catalogue.tasks_for(p.programme_code, unit_code)
        and unit_code in catalogue.period_units.get(p.period_code, {unit_code})
    )


def require_unit_in_programme(catalogue: Catalogue, unit_code: str, period_code: str) -> Unit:
    """A unit that has tasks in the programme of the period (it has a report to fill)."""
    period = require_period(catalogue, period_code)
    unit = require_unit(catalogue, unit_code)
    if catalogue.tasks_for(period.programme_code, unit_code):
        return unit
    programme = catalogue.programmes.get(period.programme_code, {})
    message = (
        f"Đơn vị {_unit_label(catalogue, unit_code)} không được giao nhiệm vụ nào trong "
        f"chương trình {period.programme_code}"
        + (f" ({programme['short_name']})" if programme.get("short_name") else "")
        + f" của kỳ {period_code}, nên không có báo cáo của đơn vị này cho kỳ đó."
    )
    periods = _periods_of_unit(catalogue, unit_code)
    message += (
        f" Các kỳ đơn vị này phải báo cáo: {', '.join(periods)}."
        if periods
        else " Đơn vị này không phải báo cáo kỳ nào trong danh mục."
    )
    raise UserError(message)


def require_expected_unit(catalogue: Catalogue, unit_code: str, period_code: str) -> Unit:
    """A unit that must report for the period (:meth:`Catalogue.expected_units`)."""
    unit = require_unit(catalogue, unit_code)
    expected = [u.unit_code for u in catalogue.expected_units(period_code)]
    if unit_code in expected:
        return unit
    message = (
        f"Đơn vị {_unit_label(catalogue, unit_code)} không phải báo cáo kỳ "
        f"{period_code} (không có trong {len(expected)} đơn vị phải báo cáo kỳ này)."
    )
    close = nearest(unit_code, expected)
    if close:
        message += " Có phải ý bạn là: " + ", ".join(_unit_label(catalogue, c) for c in close) + "?"
    raise UserError(message)
