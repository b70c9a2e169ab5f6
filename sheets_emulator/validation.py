"""Data validation rules: Sheets ``DataValidationRule`` JSON <-> Excel validations.

``rule_to_excel`` gives the keyword arguments of an openpyxl
``DataValidation`` (or None when Excel cannot express the rule, e.g. a
checkbox or a list item containing a comma); ``excel_to_rule`` reads an
openpyxl ``DataValidation`` back into the JSON Sheets returns.
"""

from __future__ import annotations

from typing import Any

_NUMBER_OPERATORS = {
    "NUMBER_GREATER": "greaterThan",
    "NUMBER_GREATER_THAN_EQ": "greaterThanOrEqual",
    "NUMBER_LESS": "lessThan",
    "NUMBER_LESS_THAN_EQ": "lessThanOrEqual",
    "NUMBER_EQ": "equal",
    "NUMBER_NOT_EQ": "notEqual",
    "NUMBER_BETWEEN": "between",
    "NUMBER_NOT_BETWEEN": "notBetween",
}
_OPERATOR_CONDITIONS = {v: k for k, v in _NUMBER_OPERATORS.items()}
EXCEL_LIST_LIMIT = 255


def normalize_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """In: a rule as a client sent it. Out: the rule as Google echoes it.

    Keys whose value is None or False are dropped (Google omits them) and
    condition values keep only ``userEnteredValue`` / ``relativeDate``.
    """
    out: dict[str, Any] = {}
    condition = rule.get("condition") or {}
    cond_out: dict[str, Any] = {"type": condition.get("type", "CONDITION_TYPE_UNSPECIFIED")}
    values = []
    for item in condition.get("values") or []:
        if not isinstance(item, dict):
            item = {"userEnteredValue": str(item)}
        kept = {
            k: (str(v) if k == "userEnteredValue" else v) for k, v in item.items() if v is not None
        }
        values.append(kept)
    if values:
        cond_out["values"] = values
    out["condition"] = cond_out
    for key in ("inputMessage", "strict", "showCustomUi"):
        value = rule.get(key)
        if value not in (None, False, ""):
            out[key] = value
    return out


def _values(rule: dict[str, Any]) -> list[str]:
    return [v.get("userEnteredValue", "") for v in rule["condition"].get("values", [])]


def rule_to_excel(rule: dict[str, Any]) -> dict[str, Any] | None:
    """In: a normalized rule. Out: openpyxl ``DataValidation`` kwargs, or None."""
    kind = rule["condition"]["type"]
    values = _values(rule)
    kwargs: dict[str, Any] = {
        "allow_blank": True,
        "showErrorMessage": bool(rule.get("strict")),
    }
    if rule.get("inputMessage"):
        kwargs["showInputMessage"] = True
        kwargs["prompt"] = rule["inputMessage"]
    if kind == "ONE_OF_LIST":
        if not values or any("," in v or '"' in v for v in values):
            return None
        formula = '"' + ",".join(values) + '"'
        if len(formula) > EXCEL_LIST_LIMIT:
            return None
        kwargs.update(type="list", formula1=formula)
        kwargs["showDropDown"] = not rule.get("showCustomUi")  # Excel's flag means "hide"
        return kwargs
    if kind == "ONE_OF_RANGE" and len(values) == 1:
        kwargs.update(type="list", formula1=values[0].lstrip("="))
        kwargs["showDropDown"] = not rule.get("showCustomUi")
        return kwargs
    if kind in _NUMBER_OPERATORS and values:
        kwargs.update(type="decimal", operator=_NUMBER_OPERATORS[kind], formula1=values[0])
        if len(values) > 1:
            kwargs["formula2"] = values[1]
        return kwargs
    if kind == "CUSTOM_FORMULA" and len(values) == 1:
        kwargs.update(type="custom", formula1=values[0].lstrip("="))
        return kwargs
    return None


def _split_excel_list(formula: str) -> list[str]:
    inner = formula[1:-1] if formula.endswith('"') else formula[1:]
    return [item.replace('""', '"') for item in inner.split(",")]


def excel_to_rule(dv: Any) -> dict[str, Any] | None:
    """In: an openpyxl ``DataValidation``. Out: the Sheets rule JSON, or None."""
    formula1 = dv.formula1 or ""
    rule: dict[str, Any]
    if dv.type == "list":
        if formula1.startswith('"'):
            condition = {
                "type": "ONE_OF_LIST",
                "values": [{"userEnteredValue": v} for v in _split_excel_list(formula1)],
            }
        else:
            condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=" + formula1}]}
        rule = {"condition": condition}
        if not dv.showDropDown:
            rule["showCustomUi"] = True
    elif dv.type in ("decimal", "whole") and (dv.operator or "between") in _OPERATOR_CONDITIONS:
        values = [{"userEnteredValue": formula1}]
        if dv.formula2:
            values.append({"userEnteredValue": dv.formula2})
        rule = {
            "condition": {"type": _OPERATOR_CONDITIONS[dv.operator or "between"], "values": values}
        }
    elif dv.type == "custom":
        rule = {
            "condition": {
                "type": "CUSTOM_FORMULA",
                "values": [{"userEnteredValue": "=" + formula1}],
            }
        }
    else:
        return None
    if dv.prompt:
        rule["inputMessage"] = dv.prompt
    if dv.showErrorMessage:
        rule["strict"] = True
    return normalize_rule(rule)
