"""Refusing, before openpyxl reads it, a file that `tonghop check` cannot or should not read.

openpyxl takes a path at its word: it raises a traceback on a file that is not a workbook, and
it loads a whole workbook into memory (about 1 KB a cell, and ``tonghop check`` lays every tab
out as a grid), so a small crafted .xlsx (a "zip bomb") can cost gigabytes and minutes.
:func:`guard_xlsx` looks at the file first, in bounded memory and time:

1. it is there, a file (not a folder), readable, not empty, at most :data:`MAX_FILE_BYTES`;
2. its first bytes: an OLE (CFB) file is a password-protected workbook or an Excel 97-2003
   .xls; anything but a zip is not a workbook (text, a web page saved as ".xls", …);
3. the zip's end record: at most :data:`MAX_ZIP_MEMBERS` members; its central directory:
   readable (a truncated download is not), the sum of the sizes its members declare at most
   :data:`MAX_UNCOMPRESSED_BYTES` (nothing is inflated for that; and ``zipfile`` never
   inflates a member past its declared size: a member that lies fails its CRC), and the parts
   of an Excel workbook (not a .docx, .ods, .xlsb);
4. every XML part, streamed through expat a chunk at a time without building a tree: it is
   well-formed, has no DOCTYPE (Excel never writes one; entity expansion needs one), and the
   workbook holds at most :data:`MAX_XML_ELEMENTS` elements, :data:`MAX_CELLS` cells and a
   grid of at most :data:`MAX_GRID_SLOTS` slots; counting stops at the first limit passed.

What a sheet declares about itself (``<dimension ref="A1:XFD1048576">``) is not trusted either
way: the cells are counted as they come. Each refusal is a :class:`UserError` (exit 2) whose
Vietnamese message says what is wrong with the file and what to do.
"""

from __future__ import annotations

import difflib
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from tonghop.errors import UserError
from tonghop.vn import format_vi

#: the largest file checked. A unit's report is 10-50 KB; 20 MB is about the largest e-mail
#: attachment mail servers take (Gmail 25 MB, many agencies' servers 20 MB), so anything
#: bigger did not come as a report, and reading it would only cost time
MAX_FILE_BYTES = 20 * 1024 * 1024
#: the sum of the sizes the zip's members declare once inflated. A report's parts are ~50 KB;
#: 50 MB leaves room for pasted pictures and long text, and bounds what is ever inflated (a
#: zip bomb declares hundreds of MB or GB in a file of a few hundred KB)
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
#: cells (``<c>`` elements, empty or not) in all the workbook's tabs. A report has about 250;
#: the pipeline reads at most 2,000 rows a tab (ingest.parse.MAX_ROWS_PER_TAB), 5 tabs of 10
#: columns = 100,000. 200,000 cells take about 6 s and 200 MB more to check (measured), so a
#: pasted register is refused with its size instead of costing minutes and gigabytes
MAX_CELLS = 200_000
#: the grid ``tonghop check`` lays the tabs out in: each tab's rows up to its last one, plus,
#: for each row, its columns up to its last cell. One value in cell XFD1048576 is one cell but
#: a grid of a million rows; 1,000,000 slots cost about 1 s and 100 MB more (measured)
MAX_GRID_SLOTS = 1_000_000
#: members of the zip. A report has 13, one with pictures and comments a few dozen; each member
#: costs ``zipfile`` an object of ~0.5 KB before anything is read, and a 20 MB file could
#: declare 400,000 of them: counted from the zip's end record, before ``zipfile`` opens it
MAX_ZIP_MEMBERS = 10_000
#: XML elements in all parts (cells, merges, validations, styles, …); expat reads a million in
#: about a second, and openpyxl would keep each one as an object
MAX_XML_ELEMENTS = 1_000_000

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
#: the streams an encrypted OOXML file holds inside its OLE container (MS-OFFCRYPTO)
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
#: extensions openpyxl opens (openpyxl.reader.excel.SUPPORTED_FORMATS)
XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
_CHUNK = 64 * 1024
_UNLOCK = (
    "Hãy mở bằng Excel, gỡ mật khẩu (Tệp › Thông tin › Bảo vệ Sổ làm việc › Mã hóa bằng "
    "Mật khẩu: xóa mật khẩu), lưu lại dưới dạng .xlsx rồi kiểm tra lại."
)
_REOPEN = (
    "Hãy mở tệp bằng Excel (hoặc LibreOffice), lưu lại dưới dạng Excel (.xlsx) rồi kiểm tra lại."
)


@dataclass
class WorkbookFileStats:
    """What :func:`guard_xlsx` found in a file it let through."""

    size: int = 0
    uncompressed: int = 0
    parts: int = 0
    elements: int = 0
    cells: int = 0
    grid_slots: int = 0


class _Refused(Exception):
    """Raised from inside expat's handlers to stop a scan at the first limit passed."""


def _mb(n: int) -> str:
    return f"{format_vi(round(n / 1024 / 1024, 1))} MB"


def _refuse(message: str) -> UserError:
    return UserError(message)


# ------------------------------------------------------------------ the file itself
def _missing(path: Path) -> UserError:
    parent = path.parent
    if not parent.is_dir():
        return _refuse(f"Không tìm thấy tệp “{path}”: thư mục “{parent}” không tồn tại.")
    message = f"Không tìm thấy tệp “{path}”."
    try:
        names = {
            p.stem: p.name
            for p in parent.iterdir()
            if p.suffix.lower() in XLSX_SUFFIXES and p.is_file()
        }
    except OSError:
        names = {}
    close = [names[s] for s in difflib.get_close_matches(path.stem, names, n=3, cutoff=0.6)]
    if close:
        message += f" Có phải ý bạn là: {', '.join(close)}?"
    return _refuse(message + " Kiểm tra lại tên và thư mục của tệp.")


def _folder(path: Path) -> UserError:
    message = (
        f"“{path}” là một thư mục, không phải tệp báo cáo: hãy ghi tên tệp .xlsx, "
        f"ví dụ “{path / 'bao_cao.xlsx'}”."
    )
    try:
        names = sorted(p.name for p in path.iterdir() if p.suffix.lower() in XLSX_SUFFIXES)
    except OSError:
        names = []
    if names:
        shown = ", ".join(names[:5]) + (f" và {len(names) - 5} tệp khác" if len(names) > 5 else "")
        message += f" Trong thư mục có: {shown}."
    return _refuse(message)


def _cannot_read(path: Path, exc: OSError) -> UserError:
    if isinstance(exc, PermissionError):
        return _refuse(
            f"Không đọc được tệp “{path}”: không có quyền đọc tệp này. Hãy chép tệp "
            "vào thư mục của mình hoặc nhờ người quản trị cấp quyền đọc."
        )
    return _refuse(f"Không đọc được tệp “{path}”: {exc.strerror or exc}.")


def _ole_directory(fh) -> bytes:
    """The first sectors of a CFB file's directory (the streams' names, UTF-16), or b""."""
    header = fh.read(512)
    if len(header) < 512:
        return b""
    sector = 1 << int.from_bytes(header[0x1E:0x20], "little")
    first = int.from_bytes(header[0x30:0x34], "little")
    if not 512 <= sector <= 4096 or first >= 0xFFFFFFFA:
        return b""
    fh.seek((first + 1) * sector)
    return fh.read(4 * sector)


def _ole(path: Path) -> UserError:
    """A CFB (OLE) file: a password-protected workbook, or the old binary .xls."""
    try:
        with path.open("rb") as fh:
            directory = _ole_directory(fh)
            fh.seek(0)
            head = fh.read(1024 * 1024)
    except OSError as exc:
        return _cannot_read(path, exc)
    if any(name in directory or name in head for name in _ENCRYPTED_STREAMS):
        return _refuse(
            f"Tệp “{path}” đang được đặt mật khẩu (mã hóa), nên không đọc được nội dung. " + _UNLOCK
        )
    return _refuse(
        f"Tệp “{path}” là bảng tính Excel 97-2003 (.xls) cũ hoặc đã được đặt mật khẩu (mã "
        "hóa): cả hai đều không đọc được. Nếu tệp có mật khẩu: "
        + _UNLOCK[0].lower()
        + _UNLOCK[1:]
        + " Nếu là tệp .xls: "
        + _REOPEN[0].lower()
        + _REOPEN[1:]
    )


def _not_a_zip(path: Path, head: bytes) -> UserError:
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sample.startswith((b"<!doctype html", b"<html")) or b"<table" in sample:
        kind = (
            "là một trang web (HTML) đổi đuôi — một số phần mềm xuất “Excel” theo cách "
            "này —, không phải bảng tính Excel (.xlsx)"
        )
    elif b"\x00" not in head and _is_text(head):
        kind = "là một tệp văn bản (chữ thường, CSV…), không phải bảng tính Excel (.xlsx)"
    else:
        kind = "không phải bảng tính Excel (.xlsx): nội dung không đọc được như một bảng tính"
    return _refuse(
        f"Tệp “{path}” {kind}. Hãy dùng mẫu báo cáo .xlsx được cấp "
        "(`tonghop template`) và lưu dưới dạng Excel (.xlsx)."
    )


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # cut in the middle of a character at the end
    return True


def _damaged(path: Path, what: str) -> UserError:
    return _refuse(
        f"Tệp “{path}” bị hỏng hoặc chưa được tải về / chép hết ({what}). Hãy tải "
        "hoặc chép lại tệp; nếu vẫn lỗi, " + _REOPEN[0].lower() + _REOPEN[1:]
    )


def _declared_members(fh, size: int) -> int | None:
    """How many members the zip's end-of-central-directory record declares (ZIP64 too); None
    when there is no such record (then ``zipfile`` says the file is not a zip)."""
    tail = min(size, 22 + 65535)  # the record, and a comment of up to 64 KB
    fh.seek(size - tail)
    data = fh.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) < at + 22:
        return None
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    if count != 0xFFFF or at < 20 or data[at - 20 : at - 16] != b"PK\x06\x07":
        return count
    fh.seek(int.from_bytes(data[at - 12 : at - 4], "little"))  # the ZIP64 end record
    record = fh.read(56)
    if record[:4] != b"PK\x06\x06" or len(record) < 40:
        return count
    return int.from_bytes(record[32:40], "little")


# ------------------------------------------------------------------ the XML parts
def _cell_position(ref: str) -> tuple[int, int]:
    """ "AB12" -> (12, 28); (0, 0) when it is not a cell reference."""
    col = row = 0
    for i, ch in enumerate(ref):
        if "A" <= ch <= "Z":
            col = col * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            col = col * 26 + ord(ch) - 96
        else:
            row = int(ref[i:]) if ref[i:].isdigit() else 0
            break
    return row, col


class _Scan:
    """Counts elements, cells and grid slots over all parts; raises _Refused past a limit."""

    def __init__(self, path: Path):
        self.path = path
        self.stats = WorkbookFileStats()
        self.part = ""
        self.where = ""
        self.sheets: dict[str, str] = {}  # relationship id -> tab title
        self.targets: dict[str, str] = {}  # relationship id -> part name
        self._row = self._col = self._row_last_col = self._last_row = 0
        self._in_row = False

    def start_part(self, part: str, where: str) -> None:
        self.part, self.where = part, where
        self._row = self._col = self._row_last_col = self._last_row = 0
        self._in_row = False

    def start(self, name: str, attrs: dict) -> None:
        stats = self.stats
        stats.elements += 1
        if stats.elements > MAX_XML_ELEMENTS:
            raise _Refused(
                f"Tệp “{self.path}” có quá nhiều thành phần (hơn {format_vi(MAX_XML_ELEMENTS)} "
                f"phần tử XML, đến {self.where}): không phải một báo cáo. Hãy xóa các trang, "
                "dòng hoặc định dạng thừa, lưu lại rồi kiểm tra lại."
            )
        local = name.rpartition(":")[2]
        if local == "row":
            self._in_row = True
            row = attrs.get("r")
            self._row = int(row) if row and row.isdigit() else self._row + 1
            self._col = self._row_last_col = 0
        elif local == "c" and self._in_row:
            stats.cells += 1
            row, col = _cell_position(attrs.get("r") or "")
            self._col = col or self._col + 1
            self._row = row or self._row
            self._row_last_col = max(self._row_last_col, self._col)
            if stats.cells > MAX_CELLS:
                raise _Refused(
                    f"Tệp “{self.path}” có quá nhiều ô: hơn {format_vi(MAX_CELLS)} ô (đến "
                    f"{self.where}). Một báo cáo chỉ cần vài trăm dòng; có lẽ đã dán cả một "
                    "danh sách vào. Hãy xóa các dòng thừa, lưu lại rồi kiểm tra lại."
                )
        elif local == "sheet" and self.part == "xl/workbook.xml":
            rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id"), None)
            if rid and attrs.get("name"):
                self.sheets[rid] = attrs["name"]
        elif local == "Relationship" and self.part == "xl/_rels/workbook.xml.rels":
            target = attrs.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if attrs.get("Id"):
                self.targets[attrs["Id"]] = target

    def end(self, name: str) -> None:
        if name.rpartition(":")[2] == "row" and self._in_row:
            self._in_row = False
            # the grid: the rows up to this one, and this row's columns up to its last cell
            self.stats.grid_slots += max(self._row - self._last_row, 1) + self._row_last_col
            self._last_row = max(self._last_row, self._row)
            if self.stats.grid_slots > MAX_GRID_SLOTS:
                raise _Refused(
                    f"Tệp “{self.path}” trải quá rộng: {self.where} có ô ở hàng "
                    f"{format_vi(self._row)}, cột {format_vi(self._row_last_col)}, quá xa phần "
                    "báo cáo. Hãy xóa các hàng và cột thừa phía dưới và bên phải (cả ô chỉ "
                    "có định dạng), lưu lại rồi kiểm tra lại."
                )

    def doctype(self, *_args) -> None:
        raise _Refused(
            f"Tệp “{self.path}” có khai báo DOCTYPE trong phần “{self.part}”: Excel "
            "không bao giờ ghi như vậy, tệp này không được kiểm tra. " + _REOPEN
        )

    def tab_of(self, part: str) -> str:
        """“trang “Nhiệm vụ”” for a worksheet part whose tab is known, else the part's name."""
        for rid, target in self.targets.items():
            if target == part and rid in self.sheets:
                return f"trang “{self.sheets[rid]}”"
        return f"phần “{part}”"


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _Scan) -> None:
    parser = expat.ParserCreate()
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.StartDoctypeDeclHandler = scan.doctype
    parser.EntityDeclHandler = scan.doctype
    scan.start_part(info.filename, scan.tab_of(info.filename))
    with zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _scan_order(info: zipfile.ZipInfo) -> tuple[int, str]:
    # the workbook and its relationships first: they name the tabs the other parts hold
    first = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
    return (first.index(info.filename) if info.filename in first else len(first), info.filename)


# ------------------------------------------------------------------ the whole check
def guard_xlsx(path: Path) -> WorkbookFileStats:
    """The file's sizes and counts if ``tonghop check`` can read it; else :class:`UserError`
    (exit 2) saying, in Vietnamese, why not and what to do."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _missing(path) from None
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise _folder(path)
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(
            f"“{path}” không phải một tệp thông thường (có thể là thiết bị hoặc "
            "đường ống); hãy ghi tên tệp báo cáo .xlsx."
        )
    if st.st_size == 0:
        raise _refuse(
            f"Tệp “{path}” trống (0 byte): có thể chưa được tải về hoặc chép hết. "
            "Hãy tải hoặc chép lại tệp."
        )
    if st.st_size > MAX_FILE_BYTES:
        raise _refuse(
            f"Tệp “{path}” quá lớn ({_mb(st.st_size)}; giới hạn "
            f"{_mb(MAX_FILE_BYTES)}). Một báo cáo chỉ vài chục KB; có lẽ đã dán thêm "
            "dữ liệu hoặc hình ảnh. Hãy xóa phần thừa, lưu lại rồi kiểm tra lại."
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
            members = _declared_members(fh, st.st_size) if head.startswith(b"PK") else None
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    if head.startswith(OLE_MAGIC):
        raise _ole(path)
    if not head.startswith(b"PK"):
        raise _not_a_zip(path, head)
    if members is not None and members > MAX_ZIP_MEMBERS:
        raise _refuse(
            f"Tệp “{path}” chứa {format_vi(members)} thành phần nén (giới hạn "
            f"{format_vi(MAX_ZIP_MEMBERS)}): không phải một báo cáo. Tệp này không "
            "được kiểm tra."
        )
    stats = WorkbookFileStats(size=st.st_size)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise _damaged(path, f"cấu trúc nén .xlsx không đọc được: {exc}") from exc
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        stats.parts = len(infos)
        stats.uncompressed = sum(i.file_size for i in infos)
        if stats.uncompressed > MAX_UNCOMPRESSED_BYTES:
            raise _refuse(
                f"Tệp “{path}” nén {_mb(st.st_size)} nhưng khi giải nén lên tới "
                f"{_mb(stats.uncompressed)} (giới hạn {_mb(MAX_UNCOMPRESSED_BYTES)}): quá lớn "
                "cho một báo cáo, có thể là tệp được tạo ra để làm treo máy (“zip bomb”). Tệp "
                "này không được kiểm tra."
            )
        _require_workbook_parts(path, names)
        if any(i.flag_bits & 0x1 for i in infos):
            raise _refuse(
                f"Tệp “{path}” được nén kèm mật khẩu, nên không đọc được. Hãy gỡ "
                "mật khẩu, lưu lại dưới dạng Excel (.xlsx) rồi kiểm tra lại."
            )
        scan = _Scan(path)
        scan.stats = stats
        for info in sorted(infos, key=_scan_order):
            if not info.filename.lower().endswith((".xml", ".rels")) or info.is_dir():
                continue
            try:
                _scan_part(zf, info, scan)
            except _Refused as exc:
                raise _refuse(str(exc)) from None
            except expat.ExpatError as exc:
                raise _damaged(
                    path,
                    f"{scan.where} không đọc được: XML lỗi ở dòng {exc.lineno}, cột {exc.offset}",
                ) from exc
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                RuntimeError,
                NotImplementedError,
                OSError,
            ) as exc:
                raise _damaged(path, f"không giải nén được {scan.where}: {exc}") from exc
    if path.suffix.lower() not in XLSX_SUFFIXES:
        raise _refuse(
            f"Tệp “{path}” là bảng tính Excel nhưng có đuôi “{path.suffix}”: hãy đổi "
            f"tên thành “{path.stem}.xlsx” rồi kiểm tra lại."
        )
    return stats


def _require_workbook_parts(path: Path, names: set[str]) -> None:
    if "xl/workbook.bin" in names:
        raise _refuse(
            f"Tệp “{path}” là sổ làm việc nhị phân Excel (.xlsb), không phải .xlsx. " + _REOPEN
        )
    if "content.xml" in names and "mimetype" in names:
        raise _refuse(f"Tệp “{path}” là bảng tính LibreOffice/OpenOffice (.ods). " + _REOPEN)
    if "word/document.xml" in names:
        raise _refuse(
            f"Tệp “{path}” là văn bản Word (.docx), không phải bảng tính Excel. "
            "Hãy dùng mẫu báo cáo .xlsx được cấp (`tonghop template`)."
        )
    if "ppt/presentation.xml" in names:
        raise _refuse(
            f"Tệp “{path}” là bản trình chiếu PowerPoint (.pptx), không phải bảng "
            "tính Excel. Hãy dùng mẫu báo cáo .xlsx được cấp (`tonghop template`)."
        )
    if "[Content_Types].xml" not in names or not any(
        n.startswith("xl/") and n.endswith(".xml") for n in names
    ):
        raise _refuse(
            f"Tệp “{path}” là một tệp nén (.zip) nhưng không phải bảng tính Excel "
            "(.xlsx). Hãy dùng mẫu báo cáo .xlsx được cấp (`tonghop template`)."
        )
