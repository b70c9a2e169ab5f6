"""Landing what was read into raw, append-only: a new version only when the content changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

from psycopg2.extras import Json


def content_sha256(resource: dict) -> str:
    """Hash of the spreadsheet's content (canonical JSON), independent of key order."""
    canonical = json.dumps(resource, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # "surrogatepass": a lone surrogate (a cell cut inside an emoji) is hashed, not an error
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


#: what jsonb and UTF-8 cannot hold: NUL, and UTF-16 surrogates not in a pair
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(resource: dict) -> dict:
    """The resource as jsonb can hold it: NUL and lone surrogates, which PostgreSQL refuses
    (and which would stop the whole pull), become U+FFFD (the replacement character, shown to
    the unit as “\ufffd” where its text is quoted). Everything else is kept exactly as sent; the
    content hash is of what was sent."""
    text = json.dumps(resource, ensure_ascii=False)
    try:
        text.encode("utf-8")
        if "\\u0000" not in text:
            return resource
    except UnicodeEncodeError:
        pass

    def clean(value):
        if isinstance(value, str):
            return _UNSTORABLE.sub("\ufffd", value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(resource)


@dataclass(frozen=True)
class ReadEvidence:
    """When the content read existed, as far as Google can say (kept with the read, so that a
    received time can be defended): ``read_at`` the Date header of the spreadsheets.get
    answer, ``modified_after`` the file's modifiedTime asked right after it, ``revisions`` the
    file's Drive revisions then (a file shared by several units only). Any may be None: a call
    that failed proves nothing, and the rule falls back to the later bound."""

    read_at: str | None = None
    modified_after: str | None = None
    revisions: list | None = None


def land_version(
    conn,
    *,
    pull_run_id: str,
    spreadsheet_id: str,
    drive_modified_time: str | None,
    fetched_at: dt.datetime,
    resource: dict,
    evidence: ReadEvidence = ReadEvidence(),
) -> tuple[str, int]:
    """Store the spreadsheet's content unless it equals its latest stored version.

    Returns (outcome, sheet_version_id) with outcome 'new_version' or 'unchanged'. Safe when
    two pulls land the same spreadsheet at once (a lock per spreadsheet). The read's evidence
    goes with the new version and with the fetch record, either way.
    """
    digest = content_sha256(resource)
    resource = storable(resource)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (spreadsheet_id,))
        cur.execute(
            """
            select sheet_version_id, content_sha256 from raw.sheet_versions
            where spreadsheet_id = %s order by sheet_version_id desc limit 1""",
            (spreadsheet_id,),
        )
        latest = cur.fetchone()
        if latest and latest[1] == digest:
            outcome, version_id = "unchanged", latest[0]
        else:
            cur.execute(
                """
                insert into raw.sheet_versions (spreadsheet_id, spreadsheet_title,
                    drive_modified_time, fetched_at, content_sha256, payload, pull_run_id,
                    read_at, modified_after, revisions)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning sheet_version_id""",
                (
                    spreadsheet_id,
                    resource.get("properties", {}).get("title"),
                    drive_modified_time or None,
                    fetched_at,
                    digest,
                    Json(resource),
                    pull_run_id,
                    *_evidence_values(evidence),
                ),
            )
            outcome, version_id = "new_version", cur.fetchone()[0]
        record_fetch(
            cur,
            pull_run_id=pull_run_id,
            spreadsheet_id=spreadsheet_id,
            drive_modified_time=drive_modified_time,
            attempted_at=fetched_at,
            outcome=outcome,
            sheet_version_id=version_id,
            evidence=evidence,
        )
    conn.commit()
    return outcome, version_id


def _evidence_values(evidence: ReadEvidence) -> tuple:
    return (
        evidence.read_at or None,
        evidence.modified_after or None,
        Json(evidence.revisions) if evidence.revisions is not None else None,
    )


def record_fetch(
    cur,
    *,
    pull_run_id: str,
    spreadsheet_id: str,
    drive_modified_time: str | None,
    attempted_at: dt.datetime,
    outcome: str,
    sheet_version_id: int | None = None,
    error_message: str | None = None,
    evidence: ReadEvidence = ReadEvidence(),
) -> None:
    cur.execute(
        """
        insert into raw.sheet_fetches (pull_run_id, spreadsheet_id, drive_modified_time,
            attempted_at, outcome, sheet_version_id, error_message, read_at, modified_after,
            revisions)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            pull_run_id,
            spreadsheet_id,
            drive_modified_time or None,
            attempted_at,
            outcome,
            sheet_version_id,
            error_message,
            *_evidence_values(evidence),
        ),
    )
