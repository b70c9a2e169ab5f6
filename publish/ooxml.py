"""Office Open XML files (.docx, .xlsx) written the same way every time: the same content
gives the same bytes, so a publication's checksums say whether anything changed."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path


def normalize_zip(path: Path, document_time: str = "2000-01-01T00:00:00Z") -> None:
    """Rewrite a zip container (.docx, .xlsx) with a fixed time on its entries and in its
    document properties (openpyxl stamps the save time there), so that the same content gives
    the same bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    entries = [
        (
            name,
            re.sub(
                rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                rb"\g<1>" + document_time.encode() + rb"\g<3>",
                payload,
            )
            if name == "docProps/core.xml"
            else payload,
        )
        for name, payload in entries
    ]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, payload)
    tmp.replace(path)
