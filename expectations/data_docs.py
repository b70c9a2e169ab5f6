"""Great Expectations' Data Docs for their readers: readable offline, with a bounded history.

In: the file-based project's folder (``expectations/gx``), whose ``great_expectations.yml``
says where validation results and the Data Docs site are. Out, on disk:

- :func:`prune_history` keeps the newest runs of each suite: older validation results and
  their pages are deleted (the index, rebuilt by the same validation, lists what is left).
  Nothing a unit sent is lost: the warehouse keeps every run (``quality.validation_runs``,
  ``quality.validation_issues``, ``quality.rule_results``, ``quality.quarantined_rows``) and
  every version read (``raw.sheet_versions``); these files are a view of the recent runs.
- :func:`make_offline` makes every page load its styles, scripts and icon font from the site
  itself (``static/vendor/``, copied from ``gx/plugins/custom_data_docs/vendor``) instead of
  the seven CDN hosts Great Expectations' templates name (:data:`CDN_ASSETS`).

Both rewrite the site, so both run under the project's file lock
(:func:`expectations.runner.gx_project_lock`), inside the validation that builds the site.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

#: where the vendored files go in a site, relative to its folder
VENDORED = "static/vendor/"
#: each address the templates of Great Expectations 1.24 load from the internet (without its
#: query string) -> the file a page loads instead, relative to the site's folder; None: the
#: link is dropped (see gx/plugins/custom_data_docs/vendor/README.md for versions, sources,
#: licences and why the dropped ones are not needed)
CDN_ASSETS: dict[str, str | None] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": VENDORED + "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": VENDORED
    + "popper.js-1.12.9/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": VENDORED
    + "bootstrap-4.3.1/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": VENDORED
    + "bootstrap-4.3.1/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": VENDORED
    + "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": VENDORED
    + "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": VENDORED
    + "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": VENDORED
    + "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": VENDORED
    + "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": VENDORED
    + "bootstrap-datepicker-1.9.0/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": VENDORED
    + "bootstrap-datepicker-1.9.0/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": VENDORED
    + "fontawesome-free-6.6.0/css/all.min.css",
    # the logo: Great Expectations copies it into every site from its own package
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": (
        "static/images/logo-long.png"
    ),
    # charts (none of our expectations draws one) and a dark theme for readers whose system
    # prefers dark: not vendored, the links are dropped
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": None,
}
#: a dropped link stays on a page that uses it (a chart), so that the offline test fails there
USED_WHEN = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vegaEmbed(",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vegaEmbed(",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vegaEmbed(",
}

#: a tag that loads something (with the empty ``</script>`` that closes a script tag)
_TAG = re.compile(
    r"<(?P<name>script|link|img)\b(?P<attrs>[^>]*)>(?P<end>\s*</script>)?", re.IGNORECASE
)
_REMOTE = re.compile(r'\b(?P<attr>src|href)="(?P<url>https?://[^"]*)"', re.IGNORECASE)
#: subresource integrity: a file:// page cannot load a script marked crossorigin
_SRI = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"', re.IGNORECASE)
#: a link into the site's static folder: the templates count the folders up to it wrongly on
#: result pages (the favicon: one ../ short)
_STATIC = re.compile(r'\b(?P<attr>src|href)="(?:\./|\.\./)*static/(?P<path>[^"]*)"')


def _config(gx_dir: Path) -> dict:
    return yaml.safe_load((gx_dir / "great_expectations.yml").read_text(encoding="utf-8"))


def results_dir(gx_dir: Path) -> Path:
    """Where the project stores validation results (``uncommitted/validations``)."""
    config = _config(gx_dir)
    store = config["stores"][config["validation_results_store_name"]]
    return gx_dir / store["store_backend"]["base_directory"]


def site_dirs(gx_dir: Path) -> list[Path]:
    """The folders of the project's Data Docs sites (``uncommitted/data_docs/local_site``)."""
    sites = _config(gx_dir).get("data_docs_sites") or {}
    return [gx_dir / site["store_backend"]["base_directory"] for site in sites.values()]


def vendor_dir(gx_dir: Path) -> Path:
    return gx_dir / "plugins" / "custom_data_docs" / "vendor"


# ------------------------------------------------------------------ a bounded history
def prune_history(gx_dir: Path, keep_runs: int, about_to_run: Iterable[str] = ()) -> int:
    """Delete all but the newest ``keep_runs`` runs of each suite: their result files and
    pages. A suite in ``about_to_run`` keeps one fewer, for the run that is about to add one,
    so that after it every suite has at most ``keep_runs``. Returns the runs deleted."""
    if keep_runs < 1:
        raise ValueError(f"keep at least one run per suite, not {keep_runs}")
    results = results_dir(gx_dir)
    if not results.is_dir():
        return 0
    sites = site_dirs(gx_dir)
    running = set(about_to_run)
    deleted = 0
    for suite in sorted(p for p in results.iterdir() if p.is_dir()):
        # <suite>/<run name>/<run time>/<batch>.json; run times sort as written (UTC, ISO)
        runs = sorted({f.parent for f in suite.rglob("*.json")}, key=lambda d: (d.name, str(d)))
        keep = keep_runs - (1 if suite.name in running else 0)
        for run in runs[: max(len(runs) - keep, 0)]:
            relative = run.relative_to(results)
            for folder in (run, *(site / "validations" / relative for site in sites)):
                shutil.rmtree(folder, ignore_errors=True)
                with contextlib.suppress(OSError):
                    folder.parent.rmdir()  # the run name's folder, once empty
            deleted += 1
    if deleted:
        log.info(
            "Data Docs: %d older run(s) deleted, the last %d of each suite kept "
            "(every run stays in quality.validation_runs)",
            deleted,
            keep_runs,
        )
    return deleted


# ------------------------------------------------------------------ readable offline
def make_offline(gx_dir: Path) -> int:
    """Copy the vendored assets into each site and point every page at them. Idempotent: a
    page already offline is not written again. Returns the pages rewritten."""
    rewritten = 0
    for site in site_dirs(gx_dir):
        if not site.is_dir():
            continue
        _copy_if_changed(vendor_dir(gx_dir), site / VENDORED)
        remote: set[str] = set()
        for page in sorted(site.rglob("*.html")):
            text = page.read_text(encoding="utf-8")
            offline = localise(text, site, page, remote)
            if offline != text:
                temporary = page.with_name(f".{page.name}.tmp")
                temporary.write_text(offline, encoding="utf-8")
                os.replace(temporary, page)
                rewritten += 1
        if remote:
            log.warning(
                "Data Docs: pages still load from the internet: %s (not in "
                "expectations.data_docs.CDN_ASSETS: vendor them, see %s)",
                ", ".join(sorted(remote)),
                vendor_dir(gx_dir) / "README.md",
            )
    return rewritten


def localise(text: str, site: Path, page: Path, remote: set[str] | None = None) -> str:
    """The page ``text`` with every known CDN asset replaced by its local copy (a path
    relative to the page) or dropped, and every link into the site's static folder relative to
    the page; unknown remote assets are left and added to ``remote``."""
    to_site = Path(os.path.relpath(site, page.parent)).as_posix()

    def replace(tag: re.Match) -> str:
        found = _REMOTE.search(tag["attrs"])
        if not found:
            return _STATIC.sub(
                lambda link: f'{link["attr"]}="{to_site}/static/{link["path"]}"', tag[0]
            )
        url = found["url"]
        bare = url.split("?", 1)[0]
        if bare not in CDN_ASSETS or (
            CDN_ASSETS[bare] is None and USED_WHEN.get(bare, "\0") in text
        ):
            if remote is not None:
                remote.add(bare)
            return tag[0]
        target = CDN_ASSETS[bare]
        if target is None:
            return ""
        attrs = _SRI.sub("", tag["attrs"]).replace(
            found[0], f'{found["attr"]}="{to_site}/{target}"'
        )
        return f"<{tag['name']}{attrs}>{tag['end'] or ''}"

    return _TAG.sub(replace, text)


def _copy_if_changed(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if not path.is_file():
            continue
        copy = target / path.relative_to(source)
        stat = path.stat()
        if copy.is_file() and (copy.stat().st_size, copy.stat().st_mtime_ns) == (
            stat.st_size,
            stat.st_mtime_ns,
        ):
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
