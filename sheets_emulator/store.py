"""The store: a folder of ``<id>.xlsx`` workbooks plus ``_drive.json``.

:class:`SpreadsheetStore` owns Drive metadata (id -> name, mimeType,
createdTime, modifiedTime, parents, appProperties, permissions, trashed)
and an LRU cache of parsed workbooks.  Reads hand out immutable model
snapshots; :meth:`SpreadsheetStore.edit` clones, lets the caller change
the clone, then writes the xlsx, bumps ``modifiedTime`` and swaps the
clone in (copy-on-write, so readers never see half an edit).

Every content change is also a Drive revision (``revisions.list``) with its
time and editor: the API caller, or ``edit(id, user=email)``'s ``user``.  Every
change to a file (content or metadata) bumps its Drive ``version``; the caller
whose change last moved ``modifiedTime`` is its ``lastModifyingUser``.
Times come from the emulator's clock, which stands in for Google's:
``set_clock(when)`` makes ``now()`` run on from ``when`` (``None``: real
time), for this store, every server on the same root (``_clock.json``) and
the ``Date`` header of their answers.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import string
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

try:  # POSIX: serialize _drive.json updates across processes sharing a root
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from .model import (
    NEW_SPREADSHEET_LOCALE,
    NEW_SPREADSHEET_TIME_ZONE,
    WorkbookModel,
    clone_workbook,
    new_workbook,
)
from .timeutil import TimeLike, format_time, parse_time
from .xlsx_grid import load_model, model_to_bytes, save_model

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
DRIVE_FILE = "_drive.json"
LOCK_FILE = "_drive.lock"
#: the emulator's clock (Google's clock, which tests move): ``{"offset_seconds": s}`` — the
#: emulator's now is the real time plus that offset; a file so that a test process and a
#: separate server process sharing the root read the same time
CLOCK_FILE = "_clock.json"
ROOT_FOLDER_ID = "0AEmulatorRootFolderUk9PVA"
DEFAULT_OWNER = "tonghop-emulator@tonghop-local.iam.gserviceaccount.com"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class UnknownFile(KeyError):
    """Raised when a file id is not in the store."""


def new_file_id() -> str:
    """Out: a random Google-looking id: 44 url-safe characters starting with '1'."""
    return "1" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(43))


def permission_id(kind: str, who: str | None, with_link: bool = False) -> str:
    """Out: a stable Drive-looking permission id for a grantee."""
    if kind == "anyone":
        return "anyoneWithLink" if with_link else "anyone"
    digest = hashlib.sha256(f"{kind}:{(who or '').lower()}".encode()).hexdigest()
    return str(int(digest[:16], 16)).rjust(20, "0")[:20]


def owner_permission(email: str) -> dict[str, Any]:
    """Out: the owner permission every new file gets."""
    return {
        "kind": "drive#permission",
        "id": permission_id("user", email),
        "type": "user",
        "role": "owner",
        "emailAddress": email,
        "displayName": email.split("@")[0],
        "deleted": False,
        "pendingOwner": False,
    }


class SpreadsheetStore:
    """Spreadsheets in ``root`` with Drive metadata; thread-safe (one RLock).

    In: ``root`` folder (created if missing), ``cache_size`` (parsed
    workbooks kept in memory), ``owner_email`` (owner permission of new
    files) and ``id_factory`` (returns new file ids; random by default).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        cache_size: int = 4096,
        owner_email: str = DEFAULT_OWNER,
        id_factory: Callable[[], str] | None = None,
        new_locale: str = NEW_SPREADSHEET_LOCALE,
        new_time_zone: str = NEW_SPREADSHEET_TIME_ZONE,
    ) -> None:
        self.root = Path(root)
        self.new_locale = new_locale
        self.new_time_zone = new_time_zone
        self.root.mkdir(parents=True, exist_ok=True)
        self.cache_size = cache_size
        self.owner_email = owner_email
        self.id_factory = id_factory or new_file_id
        self.lock = threading.RLock()
        self._files: dict[str, dict[str, Any]] = {}
        self._encoded: dict[str, bytes] = {}  # id -> its '"id":{...}' JSON, for fast saves
        self._pending: set[str] = set()  # ids whose record changed since the last save
        self._cache: OrderedDict[str, tuple[WorkbookModel, tuple]] = OrderedDict()
        self._defer = 0
        self._folder_lock_depth = 0
        self._lock_handle = open(self.root / LOCK_FILE, "a+b")  # noqa: SIM115 (held open: the store's lock)
        self._drive_stat: tuple | None = None
        self._clock_offset = dt.timedelta(0)
        self._clock_stat: tuple | None = ("unread",)
        with self._writing():
            self._adopt_orphans()

    # ------------------------------------------------------------ clock
    @property
    def clock_path(self) -> Path:
        """Out: path of ``_clock.json``."""
        return self.root / CLOCK_FILE

    def now(self) -> dt.datetime:
        """Out: the emulator's now (Google's clock): real time plus the offset
        :meth:`set_clock` left in ``_clock.json``, UTC, millisecond precision."""
        stat = self._stat(self.clock_path)
        if stat != self._clock_stat:
            offset = 0.0
            if stat is not None:
                with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                    offset = float(json.loads(self.clock_path.read_text("utf-8"))["offset_seconds"])
            self._clock_offset, self._clock_stat = dt.timedelta(seconds=offset), stat
        moment = dt.datetime.now(dt.UTC) + self._clock_offset
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def set_clock(self, when: TimeLike | None) -> None:
        """From now on the emulator's now is ``when`` and advances in real time from there
        (every modifiedTime, revision and ``Date`` header follows it); ``None`` goes back to
        real time. Shared through ``_clock.json`` with every store and server on this root."""
        with self.lock:
            if when is None:
                with contextlib.suppress(FileNotFoundError):
                    self.clock_path.unlink()
            else:
                offset = (parse_time(when) - dt.datetime.now(dt.UTC)).total_seconds()
                tmp = self.clock_path.with_name(f".{CLOCK_FILE}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps({"offset_seconds": offset}), "utf-8")
                os.replace(tmp, self.clock_path)
            self._clock_stat = ("unread",)  # re-read at the next now()

    # ------------------------------------------------------------ persistence
    @property
    def drive_path(self) -> Path:
        """Out: path of ``_drive.json``."""
        return self.root / DRIVE_FILE

    def _stat(self, path: Path) -> tuple | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _sync_drive(self) -> None:
        """Reload ``_drive.json`` if another process (or store object) changed it."""
        stat = self._stat(self.drive_path)
        if stat == self._drive_stat:
            return
        if stat is None:
            self._files = {}
        else:
            with open(self.drive_path, encoding="utf-8") as handle:
                self._files = json.load(handle)
        self._encoded = {}
        self._pending = set(self._files)
        self._drive_stat = stat

    def _flush_drive(self) -> None:
        """Write ``_drive.json`` atomically; only changed records are re-encoded."""
        for file_id in self._pending:
            record = self._files.get(file_id)
            if record is None:
                self._encoded.pop(file_id, None)
            else:
                entry = {file_id: record}
                text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))[1:-1]
                self._encoded[file_id] = text.encode("utf-8")
        self._pending.clear()
        body = b",\n".join(self._encoded[file_id] for file_id in self._files)
        tmp = self.drive_path.with_name(f".{DRIVE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(b"{\n" + body + b"\n}\n")  # one file per line, valid JSON
        os.replace(tmp, self.drive_path)
        self._drive_stat = self._stat(self.drive_path)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the thread lock and the folder lock; reload metadata first, save it after."""
        with self.lock:
            if self._folder_lock_depth == 0 and fcntl is not None:
                fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_EX)
            self._folder_lock_depth += 1
            try:
                self._sync_drive()
                yield
            finally:
                try:
                    if self._pending and not self._defer:
                        self._flush_drive()
                finally:
                    self._folder_lock_depth -= 1
                    if self._folder_lock_depth == 0 and fcntl is not None:
                        fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_UN)

    def _adopt_orphans(self) -> None:
        """Register ``<id>.xlsx`` files found in ``root`` that ``_drive.json`` lacks."""
        for path in sorted(self.root.glob("*.xlsx")):
            file_id = path.stem
            if file_id in self._files or not _ID_RE.match(file_id):
                continue
            when = format_time(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
            self._files[file_id] = self._new_record(
                file_id, file_id, SPREADSHEET_MIME, when, None, None
            )
            self._pending.add(file_id)

    @contextlib.contextmanager
    def batch(self) -> Iterator[SpreadsheetStore]:
        """Context manager: save ``_drive.json`` once at the end (bulk loads).

        Other threads and processes sharing the folder wait until it ends.
        """
        with self._writing():
            self._defer += 1
            try:
                yield self
            finally:
                self._defer -= 1

    def close(self) -> None:
        """Release the folder lock file handle."""
        with self.lock:
            self._lock_handle.close()

    # ------------------------------------------------------------ records
    def _new_record(
        self,
        file_id: str,
        name: str,
        mime_type: str,
        when: str,
        parents: list | None,
        app_properties: dict | None,
        owner: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": file_id,
            "name": name,
            "mimeType": mime_type,
            "createdTime": when,
            "modifiedTime": when,
            "parents": list(parents) if parents else [ROOT_FOLDER_ID],
            "appProperties": dict(app_properties or {}),
            "permissions": [owner_permission(owner or self.owner_email)],
            "trashed": False,
            "version": "1",
            "lastModifyingUser": None,
        }

    def _record(self, file_id: str) -> dict[str, Any]:
        self._sync_drive()
        record = self._files.get(file_id)
        if record is None:
            raise UnknownFile(file_id)
        return record

    def _touch(self, record: dict[str, Any], when: TimeLike | None = None) -> None:
        """Set modifiedTime to ``when`` or now (strictly later than before)."""
        if when is not None:
            record["modifiedTime"] = format_time(when)
            return
        moment = self.now()
        previous = parse_time(record["modifiedTime"])
        if moment <= previous:
            moment = previous + dt.timedelta(milliseconds=1)
        record["modifiedTime"] = format_time(moment)

    def _new_id(self, requested: str | None) -> str:
        file_id = requested or self.id_factory()
        if not _ID_RE.match(file_id):
            raise ValueError(f"invalid file id: {file_id!r}")
        return file_id

    def workbook_path(self, spreadsheet_id: str) -> Path:
        """In: an id. Out: ``<root>/<id>.xlsx`` (the file may not exist yet)."""
        if not _ID_RE.match(spreadsheet_id):
            raise ValueError(f"invalid file id: {spreadsheet_id!r}")
        return self.root / f"{spreadsheet_id}.xlsx"

    def get_drive_file(self, file_id: str) -> dict[str, Any]:
        """In: an id. Out: a copy of its Drive record. Raises :class:`UnknownFile`."""
        with self.lock:
            return copy.deepcopy(self._record(file_id))

    def get_record(self, file_id: str) -> dict[str, Any]:
        """Like :meth:`get_drive_file` but returns the live record (hold ``lock``)."""
        return self._record(file_id)

    def exists(self, file_id: str) -> bool:
        """Out: whether ``file_id`` is a known file (any type)."""
        with self.lock:
            self._sync_drive()
            return file_id in self._files

    def is_spreadsheet(self, file_id: str) -> bool:
        """Out: whether ``file_id`` is a known spreadsheet."""
        with self.lock:
            self._sync_drive()
            record = self._files.get(file_id)
            return record is not None and record["mimeType"] == SPREADSHEET_MIME

    def records(self) -> list[dict[str, Any]]:
        """Out: the live Drive records (hold ``lock`` while using them)."""
        with self.lock:
            self._sync_drive()
            return list(self._files.values())

    def list_files(self) -> list[dict[str, Any]]:
        """Out: copies of all Drive records, ordered by (createdTime, id)."""
        with self.lock:
            self._sync_drive()
            ordered = sorted(self._files.values(), key=lambda r: (r["createdTime"], r["id"]))
            return copy.deepcopy(ordered)

    # ------------------------------------------------------------ python API
    def put_workbook(
        self,
        spreadsheet_id: str | None,
        workbook: str | os.PathLike | Workbook | WorkbookModel,
        name: str,
        modified_time: TimeLike | None = None,
        app_properties: dict | None = None,
        parents: list | None = None,
    ) -> str:
        """Add or replace a spreadsheet.

        In: id (None = generate), an .xlsx path / openpyxl Workbook /
        WorkbookModel, the Drive name, optional modifiedTime (datetime,
        naive = UTC, or RFC 3339 string), appProperties and parents.
        Out: the spreadsheet id.
        """
        with self._writing():
            file_id = self._new_id(spreadsheet_id)
            path = self.workbook_path(file_id)
            tmp = path.with_name(f".{path.name}.put.tmp")
            if isinstance(workbook, WorkbookModel):
                model = clone_workbook(workbook)
                model.title = name
                save_model(model, path)
            elif isinstance(workbook, Workbook):
                workbook.save(tmp)
                os.replace(tmp, path)
            else:
                shutil.copyfile(workbook, tmp)
                os.replace(tmp, path)
            self._cache.pop(file_id, None)
            when = (
                format_time(modified_time) if modified_time is not None else format_time(self.now())
            )
            record = self._files.get(file_id)
            if record is None:
                record = self._new_record(
                    file_id, name, SPREADSHEET_MIME, when, parents, app_properties
                )
                self._files[file_id] = record
            else:
                record["name"] = name
                record["modifiedTime"] = when
                if app_properties is not None:
                    record["appProperties"] = dict(app_properties)
                if parents is not None:
                    record["parents"] = list(parents)
                _changed(record)
            record["lastModifyingUser"] = None
            _revised(record, None)
            self._pending.add(file_id)
            return file_id

    def set_modified_time(self, file_id: str, when: TimeLike) -> None:
        """Set a file's modifiedTime (datetime or RFC 3339 string)."""
        with self._writing():
            record = self._record(file_id)
            self._touch(record, when)
            _changed(record)
            self._pending.add(file_id)

    # ------------------------------------------------------------ workbooks
    def snapshot(self, spreadsheet_id: str) -> WorkbookModel:
        """In: a spreadsheet id. Out: the current model; treat it as read-only.

        Raises :class:`UnknownFile` for unknown ids and non-spreadsheets.
        """
        with self.lock:
            record = self._record(spreadsheet_id)
            if record["mimeType"] != SPREADSHEET_MIME:
                raise UnknownFile(spreadsheet_id)
            path = self.workbook_path(spreadsheet_id)
            stat = self._stat(path)
            cached = self._cache.get(spreadsheet_id)
            if cached is not None and cached[1] == stat:
                self._cache.move_to_end(spreadsheet_id)
                model = cached[0]
            elif stat is None:
                model = new_workbook(record["name"])
                save_model(model, path)
                self._remember(spreadsheet_id, model)
            else:
                model = load_model(path, title=record["name"])
                self._remember(spreadsheet_id, model, stat)
            model.title = record["name"]
            return model

    def _remember(
        self, spreadsheet_id: str, model: WorkbookModel, stat: tuple | None = None
    ) -> None:
        if stat is None:
            stat = self._stat(self.workbook_path(spreadsheet_id))
        self._cache[spreadsheet_id] = (model, stat)
        self._cache.move_to_end(spreadsheet_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    @contextlib.contextmanager
    def edit(self, spreadsheet_id: str, user: str | None = None) -> Iterator[WorkbookModel]:
        """Context manager yielding a private copy of the model to change.

        On normal exit the copy is saved to the xlsx, becomes the cached
        model, the Drive name follows its title and modifiedTime is bumped.
        On an exception nothing changes (all-or-nothing, like batchUpdate).
        ``user``: the API caller who made the change, so that Drive's
        ``modifiedByMeTime`` answers them; changes made through this Python API
        without a user stand for people editing in their browser.
        """
        with self._writing():
            working = clone_workbook(self.snapshot(spreadsheet_id))
            yield working
            self.commit(spreadsheet_id, working, user=user)

    def commit(self, spreadsheet_id: str, model: WorkbookModel, user: str | None = None) -> None:
        """Persist ``model`` as the new content of ``spreadsheet_id`` (hold ``lock``)."""
        with self._writing():
            record = self._record(spreadsheet_id)
            save_model(model, self.workbook_path(spreadsheet_id))
            self._remember(spreadsheet_id, model)
            record["name"] = model.title
            self._touch(record)
            _changed(record, user)
            _modified_by(record, user)
            _revised(record, user)
            self._pending.add(spreadsheet_id)

    def content_size(self, file_id: str) -> int | None:
        """Out: the bytes of a spreadsheet's stored .xlsx (Drive's ``size``; None for a folder
        or a spreadsheet not written yet)."""
        with self.lock:
            if self._record(file_id)["mimeType"] != SPREADSHEET_MIME:
                return None
            stat = self._stat(self.workbook_path(file_id))
            return stat[1] if stat else None

    def export_xlsx(self, spreadsheet_id: str) -> bytes:
        """Out: the spreadsheet as .xlsx bytes."""
        return model_to_bytes(self.snapshot(spreadsheet_id))

    # ------------------------------------------------------------ drive ops
    def create_file(
        self,
        name: str,
        mime_type: str,
        parents: list | None = None,
        app_properties: dict | None = None,
        model: WorkbookModel | None = None,
        extra: dict | None = None,
        user: str | None = None,
        owner: str | None = None,
    ) -> dict[str, Any]:
        """Create a spreadsheet (empty or from ``model``) or a folder, owned by ``owner``
        (default the store's owner). Out: the live record."""
        with self._writing():
            file_id = self._new_id(None)
            while file_id in self._files:
                file_id = self._new_id(None)
            record = self._new_record(
                file_id, name, mime_type, format_time(self.now()), parents, app_properties, owner
            )
            record.update(extra or {})
            record["lastModifyingUser"] = user
            _modified_by(record, user)
            if mime_type == SPREADSHEET_MIME:
                _revised(record, user)
                model = model or new_workbook(name, self.new_locale, self.new_time_zone)
                model.title = name
                save_model(model, self.workbook_path(file_id))
                self._remember(file_id, model)
            self._files[file_id] = record
            self._pending.add(file_id)
            return record

    def update_file(
        self, file_id: str, changes: dict[str, Any], touch: bool = True, user: str | None = None
    ) -> dict[str, Any]:
        """Apply Drive metadata ``changes`` (already validated). Out: the live record.

        ``user``: the API caller, whose ``modifiedByMeTime`` follows a touch."""
        with self._writing():
            record = self._record(file_id)
            explicit_time = changes.pop("modifiedTime", None)
            record.update(changes)
            cached = self._cache.get(file_id)
            if cached is not None and "name" in changes:
                cached[0].title = record["name"]
            if explicit_time is not None:
                self._touch(record, explicit_time)
            elif touch:
                self._touch(record)
            if touch or explicit_time is not None:
                _changed(record, user)
                _modified_by(record, user)
            else:
                _changed(record)  # e.g. sharing: a new version, modifiedTime unchanged
            self._pending.add(file_id)
            return record

    def delete_file(self, file_id: str) -> None:
        """Delete a file and its xlsx for good."""
        with self._writing():
            record = self._record(file_id)
            del self._files[file_id]
            self._cache.pop(file_id, None)
            if record["mimeType"] == SPREADSHEET_MIME:
                with contextlib.suppress(FileNotFoundError):
                    self.workbook_path(file_id).unlink()
            self._pending.add(file_id)

    def copy_file(
        self,
        file_id: str,
        name: str | None,
        parents: list | None,
        app_properties: dict | None,
        owner: str | None = None,
    ) -> dict[str, Any]:
        """Copy a spreadsheet (content, same sheet ids). Out: the new live record."""
        with self._writing():
            source = self._record(file_id)
            if source["mimeType"] != SPREADSHEET_MIME:
                raise UnknownFile(file_id)
            model = clone_workbook(self.snapshot(file_id))
            new_name = name or f"Copy of {source['name']}"
            return self.create_file(
                new_name,
                SPREADSHEET_MIME,
                parents or source.get("parents"),
                app_properties if app_properties is not None else source.get("appProperties"),
                model=model,
                owner=owner,
            )


_KEEP = object()


def _changed(record: dict[str, Any], user: Any = _KEEP) -> None:
    """Note a change to a file: its Drive ``version`` goes up by one (Drive bumps it on every
    change, content or metadata); with ``user`` given (the API caller, None for a change without
    one) it becomes the file's ``lastModifyingUser`` — pass it where ``modifiedTime`` moved."""
    record["version"] = str(file_version(record) + 1)
    if user is not _KEEP:
        record["lastModifyingUser"] = user


def file_version(record: dict[str, Any]) -> int:
    """Out: the file's Drive ``version`` (a record saved before versions were kept: its number
    of revisions)."""
    if record.get("version") is not None:
        return int(record["version"])
    return max(1, len(record.get("revisions") or []))


def last_modifying_user(record: dict[str, Any]) -> str | None:
    """Out: who made the change that last moved ``modifiedTime`` (None: not known, as for a change
    made without an API caller); a record saved before this was kept: its last revision's editor."""
    if "lastModifyingUser" in record:
        return record["lastModifyingUser"]
    revisions = record.get("revisions") or []
    return revisions[-1].get("user") if revisions else None


def _modified_by(record: dict[str, Any], user: str | None) -> None:
    """Remember when ``user`` (an API caller) last modified the file: Drive's modifiedByMeTime."""
    if user:
        record.setdefault("modifiedBy", {})[user] = record["modifiedTime"]


def _revised(record: dict[str, Any], user: str | None) -> None:
    """Record a Drive revision of the content just changed, at the file's new modifiedTime, by
    ``user`` (the API caller; None for a change made through the Python API without one, which
    Drive shows with no known user). Revision ids count up; the list is oldest first, as Drive
    lists it."""
    revisions = record.setdefault("revisions", [])
    number = int(revisions[-1]["id"]) + 1 if revisions else 1
    revisions.append({"id": str(number), "modifiedTime": record["modifiedTime"], "user": user})
