"""Opening an untrusted workbook safely, fast, and read-only.

The file is read once into memory (after a size check), identified by its bytes rather than its
name, and inspected before any parser sees it: a zip's declared part sizes against the limit (both
Python's zipfile and the Rust zip crate under calamine refuse to inflate a part past its declared
size, so the declared sizes bound the work), and every XML part's prolog for a DTD or entity
declarations (refused: entity bombs). Cells come from python-calamine; the few facts it cannot give
(a formula with no cached value) come from a defusedxml scan of that sheet's XML, only when needed.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Safety limits; each can be set on the command line (--max-*) or by the library caller."""

    max_file_bytes: int = 64 * 1024 * 1024  # the file on disk
    max_unzipped_bytes: int = 256 * 1024 * 1024  # sum of a zip's declared part sizes
    max_parts: int = 5000  # entries in a zip
    max_rows: int = 200_000  # rows of one sheet
    max_cells: int = 5_000_000  # rows × columns of one sheet


class Unreadable(Exception):
    """A file-level problem: `code` is F001–F004, `reason` a short English/Chinese phrase."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class SheetData:
    name: str
    rows: list[list]  # absolute positions: rows[0][0] is A1


class Book:
    """An opened workbook: its sheet names and, on demand, a sheet's cells."""

    def __init__(self, path: Path, data: bytes, kind: str, limits: Limits, archive: zipfile.ZipFile | None):
        self.path = path
        self.kind = kind  # "xlsx" | "xls" | "ods"
        self.limits = limits
        self._data = data
        self._zip = archive
        self._wb = _calamine_open(data)
        try:
            self.sheet_names: list[str] = list(self._wb.sheet_names)
        except Exception as exc:  # noqa: BLE001 - any parser failure is a corrupt file
            raise Unreadable("F003", _reason(exc)) from exc
        self._formula_parts: dict[str, str] | None = None

    def sheet(self, name: str) -> SheetData:
        """The sheet's cells as lists from A1, merged ranges filled with their top-left value."""
        try:
            sheet = self._wb.get_sheet_by_name(name)
        except Exception as exc:  # noqa: BLE001
            raise _classify(exc) from exc
        height = sheet.total_height if hasattr(sheet, "total_height") else sheet.height
        width = sheet.total_width if hasattr(sheet, "total_width") else sheet.width
        height, width = (height or 0) + 1, (width or 0) + 1
        if height > self.limits.max_rows:
            raise Unreadable("F004", f"sheet '{name}' has {height} rows (limit {self.limits.max_rows})")
        if height * width > self.limits.max_cells:
            raise Unreadable(
                "F004", f"sheet '{name}' has {height}×{width} cells (limit {self.limits.max_cells})"
            )
        try:
            rows = sheet.to_python(skip_empty_area=False)
            merged = getattr(sheet, "merged_cell_ranges", None) or []
        except Exception as exc:  # noqa: BLE001
            raise _classify(exc) from exc
        if merged:
            _fill_merged(rows, merged)
        return SheetData(name, rows)

    def empty_formula_cells(self, name: str) -> set[str]:
        """A1 addresses of formula cells with no cached value in sheet `name` (xlsx/xlsm only)."""
        if self._zip is None or self.kind != "xlsx":
            return set()
        part = self._sheet_parts().get(name)
        if not part:
            return set()
        try:
            return _scan_formulas(self._zip, part)
        except Exception:  # noqa: BLE001 - the cells were read; a failed extra scan is not fatal
            return set()

    def _sheet_parts(self) -> dict[str, str]:
        if self._formula_parts is None:
            try:
                self._formula_parts = _xlsx_sheet_parts(self._zip)
            except Exception:  # noqa: BLE001
                self._formula_parts = {}
        return self._formula_parts


def open_book(path: str | Path, limits: Limits | None = None) -> Book:
    """Open `path` read-only; raises Unreadable(F001–F004) for anything that is not a safe workbook."""
    limits = limits or Limits()
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise Unreadable("F001", "no such file / 文件不存在") from None
    except OSError as exc:
        raise Unreadable("F001", exc.strerror or str(exc)) from None
    if not path.is_file():
        raise Unreadable("F001", "not a regular file / 不是普通文件")
    if stat.st_size > limits.max_file_bytes:
        raise Unreadable("F004", f"file is {stat.st_size} bytes (limit {limits.max_file_bytes})")
    try:
        with open(path, "rb") as handle:  # read-only, once; later steps work on these bytes
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise Unreadable("F001", exc.strerror or str(exc)) from None
    if len(data) > limits.max_file_bytes:
        raise Unreadable("F004", f"file grew past {limits.max_file_bytes} bytes while being read")
    kind, archive = _identify(data, path, limits)
    return Book(path, data, kind, limits, archive)


def _identify(data: bytes, path: Path, limits: Limits) -> tuple[str, zipfile.ZipFile | None]:
    if not data:
        raise Unreadable("F002", "empty file / 空文件")
    head = data[:8]
    if head.startswith(OLE_MAGIC):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[:1 << 20] or (
            b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in data[:1 << 20]
        ):
            raise Unreadable("F003", "encrypted (password-protected) workbook / 工作簿已加密")
        if path.suffix.lower() in (".doc", ".ppt", ".msg"):
            raise Unreadable("F002", f"an Office {path.suffix} file, not a workbook")
        return "xls", None
    if head.startswith(ZIP_MAGICS):
        return _inspect_zip(data, limits)
    if head.startswith(b"%PDF"):
        raise Unreadable("F002", "a PDF file / PDF 文件")
    sniff = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta")):
        raise Unreadable("F002", "an HTML/XML file saved with a spreadsheet name / 网页或 XML 文件")
    if path.suffix.lower() in (".csv", ".txt") or _looks_like_text(data[:4096]):
        raise Unreadable("F002", "a text file, not a workbook / 文本文件")
    raise Unreadable("F002", "unknown file type / 无法识别的文件类型")


def _looks_like_text(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_XML_PART = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)


def _inspect_zip(data: bytes, limits: Limits) -> tuple[str, zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable("F003", f"corrupt zip container / 压缩结构损坏 ({exc})") from None
    if len(infos) > limits.max_parts:
        raise Unreadable("F004", f"{len(infos)} parts in the zip (limit {limits.max_parts})")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise Unreadable(
            "F004", f"parts inflate to {total} bytes (limit {limits.max_unzipped_bytes}) / 解压后体积超限"
        )
    names = {i.filename.lower(): i.filename for i in infos}
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "xl/workbook.bin" in names:
        raise Unreadable("F002", "an .xlsb binary workbook; save it as .xlsx / 请另存为 .xlsx")
    elif "mimetype" in names:
        mime = _read_part(archive, names["mimetype"], 256).strip()
        if mime != ODS_MIME:
            raise Unreadable("F002", f"an OpenDocument file of type {mime.decode('ascii', 'replace')}, not a spreadsheet")
        kind = "ods"
    elif "word/document.xml" in names:
        raise Unreadable("F002", "a Word document / Word 文档")
    elif any(n.startswith("ppt/") for n in names):
        raise Unreadable("F002", "a PowerPoint file / PPT 文件")
    else:
        raise Unreadable("F002", "a zip archive, not a workbook / 压缩包而非工作簿")
    for info in infos:
        if _XML_PART.search(info.filename) and info.file_size:
            _refuse_dtd(archive, info)
    if kind == "xlsx":
        _parse_small_part(archive, names.get("[content_types].xml"))
        _parse_small_part(archive, names["xl/workbook.xml"])
    return kind, archive


def _read_part(archive: zipfile.ZipFile, name: str, size: int) -> bytes:
    try:
        with archive.open(name) as handle:
            return handle.read(size)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise Unreadable("F003", f"part {name} cannot be read ({exc})") from None


_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


def _refuse_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A DTD can only stand in the prolog, before the first element: look there, and refuse it."""
    head = _read_part(archive, info.filename, 65536)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "replace").encode("utf-8")
    match = _FIRST_ELEMENT.search(head)
    prolog = head[: match.start()] if match else head
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise Unreadable("F003", f"XML part {info.filename} declares a DTD or entities (refused as unsafe) / 含 DTD 实体声明")


def _parse_small_part(archive: zipfile.ZipFile, name: str | None) -> None:
    """Parse a small structural part with defusedxml: proves it well-formed and entity-free."""
    if not name:
        raise Unreadable("F003", "the workbook has no [Content_Types].xml / 缺少内容类型清单")
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    raw = _read_part(archive, name, 8 * 1024 * 1024)
    try:
        fromstring(raw)
    except DefusedXmlException as exc:
        raise Unreadable("F003", f"{name}: {type(exc).__name__} (refused as unsafe)") from None
    except Exception as exc:  # noqa: BLE001 - ParseError and friends
        raise Unreadable("F003", f"{name} is not well-formed XML ({exc})") from None


def _calamine_open(data: bytes):
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - every parser failure is a finding
        raise _classify(exc) from exc


def _classify(exc: BaseException) -> Unreadable:
    name = type(exc).__name__
    text = _reason(exc)
    if name == "PasswordError" or "password" in text.lower() or "encrypt" in text.lower():
        return Unreadable("F003", "encrypted (password-protected) workbook / 工作簿已加密")
    if "limit" in text.lower():
        return Unreadable("F004", text)
    return Unreadable("F003", text)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _fill_merged(rows: list[list], merged) -> None:
    if not rows:
        return
    height, width = len(rows), max(len(r) for r in rows)
    for (r0, c0), (r1, c1) in merged:
        if r0 >= height or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        if value in ("", None):
            continue
        for r in range(r0, min(r1, height - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, width - 1, len(row) - 1) + 1):
                if row[c] in ("", None):
                    row[c] = value


def _xlsx_sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name, from xl/workbook.xml and its relationships (parsed by defusedxml)."""
    from defusedxml.ElementTree import fromstring

    names = {i.filename.lower(): i.filename for i in archive.infolist()}
    book = fromstring(_read_part(archive, names["xl/workbook.xml"], 8 * 1024 * 1024))
    rels_name = names.get("xl/_rels/workbook.xml.rels")
    targets: dict[str, str] = {}
    if rels_name:
        for rel in fromstring(_read_part(archive, rels_name, 8 * 1024 * 1024)):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id", "")] = names.get(target.lower(), target)
    out: dict[str, str] = {}
    for element in book.iter():
        if element.tag.endswith("}sheet") or element.tag == "sheet":
            rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            if rid in targets:
                out[element.get("name", "")] = targets[rid]
    return out


def _scan_formulas(archive: zipfile.ZipFile, part: str) -> set[str]:
    """Cells of `part` holding a formula (<f>) but no cached value (<v> missing or empty)."""
    with archive.open(part) as handle:
        found = False
        tail = b""
        while chunk := handle.read(1 << 20):  # cheap pre-filter: most sheets have no formulas
            if b"<f>" in tail + chunk or b"<f " in tail + chunk or b":f>" in tail + chunk or b":f " in tail + chunk:
                found = True
                break
            tail = chunk[-4:]
    if not found:
        return set()
    from defusedxml.ElementTree import iterparse

    cells: set[str] = set()
    with archive.open(part) as handle:
        for _event, element in iterparse(handle, events=("end",)):
            if element.tag.endswith("}c") or element.tag == "c":
                has_formula = has_value = False
                for child in element:
                    local = child.tag.rsplit("}", 1)[-1]
                    if local == "f":
                        has_formula = True
                    elif local in ("v", "is") and (child.text or len(child)):
                        has_value = True
                if has_formula and not has_value:
                    cells.add(element.get("r", ""))
                element.clear()
    return cells


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
