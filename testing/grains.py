"""The marts' grains, read from the dbt project's key constraints (and unique tests): what no
mart may repeat, and the check that none does (the fault suite, the BI consistency tests and the
load benchmark)."""

from __future__ import annotations

from pathlib import Path

#: the marts' models and their tests: every yml under this folder of the dbt project
MARTS = Path("models") / "marts"


def mart_grains(project_dir: Path) -> dict[str, list[tuple[str, ...]]]:
    """mart → its keys, one per ``primary_key`` / ``unique`` constraint (the database refuses a
    duplicate before BI sees it) and per ``unique`` / ``unique_combination_of_columns`` test in
    the marts' yml: what no mart may repeat (checked by the fault suite and the load bench)."""
    import yaml

    grains: dict[str, list[tuple[str, ...]]] = {}
    models = [
        model
        for path in sorted((Path(project_dir) / MARTS).rglob("*.yml"))
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []
    ]
    for model in models:
        keys = [
            tuple(constraint["columns"])
            for constraint in model.get("constraints") or []
            if constraint.get("type") in ("primary_key", "unique")
        ]
        for test in model.get("data_tests") or []:
            if isinstance(test, dict) and "unique_combination_of_columns" in test:
                spec = test["unique_combination_of_columns"]
                keys.append(tuple((spec.get("arguments") or spec)["combination_of_columns"]))
        for column in model.get("columns") or []:
            for test in column.get("data_tests") or []:
                if test == "unique" or (isinstance(test, dict) and "unique" in test):
                    keys.append((column["name"],))
        grains[model["name"]] = keys
    return grains


def grain_duplicates(cur, mart: str, key: tuple[str, ...]) -> int:
    """Rows of ``marts.<mart>`` beyond the first for each value of ``key`` (0: none repeated)."""
    cur.execute(f"""select coalesce(sum(n - 1), 0) from (
                        select count(*) as n from marts.{mart} group by {", ".join(key)}
                        having count(*) > 1) d""")
    return int(cur.fetchone()[0])


def repeated_grain_keys(
    cur, grains: dict[str, list[tuple[str, ...]]]
) -> dict[tuple[str, tuple[str, ...]], int]:
    """(mart, key) → its rows beyond the first, for each key of ``grains`` (as
    :func:`mart_grains` gives them) that some rows of the mart repeat; empty when none does."""
    repeated = {}
    for mart, keys in grains.items():
        for key in keys:
            if extra := grain_duplicates(cur, mart, key):
                repeated[(mart, key)] = extra
    return repeated
