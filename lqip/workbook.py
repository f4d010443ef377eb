"""Opening an untrusted workbook safely, fast, and read-only.

The file is read once into memory (after a size check) and identified by its bytes rather than its
name. Before any parser sees it, every part is inspected with bounded work and memory:

- a zip's declared part sizes and count against the limits, duplicate part names refused, and every
  part inflated once, from the bytes in memory (zipfile reads the directory; inflating stops at the
  declared size and the CRC is checked, as zipfile does, so a part that lies about its size is a
  corrupt file, not a bomb);
- every XML part's prolog for a DTD or entity declarations (refused: entity bombs); the structural
  parts ([Content_Types].xml, the workbook part and its rels) are parsed once, by defusedxml's expat parser, which refuses
  any DTD, entity or notation declaration too (a parse is remembered by the part's bytes: a batch of
  returns from one template parses its structural parts once);
- the size of each sheet as the reader will build it — calamine turns a sheet into a dense grid, so
  two cells at A1 and ALL99000 would cost gigabytes: .xlsx sheet XML is scanned for cell references
  (one bounding pass; the exact measure before any refusal), .ods content for repeated rows and
  columns, .xls (an OLE container, read here) for its cell records and its DIMENSIONS header — and
  the count of shared strings.

A small .xlsx is then handed to calamine as a stored (uncompressed) copy of the parts just checked:
calamine reads exactly the bytes that were measured, and has nothing left to inflate. Cells come from
python-calamine; the few facts it cannot give (a formula with no cached value) come from a streaming
scan of that sheet's XML, only when the pre-scan saw a formula in it. A large .xlsx sheet (4–64 MB of
XML, on more than one core) is read in pieces, cut between rows, each parsed by calamine in a thread
of its own as soon as the inspection has passed it (`_Runs`). Limits are `Limits`, set by the
caller or on the command line (--max-*); docs/ci.md lists them.
"""

from __future__ import annotations

import functools
import io
import itertools
import lzma
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from stat import S_ISREG

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
EXCEL_MAX_CHARS = 32_767  # Excel's own limit for the text of one cell


@dataclass(frozen=True, slots=True)
class Limits:
    """Safety limits. --max-file-mb, --max-unzipped-mb, --max-rows and --max-cells set four of them on
    the command line; a library caller sets any (docs/ci.md, Safety limits)."""

    max_file_bytes: int = 64 * 1024 * 1024  # the file on disk
    max_unzipped_bytes: int = 256 * 1024 * 1024  # sum of a zip's declared part sizes
    max_parts: int = 5000  # entries in a zip
    max_rows: int = 200_000  # rows of one sheet (from row 1 to the last row holding a value)
    max_cells: int = 5_000_000  # rows × columns of one sheet; also cell records, shared strings
    max_cell_chars: int = EXCEL_MAX_CHARS  # text of one cell
    max_merged: int = 100_000  # merged ranges in one sheet
    max_memory_bytes: int = 2 * 1024 * 1024 * 1024  # address space a reading worker may add (Linux)


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


@dataclass(slots=True)
class Extent:
    """What a sheet will cost once read: rows and columns from A1, cells held, merged ranges."""

    rows: int = 0
    cols: int = 0
    cells: int = 0
    merged: int = 0

    def widen(self, other: Extent) -> None:
        self.rows = max(self.rows, other.rows)
        self.cols = max(self.cols, other.cols)
        self.cells = max(self.cells, other.cells)
        self.merged = max(self.merged, other.merged)


def _check_extent(where: str, extent: Extent, limits: Limits) -> None:
    if extent.rows > limits.max_rows:
        raise Unreadable("F004", f"{where} has {extent.rows} rows (limit {limits.max_rows}) / 行数超限")
    if extent.rows * extent.cols > limits.max_cells:
        raise Unreadable(
            "F004", f"{where} spans {extent.rows}×{extent.cols} cells (limit {limits.max_cells}) / 单元格数超限"
        )
    if extent.cells > limits.max_cells:
        raise Unreadable("F004", f"{where} holds {extent.cells} cells (limit {limits.max_cells}) / 单元格数超限")
    if extent.merged > limits.max_merged:
        raise Unreadable("F004", f"{where} has {extent.merged} merged ranges (limit {limits.max_merged})")


@dataclass(slots=True)
class _Inspected:
    """What the inspection of a container found: its kind, the zip, and each sheet's extent."""

    kind: str
    archive: zipfile.ZipFile | None = None
    sheet_parts: dict[str, str] = field(default_factory=dict)  # xlsx: sheet name -> part
    extents: dict[str, Extent] = field(default_factory=dict)  # xlsx: part -> extent
    bounds: set[str] = field(default_factory=set)  # xlsx: parts whose extent is an upper bound, not exact
    formulas: dict[str, bool] = field(default_factory=dict)  # xlsx: part -> may hold a formula (<f>)
    unmeasured: list[str] = field(default_factory=list)  # xlsx: parts verified but not yet measured
    data: bytes | None = None  # the bytes to hand to calamine, when they had to be neutralised or repacked
    longest_part: int = -1  # xlsx handed over repacked: bytes of its longest part
    parts: list | None = None  # xlsx: (part, its inflated chunks), while the inspection gathers them
    piecewise: set[str] = field(default_factory=set)  # xlsx: the sheet part to read in pieces (_piecewise)
    whole: dict[str, _Runs] = field(default_factory=dict)  # xlsx: that part -> its reading in pieces

    def drop_runs(self) -> None:
        """Wait for the runs of sheets read in pieces that will not be asked for."""
        for runs in self.whole.values():
            runs.drop()
        self.whole.clear()


class Book:
    """An opened workbook: its sheet names and, on demand, a sheet's cells."""

    def __init__(self, path: Path, data: bytes, kind: str, limits: Limits, archive: zipfile.ZipFile | None,
                 inspected: _Inspected | None = None):
        self.path = path
        self.kind = kind  # "xlsx" | "xls" | "ods"
        self.limits = limits
        self._data = data
        self._zip = archive
        self._inspected = inspected or _Inspected(kind, archive)
        self._wb = _calamine_open(self._inspected.data or data, kind)
        try:
            self.sheet_names: list[str] = list(self._wb.sheet_names)
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # noqa: BLE001 - any parser failure is a corrupt file
            raise Unreadable("F003", _reason(exc)) from exc

    def sheet(self, name: str) -> SheetData:
        """The sheet's cells as lists from A1, merged ranges filled with their top-left value."""
        read = None
        if self.kind == "xlsx":  # .xls and .ods were measured whole before calamine read them
            part = self._inspected.sheet_parts.get(name)
            runs = self._inspected.whole.pop(part, None) if part is not None else None
            try:
                _check_extent(f"sheet '{name}'", self._xlsx_extent(name), self.limits)
            except Unreadable:
                if runs is not None:
                    runs.drop()
                raise
            if runs is not None:
                read = runs.read()  # (its text checked)
        if read is None:
            rows, merged = self._whole_sheet(name)
            if not 0 <= self._inspected.longest_part <= self.limits.max_cell_chars:
                _check_text(name, rows, self.limits)
        else:
            rows, merged = read
        if merged:
            _fill_merged(name, rows, merged, self.limits)
        return SheetData(name, rows)

    def close(self) -> None:
        """Done with the workbook: the runs of a sheet read in pieces but never asked for are waited
        for (none outlives its file)."""
        self._inspected.drop_runs()

    def _whole_sheet(self, name: str) -> tuple[list[list], list]:
        """The sheet's cells and merged ranges, read by calamine from the workbook as a whole."""
        try:
            sheet = self._wb.get_sheet_by_name(name)
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # noqa: BLE001
            raise _classify(exc) from exc
        height = sheet.total_height if hasattr(sheet, "total_height") else sheet.height
        width = sheet.total_width if hasattr(sheet, "total_width") else sheet.width
        height, width = (height or 0) + 1, (width or 0) + 1
        _check_extent(f"sheet '{name}'", Extent(height, width), self.limits)
        try:
            rows = sheet.to_python(skip_empty_area=False)
            merged = getattr(sheet, "merged_cell_ranges", None) or []
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # noqa: BLE001
            raise _classify(exc) from exc
        return rows, merged

    def _xlsx_extent(self, name: str) -> Extent:
        """The extent measured for the sheet's part; the largest of all when the part is not known."""
        inspected = self._inspected
        part = inspected.sheet_parts.get(name)
        if part is not None and part in inspected.extents:
            return inspected.extents[part]
        if inspected.unmeasured:  # a sheet that cannot be located: every part counts
            _measure_later(self._data, self._zip, self.limits, inspected)
        largest = Extent()
        for extent in inspected.extents.values():
            largest.widen(extent)
        if inspected.bounds and _over(largest, self.limits):  # measure the bounded parts exactly first
            for bounded in sorted(inspected.bounds):
                scan = _SheetScan(self.limits, text_limit=False, exact=True)
                _verify_part(self._data, self._zip, self._zip.getinfo(bounded), [scan])
                extent = scan.extent()
                if extent is None:
                    whole = _read_whole(self._data, self._zip, self._zip.getinfo(bounded),
                                        self.limits.max_unzipped_bytes + 1)
                    extent = _bound_xlsx_sheet(whole, self.limits)
                inspected.extents[bounded] = extent
            inspected.bounds.clear()
            return self._xlsx_extent(name)
        return largest

    def empty_formula_cells(self, name: str) -> set[str]:
        """A1 addresses of formula cells with no cached value in sheet `name` (xlsx/xlsm only)."""
        if self._zip is None or self.kind != "xlsx":
            return set()
        part = self._inspected.sheet_parts.get(name)
        if not part or not self._inspected.formulas.get(part, True):  # the pre-scan saw no <f> in it
            return set()
        try:
            return _scan_formulas(self._data, self._zip, self._zip.getinfo(part))
        except Exception:  # noqa: BLE001 - the cells were read; a failed extra scan is not fatal
            return set()


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
    if not S_ISREG(stat.st_mode):  # what path.is_file() would say, without asking the system again
        raise Unreadable("F001", "not a regular file / 不是普通文件")
    if stat.st_size > limits.max_file_bytes:
        raise Unreadable("F004", f"file is {stat.st_size} bytes (limit {limits.max_file_bytes})")
    try:
        with open(path, "rb") as handle:  # read-only, once; later steps work on these bytes
            # as much as stat said, and one byte more: a file that grew since is read on, to the limit
            # (asking for the limit at once would make Python reserve all of it)
            want = min(stat.st_size, limits.max_file_bytes) + 1
            data = handle.read(want)
            if len(data) == want:
                data += handle.read(limits.max_file_bytes + 1 - want)
    except OSError as exc:
        raise Unreadable("F001", exc.strerror or str(exc)) from None
    if len(data) > limits.max_file_bytes:
        raise Unreadable("F004", f"file grew past {limits.max_file_bytes} bytes while being read")
    inspected = _identify(data, path, limits)
    try:
        return Book(path, data, inspected.kind, limits, inspected.archive, inspected)
    except BaseException:
        inspected.drop_runs()
        raise


def _identify(data: bytes, path: Path, limits: Limits) -> _Inspected:
    if not data:
        raise Unreadable("F002", "empty file / 空文件")
    head = data[:8]
    if head.startswith(OLE_MAGIC):
        return _inspect_ole(data, path, limits)
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


# --- zip containers (.xlsx, .xlsm, .ods) ----------------------------------------------------------

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_READ_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError,
                zipfile.LargeZipFile, KeyError, struct.error, zlib.error, lzma.LZMAError)
_CHUNK = 1 << 20
# Parts that hold no cell text (a long text run there is no reason to refuse the workbook).
_NOT_SHEETS = re.compile(
    r"(^|/)(\[content_types\]\.xml|_rels/|docprops/|theme/|media/|drawings/|charts/|customxml/|printersettings/"
    r"|styles\.xml$|calcchain\.xml$|vbaproject)", re.IGNORECASE)


def _may_hold_text(key: str) -> bool:
    """Whether the part may hold cell text (it is not one of _NOT_SHEETS)."""
    return not _NOT_SHEETS.search(key)


def _norm(name: str) -> str:
    """A part name as calamine matches it: forward slashes, no leading slash, case-insensitive."""
    return name.replace("\\", "/").lstrip("/").lower()


def _inspect_zip(data: bytes, limits: Limits) -> _Inspected:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _READ_ERRORS as exc:
        raise Unreadable("F003", f"corrupt zip container / 压缩结构损坏 ({exc})") from None
    if len(infos) > limits.max_parts:
        raise Unreadable("F004", f"{len(infos)} parts in the zip (limit {limits.max_parts})")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise Unreadable(
            "F004", f"parts inflate to {total} bytes (limit {limits.max_unzipped_bytes}) / 解压后体积超限"
        )
    names: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if not info.filename:
            raise Unreadable("F003", "the zip holds a part without a name / 压缩包内有无名部件")
        key = _norm(info.filename)
        if key in names and not info.is_dir():
            raise Unreadable("F003", f"the zip holds part {info.filename} twice / 压缩包内有重名部件")
        names[key] = info
    kind, workbook_part = _zip_kind(archive, names)
    inspected = _Inspected(kind, archive)
    plain = kind == "xlsx" and _plain_directory(data, len(infos))
    if plain and total <= _REPACK_LIMIT:
        inspected.parts = []
    order = list(names)
    if kind == "xlsx":
        book_key = _norm(workbook_part.filename)
        base, _, leaf = book_key.rpartition("/")
        rels_key = f"{base}/_rels/{leaf}.rels" if base else f"_rels/{leaf}.rels"
        structural = {book_key, f"{base}/styles.xml" if base else "styles.xml"}
        if "[content_types].xml" not in names:
            raise Unreadable("F003", "the workbook has no [Content_Types].xml / 缺少必需的部件")
        # the parts that say where the sheets are come first, each inflated once and parsed from those bytes
        # ([Content_Types].xml holds no cells: measured below only if a sheet's part is it)
        first = ["[content_types].xml", book_key] + ([rels_key] if rels_key in names else [])
        kept = {key: _inspect_xlsx_part(data, archive, names[key], key, structural, limits, inspected, keep=True,
                                        sheets=set() if key == "[content_types].xml" else None)
                for key in first}
        _parse_small_part(kept["[content_types].xml"], names["[content_types].xml"])
        sheets = _parse_small_part(kept[book_key], workbook_part, _sheet_collector)
        mapping = _xlsx_sheet_parts(names, book_key, sheets, kept.get(rels_key))
        inspected.sheet_parts = {sheet: names[part].filename for sheet, part in mapping.items() if part in names}
        targets = set(mapping.values())
        if "[content_types].xml" in targets:
            _measure_later(data, archive, limits, inspected)
        order = [key for key in order if key not in kept]
        # Sheet parts large enough to be read in pieces come last, whatever the machine (the order, so
        # the first of several problems a file may have, never varies), and the last of them is read in
        # pieces: its runs start while it is inspected, and each run's copy of the workbook holds every
        # other part, which has passed by then. (The copies are of the original's parts: calamine must
        # see the same parts zipfile found.)
        large = sorted(key for key in targets if key in names and _PIECEWISE <= names[key].file_size <= _PIECEWISE_MAX)
        order = [key for key in order if key not in large] + large
        if large and plain and _piecewise(names[large[-1]], names):
            inspected.piecewise = {large[-1]}
    for key in order:
        info = names[key]
        if info.is_dir():
            continue
        if kind == "xlsx":
            _inspect_xlsx_part(data, archive, info, key, structural, limits, inspected, sheets=targets)
        elif key == "meta-inf/manifest.xml":
            _verify_part(data, archive, info, [_OdsManifest()])
        elif key == "content.xml":
            _measure_ods(_verify_part(data, archive, info, [], keep=limits.max_unzipped_bytes + 1), limits)
        else:
            _verify_part(data, archive, info, [])
    if inspected.parts is not None:
        inspected.data = _stored_zip(inspected.parts)
        inspected.longest_part = max((info.file_size for info in infos), default=0)
        inspected.parts = None
    return inspected


def _inspect_xlsx_part(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, structural: set[str],
                       limits: Limits, inspected: _Inspected, keep: bool = False,
                       sheets: set[str] | None = None) -> bytes | bytearray | None:
    """Verify one part of an .xlsx; an XML part is measured as if it were a sheet (calamine follows the
    rels, and a sheet that cannot be located is held to the largest extent found). With `keep`, the
    part's first 8 MB are returned (structural parts, parsed next).

    A part that holds no cell text (_NOT_SHEETS) and is not the part of any sheet (`sheets`, once the
    workbook part has been read) is only verified: its extent matters only for a sheet that cannot be
    located, and is then measured (Book._xlsx_extent)."""
    sinks: list = []
    # an element takes at least 4 bytes (<a/>): a part of at most 4 × limit bytes cannot hold too many
    counted = info.file_size > 4 * limits.max_cells
    if counted and (key in structural or key.endswith(".rels")):
        sinks.append(_ElementCount(info.filename, _ANY_TAG, limits, "XML elements / 元素数超限"))
    keep_bytes = _SMALL_PART if keep else 0
    chunks = None
    if inspected.parts is not None:
        chunks = []
        inspected.parts.append((info, chunks))
    if not key.endswith(".xml"):
        return _verify_part(data, archive, info, sinks, keep=keep_bytes, collect=chunks)
    text_limit = _may_hold_text(key)
    if not text_limit and sheets is not None and key not in sheets:
        inspected.unmeasured.append(info.filename)
        return _verify_part(data, archive, info, sinks, keep=keep_bytes, collect=chunks)
    scan = _SheetScan(limits, text_limit=text_limit)
    sinks.append(scan)
    if counted and key.endswith("sharedstrings.xml"):
        sinks.append(_ElementCount(info.filename, _SI, limits, "strings / 共享字符串数超限"))
    name = None
    if chunks is None and key in inspected.piecewise:
        name = next((sheet for sheet, part in inspected.sheet_parts.items() if part == info.filename), None)
    runs = _Runs(data, archive, info, name, scan, limits) if name is not None else None
    if runs is not None:
        sinks.append(runs)  # (after the scan: it reads what the scan has passed)
    try:
        raw = _verify_part(data, archive, info, sinks, keep=keep_bytes, collect=chunks)
        _record_extent(data, archive, info, scan, limits, inspected)
    except BaseException:
        if runs is not None:
            runs.drop()  # (its runs are bounded: they end before the refusal does)
        raise
    if runs is not None:
        if scan.placed and not scan.tricky:
            inspected.whole[info.filename] = runs
        else:
            runs.drop()
    return raw


def _record_extent(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _SheetScan, limits: Limits,
                   inspected: _Inspected) -> None:
    """Store the extent the scan of a part found; measure the part again, exactly, when the scan's
    bound is over a limit, and row by row when the scan cannot vouch for it."""
    extent = scan.extent()
    if extent is not None and scan.bounded and _over(extent, limits):
        # the fast pass gave an upper bound over a limit: measure the part exactly before refusing it
        formulas = scan.formulas
        scan = _SheetScan(limits, text_limit=False, exact=True)
        _verify_part(data, archive, info, [scan])
        scan.formulas = scan.formulas or formulas
        extent = scan.extent()
    if extent is None:  # the scan cannot vouch for it: bound it row by row
        extent = _bound_xlsx_sheet(_read_whole(data, archive, info, limits.max_unzipped_bytes + 1), limits)
    elif scan.bounded:
        inspected.bounds.add(info.filename)
    inspected.extents[info.filename] = extent
    inspected.formulas[info.filename] = scan.formulas


def _measure_later(data: bytes, archive: zipfile.ZipFile, limits: Limits, inspected: _Inspected) -> None:
    """Measure the parts _inspect_xlsx_part only verified, and make bounded extents exact."""
    for name in inspected.unmeasured:
        scan = _SheetScan(limits, text_limit=False)
        info = archive.getinfo(name)
        _verify_part(data, archive, info, [scan])
        _record_extent(data, archive, info, scan, limits, inspected)
    inspected.unmeasured.clear()


def _over(extent: Extent, limits: Limits) -> bool:
    """Whether _check_extent refuses the extent."""
    return (extent.rows > limits.max_rows or extent.rows * extent.cols > limits.max_cells
            or extent.cells > limits.max_cells or extent.merged > limits.max_merged)


def _zip_kind(archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> tuple[str, zipfile.ZipInfo | None]:
    """("xlsx", workbook part) or ("ods", None); F002 for other zips."""
    if "mimetype" in names:
        mime = _read_part(archive, names["mimetype"], 256).strip()
        if mime == ODS_MIME:
            return "ods", None
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            raise Unreadable("F002", f"an OpenDocument file of type {mime.decode('ascii', 'replace')}, not a spreadsheet")
    workbook = names.get("xl/workbook.xml") or _office_document(archive, names)
    if workbook is not None and workbook.filename.lower().endswith(".bin"):
        raise Unreadable("F002", "an .xlsb binary workbook; save it as .xlsx / 请另存为 .xlsx")
    if workbook is not None:
        return "xlsx", workbook
    if "xl/workbook.bin" in names:
        raise Unreadable("F002", "an .xlsb binary workbook; save it as .xlsx / 请另存为 .xlsx")
    if "word/document.xml" in names:
        raise Unreadable("F002", "a Word document / Word 文档")
    if any(n.startswith("ppt/") for n in names):
        raise Unreadable("F002", "a PowerPoint file / PPT 文件")
    if "mimetype" in names:
        raise Unreadable("F002", "an OpenDocument file that is not a spreadsheet / 非电子表格的 OpenDocument 文件")
    raise Unreadable("F002", "a zip archive, not a workbook / 压缩包而非工作簿")


def _office_document(archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    """The workbook part named by _rels/.rels (minimal packages keep it outside xl/)."""
    rels = names.get("_rels/.rels")
    if rels is None:
        return None
    for rel in _rels(_read_part(archive, rels, _SMALL_PART)):
        if rel.get("Type", "").endswith("/officeDocument"):
            target = _norm(rel.get("Target", ""))
            if target.endswith(("workbook.xml", "workbook.bin")) or "spreadsheetml" in rel.get("Type", ""):
                return names.get(target)
    return None


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo | str, size: int) -> bytes:
    name = info.filename if isinstance(info, zipfile.ZipInfo) else info
    try:
        with archive.open(info) as handle:
            return handle.read(size)
    except _READ_ERRORS as exc:
        raise Unreadable("F003", f"part {name} cannot be read ({exc})") from None


def _read_whole(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes:
    """The first `size` bytes of the part, checked like every other read."""
    out = bytearray()
    for chunk in _part_chunks(data, archive, info):
        out += chunk[: size - len(out)]
        if len(out) >= size:
            break
    return bytes(out)


_SMALL_PART = 8 * 1024 * 1024  # bytes of a structural part that are parsed (a longer one is not well-formed)
_REPACK_LIMIT = 2 * 1024 * 1024  # an .xlsx inflating to at most this much is handed to calamine repacked
_STORED_LOCAL = struct.Struct("<4s5H3L2H")
_STORED_CENTRAL = struct.Struct("<4s6H3L5H2L")
_STORED_END = struct.Struct("<4s4H2LH")


def _plain_directory(data: bytes, count: int) -> bool:
    """True when the zip ends with a plain end record (one disk, no zip64, no bytes before the zip or
    after its comment) that counts the `count` parts zipfile found: calamine's zip reader, which
    trusts the record's counts where zipfile reads the whole directory, then sees the same parts, and
    a stored copy of them reads as the original would."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if end < 20 or end + _STORED_END.size > len(data) or data[end - 20:end - 16] == b"PK\x06\x07":
        return False
    _, disk, first_disk, here, entries, size, offset, comment = _STORED_END.unpack_from(data, end)
    return (disk == first_disk == 0 and here == entries == count and offset + size == end
            and end + _STORED_END.size + comment == len(data))


def _stored_zip(parts: list) -> bytes:
    """A zip of the parts as inflated and checked here, stored (not compressed), in their order.

    calamine then reads exactly the bytes that were measured, whatever the original's local headers,
    data descriptors or compression said, and has nothing left to inflate (half its time on a small
    workbook)."""
    entries = []
    for info, chunks in parts:
        size = len(chunks[0]) if len(chunks) == 1 else sum(map(len, chunks))
        entries.append((info, zipfile.ZIP_STORED, info.CRC, size, size, chunks))
    return b"".join(_zip_pieces(entries))


def _zip_pieces(entries: list) -> list:
    """The bytes, in pieces, of a zip of (info, method, CRC-32, compressed size, size, chunks of its
    bytes as stored) entries."""
    out: list = []
    central: list[bytes] = []
    local_header, central_header = _STORED_LOCAL.pack, _STORED_CENTRAL.pack
    offset = 0
    for info, method, crc, compressed, size, chunks in entries:
        name = info.orig_filename.encode("utf-8")  # the name as read: zipfile's filename stops at a NUL
        flags = 0 if name.isascii() else 0x800
        out.append(local_header(b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, compressed, size, len(name), 0))
        out.append(name)
        out += chunks
        central.append(central_header(b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, compressed, size,
                                      len(name), 0, 0, 0, 0, 0, offset))
        central.append(name)
        offset += _STORED_LOCAL.size + len(name) + compressed
    directory = b"".join(central)
    out += (directory, _STORED_END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0))
    return out


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_IN_PIECE = 1 << 18  # compressed bytes handed to zlib at a time


def _payload(data: bytes, info: zipfile.ZipInfo) -> memoryview | None:
    """The part's stored or deflated bytes inside `data`, when its local header is what zipfile itself
    would accept without a second look; None leaves the part to zipfile (other methods, encryption,
    a header that disagrees with the directory: zipfile raises what it raises)."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x61:
        return None
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        return None
    fields = _LOCAL_HEADER.unpack_from(data, offset)
    if fields[0] != b"PK\x03\x04":
        return None
    name_at = offset + _LOCAL_HEADER.size
    name = data[name_at:name_at + fields[10]]
    try:  # (ASCII reads the same in both encodings zipfile knows, and decodes fastest)
        decoded = name.decode("ascii" if name.isascii() else "utf-8" if fields[3] & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if decoded != info.orig_filename:
        return None
    start = name_at + fields[10] + fields[11]
    return memoryview(data)[start:start + info.compress_size]


def _part_chunks(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """The part's bytes, inflated _CHUNK at a time (bounded memory), then checked as zipfile checks them:
    never more than the declared size (inflating stops there: a part lying about its size is refused)
    and the declared CRC-32. Raises Unreadable F003. A part of at most _CHUNK bytes comes whole, from
    one call."""
    payload = _payload(data, info)
    if payload is None:
        return _zipfile_chunks(archive, info)
    if info.file_size > _CHUNK:
        return _inflate_chunks(payload, info)
    body = _inflate_small(payload, info)
    return (body,) if body else ()


def _inflate_small(payload: memoryview, info: zipfile.ZipInfo) -> bytes:
    """The whole part of at most _CHUNK bytes, from one call, checked as _part_chunks checks it."""
    size = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        body = bytes(payload[:size + 1])
    else:
        try:
            body = zlib.decompressobj(-15).decompress(payload, size + 1)
        except zlib.error as exc:
            raise Unreadable("F003", f"part {info.filename} cannot be read (Error -3 while decompressing: {exc})") \
                from None
    _check_inflated(info, len(body), zlib.crc32(body))
    return body


def _check_inflated(info: zipfile.ZipInfo, total: int, crc: int) -> None:
    """As zipfile: never more than the declared size; fewer pass when the CRC-32 matches them."""
    if total > info.file_size:
        raise Unreadable("F003", f"part {info.filename} cannot be read (it inflates to more bytes than its "
                                 "header says)")
    if crc != info.CRC:
        raise Unreadable("F003", f"part {info.filename} cannot be read (Bad CRC-32 for file {info.filename!r})")


def _inflate_chunks(payload: memoryview, info: zipfile.ZipInfo):
    """_CHUNK bytes at a time, the last one shorter (as zipfile's read(_CHUNK) gives them: the first
    chunk holds the whole prolog _refuse_dtd looks at, however the stream was cut into blocks)."""
    size, crc, total = info.file_size, 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        pieces = (payload[i:i + _CHUNK] for i in range(0, len(payload), _CHUNK))
        for piece in pieces:
            chunk = bytes(piece)
            total += len(chunk)
            if total > size:
                break
            crc = zlib.crc32(chunk, crc)
            yield chunk
    else:
        inflater = zlib.decompressobj(-15)
        pos, end, tail = 0, len(payload), b""
        pending: list[bytes] = []
        have = 0
        try:
            while not inflater.eof:
                if tail:
                    piece = tail
                elif pos < end:
                    piece = payload[pos:pos + _IN_PIECE]
                    pos += len(piece)
                else:
                    piece = b""
                chunk = inflater.decompress(piece, _CHUNK - have)
                tail = inflater.unconsumed_tail
                if chunk:
                    total += len(chunk)
                    if total > size:
                        break
                    crc = zlib.crc32(chunk, crc)
                    pending.append(chunk)
                    have += len(chunk)
                    if have >= _CHUNK:
                        yield pending[0] if len(pending) == 1 else b"".join(pending)
                        pending, have = [], 0
                elif not piece:
                    break
        except zlib.error as exc:
            raise Unreadable("F003", f"part {info.filename} cannot be read (Error -3 while decompressing: {exc})") \
                from None
        if pending and total <= size:
            yield pending[0] if len(pending) == 1 else b"".join(pending)
    _check_inflated(info, total, crc)


def _zipfile_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
    except _READ_ERRORS as exc:
        raise Unreadable("F003", f"part {info.filename} cannot be read ({exc})") from None


def _verify_part(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo, sinks: list,
                 keep: int = 0, collect: list | None = None) -> bytes | bytearray | None:
    """Inflate the part once to its end, checking its declared size and CRC on the way, and search the
    head of an XML part for a DTD. Each sink is called with every chunk (or its `whole` method with the
    part that comes whole), then closed. With `keep`, the part's first `keep` bytes are returned;
    `collect` gets every chunk."""
    payload = _payload(data, info) if info.file_size <= _CHUNK else None
    if payload is None:
        return _verify_chunks(_part_chunks(data, archive, info), info, sinks, keep, collect)
    # the common case, a part inflated whole from the bytes in memory: the same steps, without a generator
    body = _inflate_small(payload, info)
    if body:
        if _is_xml(info.filename):
            _refuse_dtd(info.filename, body)
        for sink in sinks:
            sink.whole(body)
        if collect is not None:
            collect.append(body)
    for sink in sinks:
        sink.close()
    return body[:keep] if keep else None


def _is_xml(name: str) -> bool:
    r"""Whether the part is searched for a DTD: its name ends .xml, .rels or .vml, as r"\.xml$" finds
    (a newline after it too)."""
    lowered = name.lower()
    return (lowered[:-1] if lowered.endswith("\n") else lowered).endswith(_XML_SUFFIXES)


def _verify_chunks(chunks, info: zipfile.ZipInfo, sinks: list, keep: int, collect: list | None) -> bytearray | None:
    """_verify_part for a part read chunk by chunk."""
    is_xml = _is_xml(info.filename)
    kept = bytearray() if keep else None
    first = True
    for chunk in chunks:
        if first:
            first = False
            if is_xml:
                _refuse_dtd(info.filename, chunk)
        for sink in sinks:
            sink(chunk)
        if collect is not None:
            collect.append(chunk)
        if kept is not None and len(kept) < keep:
            kept += chunk[: keep - len(kept)]
    for sink in sinks:
        sink.close()
    return kept


_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_PROLOG_LIMIT = 65536


def _refuse_dtd(name: str, head: bytes) -> None:
    """A DTD can only stand in the prolog, before the first element: look there, and refuse it.
    UTF-16 text is searched with its zero bytes dropped; a prolog longer than 64 KB is refused too."""
    if b"\x00" in head[:4] or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head[:_PROLOG_LIMIT].replace(b"\x00", b"")
    match = _FIRST_ELEMENT.search(head, 0, _PROLOG_LIMIT)
    end = match.start() if match else min(len(head), _PROLOG_LIMIT)  # the prolog is head[:end]
    if head.find(b"<!", 0, end) >= 0:
        prolog = head[:end].upper()
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            raise Unreadable("F003", f"XML part {name} declares a DTD or entities (refused as unsafe) / 含 DTD 实体声明")
    if match is None and end >= _PROLOG_LIMIT:
        raise Unreadable("F003", f"XML part {name} has no element in its first 64 KB (refused as unsafe)")


class _Refused(Exception):
    pass


def _expat(raw: bytes, start=None, end=None) -> None:
    """Parse `raw` with defusedxml's hardened expat parser (any DTD, entity declaration or external
    reference forbidden), building nothing. `start(tag, attrs)` and `end(tag)`, when given, are
    installed as expat's own element handlers: a namespaced name reads "uri}local" (ElementTree's
    "{uri}local" without its brace) and `attrs` is a dict."""
    parser_class, refused = _defused()
    # A target without start, end or data methods: ElementTree's XMLParser then installs no Python
    # handler of its own for elements or text, and expat alone checks the document.
    parser = parser_class(target=_NO_TARGET, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat = parser.parser  # defusedxml's refusals (DTD, entities, external references) stay installed
    # ElementTree's default handler would see every tag and text: it only serves entities declared in
    # a DTD and the doctype, both refused before it could matter (with no DTD, expat itself rejects an
    # undefined entity).
    expat.DefaultHandlerExpand = None
    if start is not None:
        expat.ordered_attributes = False
        expat.StartElementHandler = start
    if end is not None:
        expat.EndElementHandler = end
    try:
        parser.feed(raw)
        parser.close()
    except refused as exc:
        raise _Refused(f"{type(exc).__name__}: a DTD, an entity or an external reference") from None


@functools.cache
def _defused():
    """defusedxml's parser class and the base of its refusals, imported once, on first use."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    return DefusedXMLParser, DefusedXmlException


class _NoTarget:
    """An ElementTree parser target that builds nothing (and, having no start, end or data method,
    gets no per-element call)."""

    def close(self):
        return None


_NO_TARGET = _NoTarget()


def _parse_small_part(raw: bytes, info: zipfile.ZipInfo, collector=None):
    """Parse a small structural part: proves it well-formed and entity-free. With a collector (a
    function returning (start handler, result)), returns what it gathered."""
    try:
        if _rememberable(raw):
            found = _remembered_parse(raw, collector)
            return None if found is None else list(found)
        return _parse(raw, collector)
    except _Refused as exc:
        raise Unreadable("F003", f"{info.filename}: {exc} (refused as unsafe)") from None
    except Exception as exc:  # noqa: BLE001 - ExpatError and friends
        raise Unreadable("F003", f"{info.filename} is not well-formed XML ({str(exc)[:120]})") from None


# A batch of returns from one template repeats its structural parts byte for byte: a short part's
# parse is remembered by its bytes (what parsed once parses the same again; a failure is not kept).
_REMEMBER_BYTES = 64 * 1024


def _rememberable(raw: bytes | bytearray) -> bool:
    """Whether the part's parse may be remembered (bytes, short enough to keep a few of)."""
    return raw.__class__ is bytes and len(raw) <= _REMEMBER_BYTES


def _parse(raw: bytes, collector=None):
    """_expat over the part, with the collector's start handler; what the collector gathered."""
    start, result = collector() if collector else (None, None)
    _expat(raw, start)
    return result


@functools.lru_cache(maxsize=32)
def _remembered_parse(raw: bytes, collector=None) -> tuple | None:
    """_parse, remembered by the part's bytes and the collector (what it gathered, as a tuple)."""
    found = _parse(raw, collector)
    return None if found is None else tuple(found)


def _sheet_collector():
    """<sheet> elements anywhere in the workbook part: [(name, r:id or None)]."""
    sheets: list[tuple[str, str | None]] = []

    def start(tag, attrs):
        if tag.endswith("}sheet") or tag == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith("}id") or k == "r:id"), None)
            sheets.append((attrs.get("name", ""), rid))

    return start, sheets


def _rels(raw: bytes) -> list[dict]:
    """The attributes of each child of a relationships part's root; [] when it cannot be parsed."""
    try:
        return list(_remembered_rels(raw)) if _rememberable(raw) else _parse_rels(raw)
    except Exception:  # noqa: BLE001 - unusable rels: the caller falls back
        return []


def _parse_rels(raw: bytes) -> list[dict]:
    rels: list[dict] = []
    depth = [0]

    def start(tag, attrs):
        if depth[0] == 1:
            rels.append(attrs)
        depth[0] += 1

    def end(tag):
        depth[0] -= 1

    _expat(raw, start, end)
    return rels


@functools.lru_cache(maxsize=32)
def _remembered_rels(raw: bytes) -> tuple[dict, ...]:
    """_parse_rels, remembered by the part's bytes (the callers only read the dicts)."""
    return tuple(_parse_rels(raw))


def _xlsx_sheet_parts(names: dict[str, zipfile.ZipInfo], book_key: str, sheets: list[tuple[str, str | None]],
                      rels_raw: bytes | None) -> dict[str, str]:
    """Sheet name -> normalised part name, from the workbook part's <sheet>s and its relationships. A
    name given twice is left out (its extent is then the largest one)."""
    base = book_key.rpartition("/")[0]
    prefix = base + "/" if base else ""
    targets: dict[str, str] = {}
    for rel in _rels(rels_raw) if rels_raw is not None else []:
        target = rel.get("Target", "")
        raw = _norm(target)
        resolved = _resolve(raw if target.startswith("/") else prefix + raw)
        targets[rel.get("Id", "")] = resolved if resolved in names or raw not in names else raw
    out: dict[str, str] = {}
    twice: set[str] = set()
    for name, rid in sheets:
        if name in out:
            twice.add(name)
        if rid in targets:
            out[name] = targets[rid]
    return {name: part for name, part in out.items() if name not in twice}


def _resolve(path: str) -> str:
    """The path with its empty and "." pieces dropped, each ".." taking the piece before it away."""
    if path and "//" not in path and "/." not in path and path[0] not in "./" and path[-1] != "/":
        return path  # nothing to drop (the common case)
    pieces: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if pieces:
                pieces.pop()
        elif piece not in ("", "."):
            pieces.append(piece)
    return "/".join(pieces)


# --- measuring an .xlsx sheet part ----------------------------------------------------------------
#
# calamine places a cell at its r="B7" reference, or, without one, after the previous cell of the row
# (rows likewise follow <row r="…"> or count on). Cells written self-closing or empty hold no value.
# The bounding pass (_SheetScan._bound: every cell start written <c r="B7") takes one regular
# expression per 1 MB chunk (a search that finds nothing, when every row has few enough digits and
# every column one letter) and gives an upper bound; when that bound is over a limit, the exact
# measure (_SheetScan._scan_exact, a few regular expressions per chunk, self-closing cells apart) runs
# before refusing. Anything neither can vouch for gets an upper bound, row by row (_bound_xlsx_sheet).

_PFX = rb"(?:[A-Za-z_][\w.\-]*+:)?"
_ATTRS = rb"""(?:[^<>"']|"[^"<>]*"|'[^'<>]*')*"""


def _cell_patterns(prefix: bytes) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(any <c> start tag, a self-closing <c/>, an open <c> with its r="B7") for a tag prefix."""
    return (
        re.compile(rb"<" + prefix + rb"c[\s/>]"),
        re.compile(rb"<" + prefix + rb"c(?:\s" + _ATTRS + rb")?/>"),
        re.compile(rb"<" + prefix + rb"c\s" + _ATTRS.replace(b")*", b")*?")
                   + rb"(?<=\s)r\s*=\s*([\"'])([A-Za-z]{1,3})(\d{1,7})\1" + _ATTRS + rb"(?<!/)>"),
    )


# Unprefixed tags are the rule (Excel, WPS, LibreOffice): the patterns without the optional
# namespace prefix are several times faster, so they are used when a chunk holds no "x:c" tag.
_PLAIN = _cell_patterns(b"")
_PREFIXED = _cell_patterns(_PFX)
_C_ANY, _C_SELF, _C_REF = _PREFIXED
_MERGE = re.compile(rb"<" + _PFX + rb"mergeCell[\s/>]")
_PREFIXED_C = re.compile(rb":c[\s/>]")


def _cells(buf: bytes) -> tuple[int, int, list[tuple[bytes, bytes, bytes]]]:
    """(<c> start tags, self-closing ones, (quote, column, row) of open ones with a reference)."""
    any_c, self_c, ref_c = _PREFIXED if _PREFIXED_C.search(buf) else _PLAIN
    closing = len(self_c.findall(buf)) if b"/>" in buf else 0
    return len(any_c.findall(buf)), closing, ref_c.findall(buf)


_TRICKY = (b"<!--", b"<![CDATA[")
_C_STARTS = (b"<c ", b"<c>", b"<c/", b"<c\t", b"<c\n", b"<c\r")
_C_OPEN_R_FIRST = re.compile(rb'<c r="([A-Za-z]{1,3})(\d{1,10})"[^<>]*(?<!/)>')
_C_SELF_PLAIN = re.compile(rb"<c(?:\s[^<>]*)?/>")
# The bounding pass: cells written <c r="B7" …> (r first, as every writer puts it), open or self-closing.
# One match per cell start (<c followed by a space, / or >), with the reference's row (one-letter
# columns) or its column and row captured when written plainly first, empty otherwise.
_CELL_1 = re.compile(rb'<c(?: r="[A-Z]([1-9]\d{0,9})"|(?=[\s/>]))')
_CELL_3 = re.compile(rb'<c(?: r="([A-Z]{1,3})([1-9]\d{0,9})"|(?=[\s/>]))')
_PREFIXED_CF = re.compile(rb":[cf][\s/>]")
_CELL_START = re.compile(rb"<c[\s/>]")  # an unprefixed cell start
_F_TAG = re.compile(rb"<f[\s/>]")  # (the regular expressions scan these faster than `in` does)
_MERGE_WORD = re.compile(rb"mergeCell")


class _SheetScan:
    """Measures one part, fed 1 MB chunks; also refuses a text run too long for a cell.

    By default each chunk first gets the bounding pass: when every cell start in it is a `<c r="B7"`
    with a plain reference (a count and one regular expression tell), the extent is bounded from those
    references alone (or, when they are all short, from their number of digits and the chunk's length),
    self-closing cells included, one-letter columns counted as 26 (`bounded` is then set: the caller
    measures the part again with `exact=True` before refusing it on that bound). Other
    chunks, and every chunk with `exact`, get the exact measure (`_scan_exact`). Either way the scan
    notes whether the part may hold a formula (`formulas`) and whether every cell start carries its
    reference (`placed`: a run of its rows then reads the same anywhere, see _Runs)."""

    __slots__ = ("any", "self_closing", "refs", "merged", "letters", "numbers", "tricky", "bounded", "formulas", "placed",
                 "_rows", "_cols", "_exact", "_cheap_rows", "_cheap_cells", "_quick", "_carry", "_run", "_longest_run")

    def __init__(self, limits: Limits, text_limit: bool = True, exact: bool = False):
        self.any = self.self_closing = self.refs = self.merged = 0
        self.letters: set[bytes] = set()
        self.numbers: set[bytes] = set()
        self.tricky = False
        self.bounded = False
        self.formulas = False
        self.placed = True  # every cell start seen carries its reference (r="B7"): its place is its own
        self._rows = self._cols = 0  # bounds from the bounding pass
        self._exact = exact
        self._cheap_rows, self._cheap_cells = limits.max_rows, limits.max_cells
        self._quick = _quick_bound(limits.max_rows, limits.max_cells)
        self._carry = b""
        self._run = -1  # length of the text run being skipped, or -1
        # a text node of N bytes holds at least N/10 characters (&#1114111; is the longest spelling)
        self._longest_run = 10 * limits.max_cell_chars + 1024 if text_limit else float("inf")

    def __call__(self, chunk: bytes) -> None:
        if self._run >= 0:
            first = chunk.find(b"<")
            self._run += len(chunk) if first < 0 else first
            self._check_run()
            if first < 0:
                return
            self._run, chunk = -1, chunk[first:]
        start = 0
        if self._carry:
            first = chunk.find(b"<")
            if first < 0:  # no tag starts in this chunk: all of it joins the carry
                chunk, self._carry = self._carry + chunk, b""
            else:  # the tag the chunking cut in two, whole again, with the text after it
                self._scan(self._carry + chunk[:first])
                start = first
        # the chunk is scanned in place up to its last tag, which waits for the next chunk
        cut = chunk.rfind(b"<", start)
        if cut < 0:
            self._carry = b""
            return
        self._carry = chunk[cut:]
        self._scan(chunk, start, cut)
        if len(self._carry) > 65536:
            self._skip_text()

    def _skip_text(self) -> None:
        """A long text after the last tag (the carry is over 64 KB): scan the tag, skip the text."""
        end = self._carry.find(b">")
        if end < 0:
            self.tricky = True  # one tag over 64 KB: leave it to the bound
            self.formulas = True  # (and to the formula scan)
            self._carry = b""
            return
        self._scan(self._carry[: end + 1])
        self._run = len(self._carry) - end - 1
        self._carry = b""
        self._check_run()

    def whole(self, part: bytes) -> None:
        """Scan a whole part, given as one chunk: what `self(part)` then `self.close()` do (a close()
        after it does nothing)."""
        cut = part.rfind(b"<")
        if cut < 0:
            return
        self._scan(part, 0, cut)
        if len(part) - cut > 65536:
            self._carry = part[cut:]
            self._skip_text()
            self.close()
        else:
            self._scan(part, cut)

    def _check_run(self) -> None:
        if self._run > self._longest_run:
            raise Unreadable("F004", f"a text of over {self._longest_run // 10} characters (limit for a cell: "
                                     f"{(self._longest_run - 1024) // 10}) / 单元格文本超长")

    def close(self) -> None:
        self._scan(self._carry)
        self._carry = b""

    def _scan(self, buf: bytes, start: int = 0, end: int | None = None) -> None:
        """Scan buf[start:end], which ends where a tag starts (no match of these patterns crosses into
        it). None of the patterns searched in place looks behind: searching from `start` is slicing there."""
        if end is None:
            end = len(buf)
        if end <= start:
            return
        if end - start < 64 and not self._exact:  # e.g. the closing </worksheet>: no cell, formula or merge
            buf, start, end = buf[start:end], 0, end - start
            if b"c" not in buf and b"f" not in buf and b"C" not in buf:
                return
        # (a byte a pattern needs is looked for first: finding one byte is many times faster than the search)
        prefixed = _PREFIXED_CF.search(buf, start, end) if buf.find(b":", start, end) >= 0 else None
        if not self.formulas and (prefixed or (buf.find(b"f", start, end) >= 0 and _F_TAG.search(buf, start, end))):
            self.formulas = True
        if (self._exact or (prefixed and _PREFIXED_C.search(buf, prefixed.start(), end))
                or not self._bound(buf, start, end)):
            self._scan_exact(buf[start:end] if start or end < len(buf) else buf)

    def _bound(self, buf: bytes, start: int, end: int) -> bool:
        """The bounding pass over buf[start:end], a chunk without prefixed cells; False when it cannot
        vouch for it.

        Every literal cell start of the chunk is counted, those in comments and CDATA too: a tag
        calamine reads as a cell cannot hide from the count, and a fake one only raises the bound.
        When no cell start is anything but a `<c r="B7"` with a one-letter column and a row of few
        enough digits (`_quick_bound`: one search, no match), the chunk is bounded without looking
        at each cell: rows by those digits, columns by 26, cells by the chunk's length."""
        quick = self._quick
        if quick is not None and _CELL_START.search(buf, start, end) and not quick[0].search(buf, start, end):
            self.bounded = True
            self._rows = max(self._rows, quick[1])
            self._cols = max(self._cols, 26)
            cells = (end - start) // 9  # a cell start, <c r="A1", takes at least 9 bytes
            self.any += cells
            self.refs += cells
            rows = None
        else:
            rows = _CELL_1.findall(buf, start, end)
        if rows:
            if all(rows):
                cols = 26
            else:  # a longer column, or a cell without a plain reference
                refs = _CELL_3.findall(buf, start, end)
                letters = set(map(itemgetter(0), refs))
                if b"" in letters:
                    return False
                cols = max(map(_column_number, letters))
                rows = list(map(itemgetter(1), refs))
            self.bounded = True
            longest = max(map(len, rows))
            top = 10 ** longest - 1  # the digits alone bound the row, mostly well enough
            if top > self._cheap_rows or top * cols > self._cheap_cells:
                top = _largest(rows, longest)
            self._rows = max(self._rows, top)
            self._cols = max(self._cols, cols)
            self.any += len(rows)
            self.refs += len(rows)
        if buf.find(b"g", start, end) >= 0 and _MERGE_WORD.search(buf, start, end):
            self.merged += len(_MERGE.findall(buf, start, end))
        return True

    def _scan_exact(self, buf: bytes) -> None:
        if any(t in buf for t in _TRICKY):
            self.tricky = True
        elif not _PREFIXED_C.search(buf):  # cheapest first: every cell written <c r="B7" …> or <c …/>
            starts = sum(map(buf.count, _C_STARTS))
            refs = _C_OPEN_R_FIRST.findall(buf)
            closing = len(_C_SELF_PLAIN.findall(buf)) if b"/>" in buf else 0
            if len(refs) + closing == starts:
                self.placed = self.placed and not closing  # (a self-closing cell's reference is not looked at)
                self.any += starts
                self.refs += len(refs)
                self.self_closing += closing
                self.letters.update(map(itemgetter(0), refs))
                self.numbers.update(map(itemgetter(1), refs))
                if b"mergeCell" in buf:
                    self.merged += len(_MERGE.findall(buf))
                return
        count, closing, refs = _cells(buf)
        self.placed = self.placed and not closing and len(refs) == count
        self.any += count
        self.self_closing += closing
        self.refs += len(refs)
        self.letters.update(map(itemgetter(1), refs))
        self.numbers.update(map(itemgetter(2), refs))
        if b"mergeCell" in buf:
            self.merged += len(_MERGE.findall(buf))

    @property
    def unscanned(self) -> int:
        """Bytes at the end of the chunks seen that wait for the next chunk (a tag cut in two)."""
        return len(self._carry)

    def extent(self) -> Extent | None:
        """The extent (an upper bound when `bounded`), or None when the scan cannot vouch for it."""
        if self.tricky or self.any != self.self_closing + self.refs:
            return None
        rows = max(self._rows, max(map(int, self.numbers))) if self.numbers else self._rows
        cols = max(self._cols, max(map(_column_number, self.letters))) if self.letters else self._cols
        return Extent(rows, cols, self.refs, self.merged)


def _largest(numbers: list[bytes], longest: int) -> int:
    """The largest of decimal numbers written without leading zeros, the longest `longest` digits long
    (compared as bytes when the longest is also the greatest string, which it is unless a shorter one
    sorts after it)."""
    top = max(numbers)
    if len(top) == longest:
        return int(top)
    return max(map(int, set(numbers)))


@functools.lru_cache(maxsize=16)
def _quick_bound(max_rows: int, max_cells: int) -> tuple[re.Pattern, int] | None:
    """(a pattern finding any cell start that is not `<c r="B7"` with a one-letter column and a row of
    at most D digits, the largest such row) for the largest D whose rows, 26 columns wide, fit the
    limits; None when not even one digit does."""
    digits = 0
    while digits < 10 and (top := 10 ** (digits + 1) - 1) <= max_rows and top * 26 <= max_cells:
        digits += 1
    if not digits:
        return None
    pattern = re.compile(rb'<c(?=[\s/>])(?! r="[A-Z][1-9]\d{0,%d}")' % (digits - 1))
    return pattern, 10 ** digits - 1


def _column_number(letters: bytes) -> int:
    """b'A' -> 1, b'AA' -> 27."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


_ROW_END = re.compile(rb"</" + _PFX + rb"row\s*>")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"']?(\d{1,10})")
_ANY_REF = re.compile(rb"\sr\s*=\s*[\"']?([A-Za-z]{1,3})(\d{1,10})")


def _bound_xlsx_sheet(data: bytes, limits: Limits) -> Extent:
    """An upper bound of the extent when the fast path cannot vouch for it (cells without an r, a
    comment, an odd attribute): row by row, cells without a reference are counted on from the
    largest reference seen, row numbers from any r="7" in the row. Text matching is loose on purpose:
    a fake reference can only raise the bound. Stops as soon as the bound is over the limits."""
    extent = Extent()
    row = 0  # upper bound of the reader's current row index
    segments = data.split(b"</row>") if not re.search(rb"</[\w.\-]+:row|</row\s", data) else _ROW_END.split(data)
    for segment in segments:
        numbers = _ROW_NUMBER.findall(segment) if b"r" in segment else ()
        if numbers:
            row = max(row, max(map(int, numbers)) - 1)
        cells, closing, placed = _cells(segment)
        if cells:
            refs = _ANY_REF.findall(segment) if placed or b"r" in segment else ()
            unplaced = max(0, cells - len(placed) - closing)
            if refs:
                extent.cols = max(extent.cols, max(_column_number(c) for c, _ in refs) + unplaced)
                extent.rows = max(extent.rows, max(int(r) for _, r in refs))
            else:
                extent.cols = max(extent.cols, unplaced)
            if unplaced:
                extent.rows = max(extent.rows, row + 1)
            extent.cells += cells
            if (extent.rows > limits.max_rows or extent.cells > limits.max_cells
                    or extent.rows * extent.cols > limits.max_cells):
                return extent
        row += 1
    extent.merged = len(_MERGE.findall(data))
    return extent


_SI = re.compile(rb"<" + _PFX + rb"si[\s/>]")
_ANY_TAG = re.compile(rb"<[A-Za-z_]")


class _ElementCount:
    """Counts elements matching `pattern` in a part calamine holds whole in memory when the workbook
    opens (shared strings; the workbook, its rels and styles) and refuses more than max_cells."""

    def __init__(self, name: str, pattern: re.Pattern, limits: Limits, what: str):
        self.name, self.pattern, self.limit, self.what = name, pattern, limits.max_cells, what
        self.count, self._tail = 0, b""

    def __call__(self, chunk: bytes) -> None:
        buf = self._tail + chunk
        cut = buf.rfind(b"<")  # a tag cut in two by the chunking is counted in the next round
        if cut < 0:
            self._tail = b""
            return
        self.count += len(self.pattern.findall(buf, 0, cut))
        self._tail = buf[cut:cut + 256]  # an element name is short; the rest is text
        if self.count > self.limit:
            raise Unreadable("F004", f"{self.name} holds over {self.limit} {self.what}")

    whole = __call__

    def close(self) -> None:
        self.count += len(self.pattern.findall(self._tail))
        self._tail = b""
        if self.count > self.limit:
            raise Unreadable("F004", f"{self.name} holds over {self.limit} {self.what}")


# --- measuring .ods content -----------------------------------------------------------------------
#
# calamine reads every table of content.xml when the workbook opens. A row holds its cells (each
# repeated number-columns-repeated times; a last run of empty cells is dropped), rows are repeated
# number-rows-repeated times between the first and the last row holding a value, and the grid is
# rows × widest row. A few bytes can ask for billions of cells (issue_594_dos.ods): measure first.


class _OdsManifest:
    def __init__(self):
        self.encrypted = False
        self._tail = b""

    def __call__(self, chunk: bytes) -> None:
        if b"encryption-data" in self._tail + chunk:
            self.encrypted = True
        self._tail = chunk[-32:]

    whole = __call__

    def close(self) -> None:
        if self.encrypted:
            raise Unreadable("F003", "encrypted (password-protected) workbook / 工作簿已加密")


_ODS_TOKEN = re.compile(
    rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)"
    rb"|<(/?)([^\s/>!?<]+)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
    rb"|<",
    re.S,
)
_ODS_ATTR = re.compile(rb"(?:^|\s)([\w.:\-]+)\s*=\s*([\"'])(.*?)\2", re.S)
_ODS_VALUE_ATTRS = frozenset({
    b"office:value", b"office:string-value", b"office:date-value", b"office:time-value",
    b"office:boolean-value", b"office:value-type", b"table:formula",
})
_ODS_CELLS = (b"table:table-cell", b"table:covered-table-cell")


def _repeat(attrs: dict, key: bytes) -> int:
    raw = attrs.get(key)
    if raw is None:
        return 1
    try:
        return max(int(raw.strip() or b"1"), 0)
    except ValueError:
        return 1


class _OdsTable:
    def __init__(self, name: str):
        self.name = name
        self.rows: list[tuple[int, int, int]] = []  # (repeat, first value column or -1, width with values)
        self.raw = 0  # cells calamine keeps before building the grid

    def extent(self) -> Extent:
        filled = [i for i, (_, first, _) in enumerate(self.rows) if first >= 0]
        if not filled:
            return Extent(0, 0, self.raw)
        lo, hi = filled[0], filled[-1]
        before = sum(rep for rep, _, _ in self.rows[:lo])
        span = sum(rep for rep, _, _ in self.rows[lo:hi + 1])
        width = max(w for _, first, w in self.rows if first >= 0)
        return Extent(before + span, width, max(self.raw, span * width))


def _measure_ods(data: bytes | bytearray, limits: Limits) -> None:
    table: _OdsTable | None = None
    row: list[int] | None = None  # [cells pushed, pending empty run, first value col, width]
    row_repeat = 1
    cell_chars = 0
    in_cell = False

    def end_row():
        nonlocal row
        if table is not None and row is not None:
            table.raw += row[0]
            table.rows.append((row_repeat, row[2], row[3]))
            if table.raw > limits.max_cells:
                _check_extent(f"sheet '{table.name}'", Extent(cells=table.raw), limits)
        row = None

    longest = 10 * limits.max_cell_chars + 1024  # bytes of text or of one tag a cell could need
    previous = 0
    for match in _ODS_TOKEN.finditer(data):
        if match.start() - previous > longest or match.end() - match.start() > longest:
            raise Unreadable("F004", f"content.xml holds a text or tag over {longest} bytes / 单元格文本超长")
        previous = match.end()
        name = match.group(2)
        if name is None:
            continue
        closing, raw_attrs = match.group(1), match.group(3)
        self_closing = raw_attrs.endswith(b"/")
        if name == b"table:table":
            if closing:
                end_row()
                if table is not None:
                    _check_extent(f"sheet '{table.name}'", table.extent(), limits)
                table = None
            elif not self_closing:
                attrs = dict((k, v) for k, _, v in _ODS_ATTR.findall(raw_attrs))
                table = _OdsTable(attrs.get(b"table:name", b"?").decode("utf-8", "replace")[:60])
        elif table is None:
            continue
        elif name == b"table:table-row":
            if closing:
                end_row()
                continue
            end_row()
            attrs = dict((k, v) for k, _, v in _ODS_ATTR.findall(raw_attrs))
            row_repeat = _repeat(attrs, b"table:number-rows-repeated")
            row = [0, 0, -1, 0]
            if self_closing:
                end_row()
        elif name in _ODS_CELLS and row is not None:
            if closing:
                in_cell = False
                continue
            attrs = dict((k, v) for k, _, v in _ODS_ATTR.findall(raw_attrs))
            repeat = _repeat(attrs, b"table:number-columns-repeated")
            if any(key in _ODS_VALUE_ATTRS for key in attrs):
                start = row[0] + row[1]
                row[0] = start + repeat
                row[1] = 0
                if row[2] < 0:
                    row[2] = start
                row[3] = row[0]
            else:
                row[0] += row[1]
                row[1] = repeat
            if row[0] + row[1] > limits.max_cells:
                _check_extent(f"sheet '{table.name}'", Extent(1, row[0] + row[1]), limits)
            in_cell, cell_chars = not self_closing, 0
        elif name == b"text:s" and in_cell and not closing:
            attrs = dict((k, v) for k, _, v in _ODS_ATTR.findall(raw_attrs))
            cell_chars += _repeat(attrs, b"text:c")
            if cell_chars > limits.max_cell_chars:
                raise Unreadable("F004", f"a cell of sheet '{table.name}' holds over {limits.max_cell_chars} characters")
    end_row()
    if table is not None:
        _check_extent(f"sheet '{table.name}'", table.extent(), limits)


# --- OLE containers (.xls, and encrypted OOXML) ---------------------------------------------------

_FREE_LIMIT = 0xFFFFFFFA  # sector numbers at or above this are markers (end of chain, free…)


class _Cfb:
    """Just enough of [MS-CFB] to find a stream by name, and where each of its bytes lies in the
    file; every chain is bounded (a loop or a sector past the end is a corrupt file)."""

    def __init__(self, data: bytes):
        if len(data) < 512:
            raise ValueError("shorter than an OLE header")
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("bad sector sizes")
        self.data = data
        self.size = 1 << shift
        major = struct.unpack_from("<H", data, 0x1A)[0]
        dir_start, = struct.unpack_from("<I", data, 0x30)
        self.cutoff, minifat_start, _, difat_start = struct.unpack_from("<IIII", data, 0x38)
        difat = list(struct.unpack_from("<109I", data, 0x4C))
        seen: set[int] = set()
        sector = difat_start
        per = self.size // 4
        while sector < _FREE_LIMIT and sector not in seen and len(seen) <= len(data) // self.size:
            seen.add(sector)
            entries = struct.unpack(f"<{per}I", self._sector(sector))
            difat.extend(entries[:-1])
            sector = entries[-1]
        fat = bytearray()
        for sector in difat:
            if sector < _FREE_LIMIT:
                fat += self._sector(sector)
        self.fat = struct.unpack(f"<{len(fat) // 4}I", fat[: len(fat) // 4 * 4])
        self.entries = []
        dirs = self._read(self._chain(dir_start, self.fat), self.size)
        for offset in range(0, len(dirs) - 127, 128):
            raw = dirs[offset:offset + 128]
            name_len = min(struct.unpack_from("<H", raw, 64)[0], 64)
            name = raw[: max(0, name_len - 2)].decode("utf-16-le", "ignore")
            start = struct.unpack_from("<I", raw, 116)[0]
            size = struct.unpack_from("<Q" if major == 4 else "<I", raw, 120)[0]
            self.entries.append((name, raw[66], start, size))
        if not self.entries:
            raise ValueError("no directory")
        _, _, root_start, root_size = self.entries[0]
        self.mini_places = self._chain(root_start, self.fat, root_size) if root_start < _FREE_LIMIT else []
        minifat = self._read(self._chain(minifat_start, self.fat), self.size) if minifat_start < _FREE_LIMIT else b""
        self.minifat = struct.unpack(f"<{len(minifat) // 4}I", minifat[: len(minifat) // 4 * 4])

    def _sector(self, number: int) -> bytes:
        start = (number + 1) * self.size
        if start >= len(self.data):
            raise ValueError(f"sector {number} beyond the end of the file")
        return self.data[start:start + self.size]

    def _chain(self, start: int, fat, size: int | None = None, unit: int | None = None) -> list[int]:
        """File offsets of the units (sectors, or 64-byte mini sectors) of the chain from `start`."""
        unit = unit or self.size
        places: list[int] = []
        sector = start
        while sector < _FREE_LIMIT:
            if len(places) > len(fat) or sector >= len(fat):
                raise ValueError("broken sector chain")
            if unit == self.size:
                place = (sector + 1) * self.size
                if place >= len(self.data):
                    raise ValueError(f"sector {sector} beyond the end of the file")
            else:
                inner = sector * 64
                if inner // self.size >= len(self.mini_places):
                    raise ValueError("mini sector beyond the mini stream")
                place = self.mini_places[inner // self.size] + inner % self.size
            places.append(place)
            if size is not None and len(places) * unit >= size:
                break
            sector = fat[sector]
        return places

    def _read(self, places: list[int], unit: int, size: int | None = None) -> bytes:
        out = b"".join(self.data[p:p + unit] for p in places)
        return out[:size] if size is not None else out

    def names(self) -> set[str]:
        return {name.lower() for name, kind, _, _ in self.entries if kind == 2}

    def stream(self, wanted: str) -> tuple[bytes, list[int], int] | None:
        """(the stream's bytes, file offsets of its units, unit size), or None."""
        for name, kind, start, size in self.entries:
            if kind == 2 and name.lower() == wanted.lower():
                unit = 64 if size < self.cutoff else self.size
                places = self._chain(start, self.minifat if unit == 64 else self.fat, size, unit)
                return self._read(places, unit, size), places, unit
        return None


def _inspect_ole(data: bytes, path: Path, limits: Limits) -> _Inspected:
    if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[:1 << 20] or (
        b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in data[:1 << 20]
    ):
        raise Unreadable("F003", "encrypted (password-protected) workbook / 工作簿已加密")
    try:
        cfb = _Cfb(data)
        names = cfb.names()
        found = cfb.stream("Workbook") if "workbook" in names else cfb.stream("Book")
    except (ValueError, struct.error, IndexError) as exc:
        raise Unreadable("F003", f"corrupt OLE container / 文件结构损坏 ({exc})") from None
    if found is None:
        if "worddocument" in names:
            raise Unreadable("F002", "a Word document / Word 文档")
        if "powerpoint document" in names:
            raise Unreadable("F002", "a PowerPoint file / PPT 文件")
        if path.suffix.lower() in (".doc", ".ppt", ".msg"):
            raise Unreadable("F002", f"an Office {path.suffix} file, not a workbook")
        raise Unreadable("F002", "an OLE file without a workbook stream / 不含工作簿的 OLE 文件")
    stream, places, unit = found
    headers = _measure_biff(stream, limits)
    inspected = _Inspected("xls")
    if headers:  # calamine reserves DIMENSIONS rows × columns up front, trusting it: blank them out
        patched = bytearray(data)
        for start, length in headers:
            for offset in range(start, start + length):
                patched[places[offset // unit] + offset % unit] = 0
        inspected.data = bytes(patched)
    return inspected


# BIFF records calamine turns into cells (row u16, column u16 first), as in its xls reader.
_BIFF_CELLS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD})
_BIFF_MIN_LEN = {0x0203: 14, 0x0204: 6, 0x0205: 8, 0x027E: 10, 0x00FD: 10, 0x0006: 20, 0x00BD: 6}


def _measure_biff(stream: bytes, limits: Limits) -> list[tuple[int, int]]:
    """Refuse a BIFF workbook whose sheets would not fit the limits, before calamine builds them (it
    reads every sheet when the workbook opens, each as a dense grid from its cell records).

    Returns where the DIMENSIONS record bodies lie (offset, length): calamine reserves their rows ×
    columns up front, in 32-bit arithmetic, so a first row after the last one asks for terabytes and
    aborts the process. They are only a hint; the caller blanks them out.
    """
    unpack = struct.unpack_from
    positions: list[int] = []
    headers: list[tuple[int, int]] = []
    pos, end = 0, len(stream)
    while pos + 4 <= end:
        typ, size = unpack("<HH", stream, pos)
        body = pos + 4
        if typ == 0x002F and size >= 2 and body + 2 <= end and unpack("<H", stream, body)[0] != 0:
            raise Unreadable("F003", "encrypted (password-protected) workbook / 工作簿已加密")
        if typ == 0x0085 and size >= 4 and body + 4 <= end:
            positions.append(unpack("<I", stream, body)[0])
        if typ == 0x000A:
            break
        pos = body + size
    for number, start in enumerate(positions, 1):
        extent = Extent()
        pos = start
        fmla_row = fmla_col = 0
        while pos + 4 <= end:
            typ, size = unpack("<HH", stream, pos)
            body = pos + 4
            if body + size > end:
                break
            if typ == 0x000A:
                break
            if typ == 0x0200:
                headers.append((body, size))
            elif size >= _BIFF_MIN_LEN.get(typ, 1 << 20):
                if typ in _BIFF_CELLS or typ == 0x0006:
                    row, col = unpack("<HH", stream, body)
                    if typ == 0x0006:
                        fmla_row, fmla_col = row, col
                    _grow(extent, row, col, 1)
                elif typ == 0x00BD:
                    row, first = unpack("<HH", stream, body)
                    count = max(0, (size - 6) // 6)
                    _grow(extent, row, first + max(count - 1, 0), count)
            elif typ == 0x0207:
                _grow(extent, fmla_row, fmla_col, 1)
            elif typ == 0x00E5 and size >= 2:
                extent.merged += unpack("<H", stream, body)[0]
            pos = body + size
            if extent.cells > limits.max_cells:
                break
        _check_extent(f"sheet {number}", extent, limits)
    return headers


def _grow(extent: Extent, row: int, col: int, cells: int) -> None:
    extent.rows = max(extent.rows, row + 1)
    extent.cols = max(extent.cols, col + 1)
    extent.cells += cells


# --- calamine -----------------------------------------------------------------------------------

# pyo3 reports a panic inside the Rust reader as PanicException, a BaseException subclass: the
# reader's failures are caught as BaseException, except the ones that must stop the program.
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _calamine_open(data: bytes, kind: str = ""):
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except _PASS_THROUGH:
        raise
    except BaseException as exc:  # noqa: BLE001 - every parser failure (a Rust panic too) is a finding
        unreadable = _classify(exc)
        if "cannot detect file format" in unreadable.reason.lower():  # every reader failed on it
            unreadable = Unreadable("F003", f"the {kind or 'workbook'} content is damaged and cannot be parsed"
                                            " / 文件内容损坏，无法解析")
        raise unreadable from exc


# --- a large .xlsx sheet, read in pieces ------------------------------------------------------------
#
# calamine parses a sheet without holding Python's lock, but a sheet on one core. A sheet part of
# _PIECEWISE bytes or more is cut between rows into runs, one more than the cores (at most _MAX_PIECES). Each run,
# between the part's own head (up to <sheetData>) and a tail, is the sheet of a copy of the workbook
# whose other parts are the original's bytes as stored (already verified), parsed by calamine in a
# thread of its own. A run is read as soon as the inspection has verified and measured its bytes,
# while the inspection goes on (with the tail </sheetData></worksheet>); the last runs, with the
# part's own tail, when the sheet is asked for (_Runs.read). A cell is placed by its reference, and
# every cell of the part carries one (the scan says so: `placed`), so a run reads as it does within
# the whole; the runs' grids are then laid out as calamine lays out the whole sheet (from A1, each
# row as wide as the widest; the merged ranges from the last run). Whatever is not as expected (no
# place to cut; a comment, CDATA section or processing instruction, which could hold a row tag that
# is none; a piece that fails, is over a limit, or overlaps another) falls back to reading the sheet
# whole, which then says what is wrong.

_PIECEWISE = 4 * 1024 * 1024  # inflated bytes of a sheet part read in pieces, at least
_PIECEWISE_MAX = 64 * 1024 * 1024  # and at most (the part is kept whole while it is read)
_MAX_PIECES = 4
_ROW_CUT = re.compile(rb"</row>\s*(?=<row[\s>])")
_CUT_WINDOW = 1 << 20  # bytes searched for a cut after its ideal place
_EARLY_TAIL = b"</sheetData></worksheet>"


@functools.cache
def usable_cores() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _piecewise(info: zipfile.ZipInfo, names: dict[str, zipfile.ZipInfo]) -> bool:
    """Whether a sheet part is read in pieces: large enough (but not so large that keeping it whole
    would cost much), on more than one core, with shared strings and styles (which every piece parses
    again) small beside it, and LQIP_PIECES not 0."""
    return (_PIECEWISE <= info.file_size <= _PIECEWISE_MAX and usable_cores() > 1 and _small_beside(info, names)
            and os.environ.get("LQIP_PIECES", "1") != "0")


def _small_beside(info: zipfile.ZipInfo, names: dict[str, zipfile.ZipInfo]) -> bool:
    """Whether the shared strings and styles, parsed again by every piece, are small beside the sheet
    (all the pieces' copies together no larger than it)."""
    again = sum(part.file_size for key, part in names.items() if key.endswith(("sharedstrings.xml", "styles.xml")))
    return again * _pieces() <= info.file_size


def _pieces() -> int:
    """Runs a sheet read in pieces is cut into: one more than the cores (the first ones are read while
    the inspection goes on)."""
    return min(usable_cores() + 1, _MAX_PIECES)


def _hides_rows(buf: bytes, start: int, end: int) -> bool:
    """Whether buf[start:end] holds a "<!" or "<?" (the "<" may be buf[start - 1])."""
    for mark in b"!?":  # (a single byte is found fast; "<!" and "<?" would take a slow search)
        at = buf.find(mark, start, end)
        while at >= 0:
            if at and buf[at - 1] == 0x3C:  # "<"
                return True
            at = buf.find(mark, at + 1, end)
    return False


def _positions(buf: bytes, text: bytes, start: int = 0) -> list[int]:
    """Where `text` occurs in buf[start:]."""
    found, at = [], buf.find(text, start)
    while at >= 0:
        found.append(at)
        at = buf.find(text, at + 1)
    return found


def _cuts(buf: bytes, start: int, end: int, pieces: int) -> list[int]:
    """Offsets cutting the rows in buf[start:end] into at most `pieces` runs: start, each cut, end."""
    cuts = [start]
    for k in range(1, pieces):
        ideal = max(start + (end - start) * k // pieces, cuts[-1])
        found = _ROW_CUT.search(buf, ideal, min(end, ideal + _CUT_WINDOW))
        if found and cuts[-1] < found.end() < end:
            cuts.append(found.end())
    cuts.append(end)
    return cuts


class _Runs:
    """A large sheet part, read in pieces: a sink of the part's inspection, after its _SheetScan, that
    keeps the inflated chunks and starts reading each run but the last as soon as the scan has passed
    it; `read` reads the rest when the sheet is asked for."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, scan: _SheetScan,
                 limits: Limits):
        self.data, self.archive, self.info, self.name, self.scan, self.limits = data, archive, info, name, scan, limits
        self.count = _pieces()
        self.chunks: list[bytes] = []
        self.size = 0
        self.start = -1  # where the rows begin (after <sheetData>; found in the first chunk)
        self.end = -1  # where they end: the first </sheetData> (calamine reads no further)
        self.clear = True  # no "<!" or "<?" from <worksheet> on, one <sheetData>: the runs can be read
        self.cut = -1  # where the runs started so far end
        self.started: list = []  # (thread, result slot) of each run started so far
        self._others: list | None = None

    def __call__(self, chunk: bytes) -> None:
        previous = self.chunks[-1] if self.chunks else b""
        base = self.size
        self.chunks.append(chunk)
        self.size += len(chunk)
        if not previous:
            root, at = chunk.find(b"<worksheet"), chunk.find(b"<sheetData>")
            self.clear = 0 <= root < at and not _hides_rows(chunk, root, len(chunk))
            self.start = self.cut = at + len(b"<sheetData>")
            self._tags(chunk, self.start, 0)
        elif self.clear:
            self.clear = not (_hides_rows(chunk, 0, len(chunk)) or (previous[-1] == 0x3C and chunk[:1] in (b"!", b"?")))
            self._tags(chunk, 0, base, previous[-12:])
        while self.clear and len(self.started) < self.count - 1 and self._start_early():
            pass

    def _tags(self, chunk: bytes, start: int, base: int, before: bytes = b"") -> None:
        """Note the first </sheetData> from chunk[start:] on (the chunk is at `base` in the part, after
        the bytes `before`); any other "sheetData" (a second <sheetData>, text) stops the runs."""
        edge = before[-10:]
        hits = [at - len(edge) for at in _positions(edge + chunk[:10], b"sheetData") if at < len(edge) < at + 9]
        if chunk.rfind(b"sheetData", start) >= 0:  # (the common case, none: rfind is the faster search here)
            hits += _positions(chunk, b"sheetData", start)
        for at in hits:
            if at >= 2:
                opener = chunk[at - 2:at]
            else:  # (cut in two by the chunking)
                joined = before[-12:] + chunk[:max(at, 0)]
                opener = joined[len(before[-12:]) + at - 2:len(before[-12:]) + at]
            if opener != b"</" or self.end >= 0:
                self.clear = False
                return
            self.end = base + at - 2

    def whole(self, part: bytes) -> None:
        self(part)

    def drop(self) -> None:
        """Give up reading in pieces: wait for the runs started (each bounded by what the scan had
        passed), so that none outlives its file, and free the chunks."""
        for thread, _ in self.started:
            thread.join()
        self.started, self.chunks = [], []

    def close(self) -> None:
        pass

    def _start_early(self) -> bool:
        """Start reading the next run if the scan has passed its ideal end (and then only if the scan can
        vouch for all it has seen)."""
        target = self.info.file_size * (len(self.started) + 1) // self.count
        scan = self.scan
        if self.size < target or not scan.placed or scan.tricky:
            return False
        extent = scan.extent()
        if extent is None or _over(extent, self.limits):
            return False
        last = self.chunks[-1]
        base = self.size - len(last)
        seen = len(last) - scan.unscanned  # (the scan keeps the chunk's last tag for the next chunk)
        if self.end >= 0:
            seen = min(seen, self.end - base)
        found = _ROW_CUT.search(last, max(target - base, self.cut - base, 0), max(seen, 0))
        if found is None or base + found.end() <= self.cut or found.end() > seen:
            return False
        cut = base + found.end()
        started = self._start(self._span(self.cut, cut), _EARLY_TAIL)
        if started is None:
            return False
        self.started.append(started)
        self.cut = cut
        return True

    def _span(self, start: int, end: int) -> list[memoryview]:
        """Bytes start to end of the part, as views of the chunks."""
        views, offset = [], 0
        for chunk in self.chunks:
            stop = offset + len(chunk)
            if stop > start and offset < end:
                views.append(memoryview(chunk)[max(start - offset, 0):min(end, stop) - offset])
            offset = stop
        return views

    def _start(self, run: list, tail) -> tuple:
        import threading

        if self._others is None:
            self._others = _as_stored(self.data, self.archive, self.info)
        slot: list = [None]
        thread = threading.Thread(target=self._read_run, args=(run, tail, slot), daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had (a process or memory limit): read it whole
            self.clear = False
            return None
        return thread, slot

    def _read_run(self, run: list, tail, slot: list) -> None:
        """Read a run of rows into slot[0]: (its grid's start, end, rows from its start, merged ranges)."""
        try:
            if self._others is None:  # a part is not where zipfile found it
                return
            parts = [memoryview(self.chunks[0])[:self.start], *run, tail]
            size, crc = 0, 0
            for part in parts:
                size += len(part)
                crc = zlib.crc32(part, crc)
            entries = self._others + [(self.info, zipfile.ZIP_STORED, crc, size, size, parts)]
            piece = _calamine_file(_zip_pieces(entries)).get_sheet_by_name(self.name)
            if _over(Extent((piece.total_height or 0) + 1, (piece.total_width or 0) + 1), self.limits):
                return
            slot[0] = (piece.start, piece.end, piece.to_python(skip_empty_area=True), piece.merged_cell_ranges or [])
        except BaseException:  # noqa: BLE001, S110 - the whole read that follows reports it
            return

    def read(self) -> tuple[list[list], list] | None:
        """The sheet's (rows, merged ranges) as Book._whole_sheet gives them, the text of every cell
        checked (_check_text: a run's grid while the later ones are still parsed), or None to read
        it whole. Every run started is waited for before it returns."""
        try:
            if not self.clear or self.end < self.cut:
                return None
            rest = b"".join(self._span(self.cut, self.size))
            end = self.end - self.cut
            cuts = _cuts(rest, 0, end, self.count - len(self.started))
            if len(cuts) < 3 and not self.started:
                return None  # nothing to read in pieces (a whole read is as fast)
            view = memoryview(rest)
            for a, b in itertools.pairwise(cuts):
                started = self._start([view[a:b]], view[end:])
                if started is None:
                    return None
                self.started.append(started)
            results, refusal = [], None
            for thread, slot in self.started:
                thread.join()
                if slot[0] is None:
                    return None
                results.append(slot[0])
                try:
                    if refusal is None:
                        _check_text(self.name, slot[0][2], self.limits)
                except Unreadable as exc:  # (raised once every run is read: a failed run is the whole read's to report)
                    refusal = exc
            if len(results[-1][3]) != self.scan.merged:
                return None  # merged ranges stand between the rows too: only the whole read sees them all
            if refusal is not None:
                raise refusal
            return _laid_out(results)
        finally:
            self.drop()


def _as_stored(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> list | None:
    """A _zip_pieces entry for each part but `info`, its bytes as the original stores them, or None
    when one of them is not where zipfile found it."""
    entries: list = []
    for other in archive.infolist():
        if other is info:
            continue
        payload = _payload(data, other)
        if payload is None:
            return None
        entries.append((other, other.compress_type, other.CRC, other.compress_size, other.file_size, [payload]))
    return entries


def _calamine_file(pieces: list):
    """A calamine workbook of the bytes in `pieces`, read from an anonymous in-memory file (Linux)
    where there is one: calamine then reads it without holding Python's lock, where from_filelike
    took ~40 ms to take in 24 MB of Python bytes (measured; from a file, 10 ms with the writing)."""
    import python_calamine

    try:
        fd = os.memfd_create("lqip-piece", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux, or no descriptor left
        fd = -1
    if fd >= 0:
        try:
            for piece in pieces:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view):]
            return python_calamine.CalamineWorkbook.from_path(f"/proc/self/fd/{fd}")  # (it opens a descriptor of its own)
        except Exception:  # noqa: BLE001, S110 - no /proc, say: the bytes go the slow way below
            pass
        finally:
            os.close(fd)
    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(b"".join(pieces)))


def _laid_out(results: list) -> tuple[list[list], list] | None:
    """The pieces' grids (start, end, rows from start, merged ranges) as one grid from A1, or None when
    two pieces overlap (rows written out of order)."""
    width = max((end[1] + 1 for start, end, _, _ in results if start is not None), default=0)
    rows: list[list] = []
    for start, end, grid, _ in results:
        if start is None or not grid:
            continue
        top, left = start
        if top < len(rows):
            return None
        rows += [[""] * width for _ in range(top - len(rows))]
        right = width - 1 - end[1]
        rows += [[""] * left + row + [""] * right for row in grid] if left or right else grid
    return rows, results[-1][3]


def _classify(exc: BaseException) -> Unreadable:
    name = type(exc).__name__
    if isinstance(exc, MemoryError):
        return Unreadable("F004", "the reader ran out of memory / 内存不足")
    text = _reason(exc)
    if name == "PasswordError" or "password" in text.lower() or "encrypt" in text.lower():
        return Unreadable("F003", "encrypted (password-protected) workbook / 工作簿已加密")
    if "limit" in text.lower():
        return Unreadable("F004", text)
    return Unreadable("F003", text)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _check_text(name: str, rows: list[list], limits: Limits) -> None:
    """No cell may hold more text than Excel allows (a longer one was not written by Excel or WPS).

    Book.sheet skips it for an .xlsx handed to calamine repacked with no part longer than that many
    bytes: a cell's text comes from one part (its sheet's, or the shared strings) and takes at least
    a byte a character there (rich-text runs and inline strings included)."""
    longest = limits.max_cell_chars
    for row in rows:
        for value in row:
            if value.__class__ is str and len(value) > longest:
                raise Unreadable("F004", f"a cell of sheet '{name}' holds {len(value)} characters (limit {longest})")


def _fill_merged(name: str, rows: list[list], merged, limits: Limits) -> None:
    if not rows:
        return
    if len(merged) > limits.max_merged:
        raise Unreadable("F004", f"sheet '{name}' has {len(merged)} merged ranges (limit {limits.max_merged})")
    height, width = len(rows), max(len(r) for r in rows)
    ranges = []
    area = 0
    for (r0, c0), (r1, c1) in merged:
        if r0 >= height or c0 >= len(rows[r0]) or r1 < r0 or c1 < c0:
            continue
        r1, c1 = min(r1, height - 1), min(c1, width - 1)
        area += (r1 - r0 + 1) * (c1 - c0 + 1)
        ranges.append((r0, c0, r1, c1))
    if area > limits.max_cells:  # overlapping ranges could make this loop quadratic
        raise Unreadable("F004", f"merged ranges of sheet '{name}' cover {area} cells (limit {limits.max_cells})")
    for r0, c0, r1, c1 in ranges:
        value = rows[r0][c0]
        if value in ("", None):
            continue
        for r in range(r0, r1 + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if row[c] in ("", None):
                    row[c] = value


def _scan_formulas(data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> set[str]:
    """Cells of the part holding a formula (<f>) but no cached value (<v> missing or empty); called
    only for a part whose pre-scan saw a formula tag.

    Streams the part through expat without building a tree (memory stays flat whatever the part
    holds); a DTD makes expat stop (refused, as everywhere)."""
    from xml.parsers import expat

    cells: set[str] = set()
    state = {"ref": None, "f": False, "v": False, "in_v": False}

    def local(tag: str) -> str:
        return tag.rsplit(":", 1)[-1]

    def start(tag, attrs):
        name = local(tag)
        if name == "c":
            state.update(ref=attrs.get("r", ""), f=False, v=False, in_v=False)
        elif state["ref"] is not None:
            if name == "f":
                state["f"] = True
            elif name in ("v", "is"):
                state["in_v"] = True

    def end(tag):
        name = local(tag)
        if name == "c" and state["ref"] is not None:
            if state["f"] and not state["v"]:
                cells.add(state["ref"])
            state["ref"] = None
        elif name in ("v", "is"):
            state["in_v"] = False

    def text(data):
        if state["in_v"] and data.strip():
            state["v"] = True

    def refuse(*_args):
        raise ValueError("DTD in a sheet part")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    for chunk in _part_chunks(data, archive, info):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return cells


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
