"""Quotas, latency and injected faults: Google's bad days, on demand.

:class:`EmulatorConfig` says what to inject; :class:`FaultInjector` is the
interceptor :class:`~sheets_emulator.app.EmulatorApp` runs before every API
handler.  For each call, in order:

1. ``latency`` seconds of delay (every API call, never admin routes);
2. quotas, as Google counts them: the Sheets API's "Read/Write requests per
   minute per user/project" (a Sheets GET is a read, any other Sheets call a
   write) and, apart from them, the Drive API's "Queries per minute per
   user/project" (every Drive call, read or write); the user is the
   ``Authorization`` bearer token, else the ``X-Emulator-User`` header, else
   ``"default"``; a sliding window of ``quota_window_seconds`` (60, Google's
   minute) on an injectable ``clock``; beyond the limit the answer is
   Google's 429 RESOURCE_EXHAUSTED (rejected calls do not use up quota);
3. fault rules (:class:`FaultRule`), first rule that fires wins.

``enforce_sharing`` (off by default) makes each user see only the files it
owns or that are shared with it, as Google does (:mod:`.access`).

Every throttled or faulted call is still counted in the call stats and also
under ``faults`` (``"429"``, ``"500"``, ``"503"``, ``"timeout"``, ``"slow"``).

Config JSON (file, ``serve --config``, ``POST /_emulator/config``)::

    {"read_quota_per_user": 60, "read_quota_per_project": 300,
     "write_quota_per_user": 60, "write_quota_per_project": 300,
     "drive_quota_per_user": 12000, "drive_quota_per_project": 12000,
     "latency": 0.05, "enforce_sharing": true,
     "faults": [{"endpoint": "sheets.spreadsheets.get", "status": 503, "times": 2},
                {"endpoint": "*", "status": 500, "probability": 0.1, "seed": 7},
                {"endpoint": "sheets.values.get", "kind": "timeout", "delay": 5,
                 "spreadsheet_id": "abc"}]}
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .errors import ApiError
from .protocol import ApiRequest, ApiResponse

Clock = Callable[[], float]
WINDOW_SECONDS = 60.0
QUOTA_KEYS = (
    "read_quota_per_user",
    "read_quota_per_project",
    "write_quota_per_user",
    "write_quota_per_project",
    "drive_quota_per_user",
    "drive_quota_per_project",
)
PROJECT = "emulator-project"
KINDS = ("status", "timeout", "slow")
DEFAULT_DELAY = {"status": 0.0, "timeout": 30.0, "slow": 1.0}
_MESSAGES = {
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}
_DRIVE_REASONS = {429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}


@dataclass
class FaultRule:
    """One injected fault.

    ``endpoint``: a stats key (``sheets.spreadsheets.get``) or glob
    (``sheets.values.*``, ``*``).  Which matching calls fire: the first
    ``times``, or every ``every``-th (k, 2k, ...), or each with chance
    ``probability`` drawn from ``random.Random(seed)``; with none of them,
    every matching call; several given must all hold.  ``spreadsheet_id``
    limits the rule to calls on that spreadsheet / Drive file.
    ``kind``: ``status`` answers ``status`` at once; ``timeout`` waits
    ``delay`` seconds (default 30, longer than any sane client timeout) and
    then answers ``status``; ``slow`` waits ``delay`` (default 1) and lets
    the call through.  ``message`` overrides the error message.
    """

    endpoint: str = "*"
    status: int = 503
    times: int | None = None
    every: int | None = None
    probability: float | None = None
    seed: int = 0
    spreadsheet_id: str | None = None
    kind: str = "status"
    delay: float | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {KINDS}, not {self.kind!r}")
        if not (400 <= int(self.status) <= 599):
            raise ValueError(f"fault status must be 4xx/5xx, not {self.status!r}")
        if self.every is not None and int(self.every) < 1:
            raise ValueError("fault 'every' must be >= 1")
        if self.probability is not None and not (0.0 <= float(self.probability) <= 1.0):
            raise ValueError("fault 'probability' must be within [0, 1]")
        if self.delay is not None and float(self.delay) < 0:
            raise ValueError("fault 'delay' must be >= 0")
        self.status = int(self.status)

    @property
    def wait(self) -> float:
        """Out: seconds this rule sleeps when it fires."""
        return float(self.delay) if self.delay is not None else DEFAULT_DELAY[self.kind]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """In: the JSON object of one rule. Out: the rule (ValueError on unknown keys)."""
        if not isinstance(data, dict):
            raise ValueError(f"a fault rule must be an object, not {data!r}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Out: the rule as JSON, unset optional keys left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class EmulatorConfig:
    """What the emulator injects; all off by default (quota ``None`` = unlimited)."""

    read_quota_per_user: int | None = None
    read_quota_per_project: int | None = None
    write_quota_per_user: int | None = None
    write_quota_per_project: int | None = None
    drive_quota_per_user: int | None = None
    drive_quota_per_project: int | None = None
    #: the quotas' window (Google's minute); shorter only to test quotas quickly
    quota_window_seconds: float = WINDOW_SECONDS
    latency: float = 0.0
    #: each user sees only the files it owns or that are shared with it (:mod:`.access`)
    enforce_sharing: bool = False
    faults: list[FaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.faults = [
            r if isinstance(r, FaultRule) else FaultRule.from_dict(r) for r in self.faults or []
        ]
        self.latency = float(self.latency or 0.0)
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        self.quota_window_seconds = float(self.quota_window_seconds or WINDOW_SECONDS)
        if self.quota_window_seconds <= 0:
            raise ValueError("quota_window_seconds must be > 0")
        if not isinstance(self.enforce_sharing, bool):
            raise ValueError("enforce_sharing must be true or false")
        for name in QUOTA_KEYS:
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise ValueError(f"{name} must be a non-negative integer or null")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmulatorConfig:
        """In: the JSON object. Out: the config (ValueError on unknown keys / bad values)."""
        if not isinstance(data, dict):
            raise ValueError("the emulator config must be a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_json_file(cls, path: str | Path) -> EmulatorConfig:
        """In: path of a JSON file. Out: the config."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        """Out: the config as JSON (what ``GET /_emulator/config`` answers)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "faults"}
        data["faults"] = [rule.to_dict() for rule in self.faults]
        return data


def request_user(req: ApiRequest) -> str:
    """Out: the quota user: bearer token, else ``X-Emulator-User``, else ``"default"``."""
    headers = {k.lower(): v for k, v in req.headers.items()}
    auth = headers.get("authorization", "").strip()
    if auth:
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else auth
    return headers.get("x-emulator-user", "").strip() or "default"


def _service(endpoint: str) -> str:
    return "drive.googleapis.com" if endpoint.startswith("drive.") else "sheets.googleapis.com"


def quota_metric(req: ApiRequest) -> str:
    """Out: the quota a call counts against: "Read" or "Write" (Sheets API), "Queries"
    (Drive API, reads and writes together)."""
    if _service(req.endpoint).startswith("drive"):
        return "Queries"
    return "Read" if req.method in ("GET", "HEAD") else "Write"


def quota_error(endpoint: str, metric: str, scope: str) -> ApiError:
    """Out: Google's 429 for ``metric`` ("Read"/"Write"/"Queries") per ``scope``
    ("user"/"project")."""
    service = _service(endpoint)
    name = "Queries" if metric == "Queries" else f"{metric} requests"
    message = (
        f"Quota exceeded for quota metric '{name}' and limit "
        f"'{name} per minute per {scope}' of service '{service}' "
        f"for consumer 'project_number:{PROJECT}'."
    )
    reason = _DRIVE_REASONS[429] if service.startswith("drive") else None
    return ApiError(429, message, drive_reason=reason)


def fault_error(rule: FaultRule, endpoint: str) -> ApiError:
    """Out: the error an injected fault answers."""
    message = rule.message
    if message is None:
        message = (
            quota_error(endpoint, "Read", "user").message
            if rule.status == 429
            else _MESSAGES.get(rule.status, "Injected fault (sheets_emulator).")
        )
    reason = (
        _DRIVE_REASONS.get(rule.status, "backendError") if endpoint.startswith("drive.") else None
    )
    return ApiError(rule.status, message, drive_reason=reason)


class _RuleState:
    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.matched = 0
        self.rng = random.Random(rule.seed)

    def matches(self, req: ApiRequest) -> bool:
        rule = self.rule
        if not fnmatchcase(req.endpoint, rule.endpoint):
            return False
        if rule.spreadsheet_id is not None:
            return bool(req.path_params) and req.path_params[0] == rule.spreadsheet_id
        return True

    def fires(self) -> bool:
        """Count one matching call. Out: whether the rule fires on it."""
        rule = self.rule
        self.matched += 1
        fire = True
        if rule.times is not None:
            fire = fire and self.matched <= rule.times
        if rule.every is not None:
            fire = fire and self.matched % rule.every == 0
        if rule.probability is not None:
            fire = self.rng.random() < rule.probability and fire  # always draw: repeatable
        return fire


class FaultInjector:
    """The interceptor applying an :class:`EmulatorConfig`.

    In: ``stats`` (anything with ``count_fault(kind)``), the config, a
    ``clock`` for the quota window.  ``configure`` swaps the config at
    runtime (fresh rule counters and quota windows); ``wake`` cuts every
    running delay short (used when the server stops).
    """

    def __init__(
        self, stats: Any = None, config: EmulatorConfig | None = None, clock: Clock = time.monotonic
    ) -> None:
        self.stats = stats
        self.clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.configure(config or EmulatorConfig())

    @property
    def config(self) -> EmulatorConfig:
        """Out: the config in force."""
        return self._config

    def configure(self, config: EmulatorConfig) -> None:
        """Replace the config; rule counters and quota windows start afresh."""
        with self._lock:
            self._config = config
            self._rules = [_RuleState(rule) for rule in config.faults]
            self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def wake(self) -> None:
        """Cut every current and future delay short (until ``rearm``)."""
        self._wake.set()

    def rearm(self) -> None:
        """Let delays sleep again after ``wake``."""
        self._wake.clear()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._wake.wait(seconds)

    def _fault(self, kind: str) -> None:
        if self.stats is not None:
            self.stats.count_fault(kind)

    def __call__(self, req: ApiRequest) -> ApiResponse | None:
        with self._lock:
            config = self._config
        self._sleep(config.latency)
        if req.endpoint == "unknown":
            return None
        error = self._check_quota(req, config)
        if error is not None:
            self._fault("429")
            return ApiResponse(429, error.to_json())
        with self._lock:
            fired = next((s.rule for s in self._rules if s.matches(req) and s.fires()), None)
        if fired is None:
            return None
        if fired.kind == "slow":
            self._fault("slow")
            self._sleep(fired.wait)
            return None
        if fired.kind == "timeout":
            self._fault("timeout")
            self._sleep(fired.wait)
        else:
            self._fault(str(fired.status))
        return ApiResponse(fired.status, fault_error(fired, req.endpoint).to_json())

    def _check_quota(self, req: ApiRequest, config: EmulatorConfig) -> ApiError | None:
        """Record the call against its quotas. Out: the 429 error if over a limit."""
        metric = quota_metric(req)
        prefix = {"Read": "read", "Write": "write", "Queries": "drive"}[metric]
        limits = [
            (
                "user",
                f"{prefix}:user:{request_user(req)}",
                getattr(config, f"{prefix}_quota_per_user"),
            ),
            ("project", f"{prefix}:project", getattr(config, f"{prefix}_quota_per_project")),
        ]
        limits = [(scope, key, limit) for scope, key, limit in limits if limit is not None]
        if not limits:
            return None
        with self._lock:
            now = self.clock()
            windows = []
            for scope, key, limit in limits:
                window = self._windows[(metric, key)]
                while window and window[0] <= now - config.quota_window_seconds:
                    window.popleft()
                if len(window) >= limit:
                    return quota_error(req.endpoint, metric, scope)
                windows.append(window)
            for window in windows:
                window.append(now)
        return None
