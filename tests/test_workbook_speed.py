"""The faster paths of lqip/workbook.py keep every answer of the slower ones.

- a chunk of a sheet part whose cell starts are all `<c r="B7"` with a short row is bounded by one
  search, and the exact measure still runs before a refusal;
- a chunk is scanned in place: a tag the 1 MB chunking cuts in two is scanned whole, once;
- the per-cell text check is skipped only when no part of a repacked workbook is long enough to
  hold an over-long cell; over-long text is refused however it is written (shared strings of
  several rich-text runs, inline strings, characters of one byte or three);
- the structural parts go through defusedxml's parser with no per-element Python handler of
  ElementTree's: DTDs, entities and undefined entities are still refused;
- a part of at most 1 MB is inflated, checked and scanned in one call, and refuses what the chunked
  path refuses (a wrong CRC, a part inflating past its declared size, a DTD, a far cell, a long text
  after the last tag); a structural part's parse is remembered by its bytes, never a failure.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from helpers import XLSX_CONTENT_TYPES, XLSX_ONE_SHEET_WORKBOOK, XLSX_ROOT_RELS

import lqip.workbook as workbook
from lqip.workbook import EXCEL_MAX_CHARS, Limits, Unreadable, open_book

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WBRELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
          f'2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
          f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>'
TAIL = "</sheetData></worksheet>"
CHUNK = 1 << 20  # the inflated bytes _SheetScan is fed at a time


def xlsx(path: Path, sheet: str, strings: list[str] | None = None, workbook_part: str = XLSX_ONE_SHEET_WORKBOOK,
         rels: str = WBRELS) -> Path:
    """A one-sheet .xlsx written by hand; `strings` are <si> bodies (raw XML) of xl/sharedStrings.xml."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", XLSX_CONTENT_TYPES)
        z.writestr("_rels/.rels", XLSX_ROOT_RELS)
        z.writestr("xl/workbook.xml", workbook_part)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">'
                                               + "".join(f"<si>{s}</si>" for s in strings) + "</sst>")
    return path


def rows_of(path: Path, limits: Limits | None = None) -> list[list]:
    book = open_book(path, limits)
    return book.sheet(book.sheet_names[0]).rows


def refused(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(Unreadable) as caught:
        rows_of(path, limits)
    return caught.value.code


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


# --- over-long text: refused however it is written ------------------------------------------------------


@pytest.mark.parametrize("char", ["x", "汉"])
def test_an_inline_string_one_over_the_limit_is_refused_and_one_at_it_reads(tmp_path, char):
    at = xlsx(tmp_path / "at.xlsx", HEAD + f'<row r="1">{inline("A1", char * EXCEL_MAX_CHARS)}</row>' + TAIL)
    assert len(rows_of(at)[0][0]) == EXCEL_MAX_CHARS
    over = xlsx(tmp_path / "over.xlsx", HEAD + f'<row r="1">{inline("A1", char * (EXCEL_MAX_CHARS + 1))}</row>' + TAIL)
    assert refused(over) == "F004"


def test_a_shared_string_of_several_short_rich_text_runs_is_refused(tmp_path):
    """Four runs of 8,192 characters: no run is long, the cell they make is 32,768 characters."""
    runs = "".join(f"<r><t>{letter * 8192}</t></r>" for letter in "abcd")
    path = xlsx(tmp_path / "runs.xlsx", HEAD + '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + TAIL, [runs])
    assert refused(path) == "F004"
    one_less = runs.replace("d" * 8192, "d" * 8191)
    path = xlsx(tmp_path / "runs_ok.xlsx", HEAD + '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + TAIL, [one_less])
    assert len(rows_of(path)[0][0]) == EXCEL_MAX_CHARS


def test_an_inline_string_of_rich_text_runs_is_refused(tmp_path):
    runs = "".join(f"<r><t>{letter * 8192}</t></r>" for letter in "abcd")
    path = xlsx(tmp_path / "inline_runs.xlsx", HEAD + f'<row r="1"><c r="A1" t="inlineStr"><is>{runs}</is></c></row>'
                + TAIL)
    assert refused(path) == "F004"


@pytest.mark.parametrize("limit", [1, 9, 50, 300])
def test_a_small_limit_is_exact(tmp_path, limit):
    """With a limit smaller than the parts, every cell is checked: one character over is refused."""
    at = xlsx(tmp_path / "at.xlsx", HEAD + f'<row r="1">{inline("A1", "é" * limit)}</row>' + TAIL)
    assert rows_of(at, Limits(max_cell_chars=limit))[0][0] == "é" * limit
    over = xlsx(tmp_path / "over.xlsx", HEAD + f'<row r="1">{inline("A1", "é" * (limit + 1))}</row>' + TAIL)
    assert refused(over, Limits(max_cell_chars=limit)) == "F004"


def test_the_text_check_is_skipped_only_when_no_part_could_hold_a_long_cell(tmp_path, monkeypatch):
    calls = []
    real = workbook._check_text
    monkeypatch.setattr(workbook, "_check_text", lambda *args: calls.append(args) or real(*args))
    path = xlsx(tmp_path / "small.xlsx", HEAD + f'<row r="1">{inline("A1", "短")}</row>' + TAIL)
    assert rows_of(path)[0][0] == "短"
    assert calls == []  # every part shorter than the limit: no cell can be longer
    assert rows_of(path, Limits(max_cell_chars=100))[0][0] == "短"
    assert len(calls) == 1  # the sheet part is longer than 100 bytes: checked
    big = xlsx(tmp_path / "big.xlsx", HEAD + f'<row r="1">{inline("A1", "x" * 40_000)}</row>' + TAIL)
    assert refused(big) == "F004"
    assert len(calls) == 2


# --- the quick bound: one search per chunk, the exact measure before a refusal ---------------------------


def test_short_rows_are_bounded_and_read(tmp_path):
    cells = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>' for r in (1, 2, 99_999))
    path = xlsx(tmp_path / "short.xlsx", HEAD + cells + TAIL)
    rows = rows_of(path)
    assert len(rows) == 99_999 and rows[-1] == [99_999.0, 1.0] and len(rows[0]) == 2


@pytest.mark.parametrize("rows, max_rows, code", [(40, 50, None), (60, 50, "F004"), (50, 50, None), (51, 50, "F004")])
def test_the_bound_follows_the_limits(tmp_path, rows, max_rows, code):
    cells = "".join(f'<row r="{r}"><c r="B{r}"><v>{r}</v></c></row>' for r in range(1, rows + 1))
    path = xlsx(tmp_path / "rows.xlsx", HEAD + cells + TAIL)
    if code:
        assert refused(path, Limits(max_rows=max_rows)) == code
    else:
        assert len(rows_of(path, Limits(max_rows=max_rows))) == rows


def test_limits_too_small_for_the_quick_bound_measure_exactly(tmp_path):
    """No row of even one digit times 26 columns fits 100 cells: the part is bounded cell by cell, and
    measured exactly before a refusal (the far cell is empty)."""
    cells = '<row r="1"><c r="A1"><v>1</v></c></row><row r="12345"><c r="C12345"/></row>'
    path = xlsx(tmp_path / "styled.xlsx", HEAD + cells + TAIL)
    assert rows_of(path, Limits(max_rows=10, max_cells=100))[0] == [1.0]


@pytest.mark.parametrize("cell", [
    '<c r="AA5"><v>1</v></c>', '<c r="A100000"><v>1</v></c>', '<c r="A05"><v>1</v></c>', '<c><v>1</v></c>',
    '<c s="1" r="A5"><v>1</v></c>', "<c r='A5'><v>1</v></c>", '<c\tr="A5"><v>1</v></c>', '<c r="a5"><v>1</v></c>',
])
def test_cells_the_quick_bound_does_not_recognise_read_as_before(tmp_path, cell):
    path = xlsx(tmp_path / "odd.xlsx", HEAD + '<row r="1"><c r="A1"><v>7</v></c></row>' + f'<row r="5">{cell}</row>'
                + TAIL)
    rows = rows_of(path)
    assert rows[0][0] == 7.0


# --- chunks: a tag cut in two is scanned whole ----------------------------------------------------------


def _placed(tag: str, boundary: int) -> str:
    """Sheet XML whose first chunk ends `boundary` bytes into `tag` (empty cells pad it to the place)."""
    head = HEAD + '<row r="1"><c r="A1"><v>1</v></c></row><row r="2">'
    room = CHUNK - boundary - len(head.encode()) - len("</row>")
    padding = '<c r="B2"/>' * (room // 11) + " " * (room % 11)
    text = head + padding + "</row>"
    assert len(text.encode()) == CHUNK - boundary
    return text + tag


@pytest.mark.parametrize("boundary", [15, 16, 17, 18, 20, 24, 29])  # '<row r="99000">' is 15 bytes
def test_a_far_cell_cut_by_the_chunking_is_refused(tmp_path, boundary):
    sheet = _placed('<row r="99000"><c r="ZZ99000"><v>1</v></c></row>', boundary) + TAIL
    assert refused(xlsx(tmp_path / "far.xlsx", sheet)) == "F004"


@pytest.mark.parametrize("boundary", [21, 22, 23, 24])  # the <f> starts 21 bytes into the tag
def test_a_formula_cut_by_the_chunking_is_found(tmp_path, boundary):
    sheet = _placed('<row r="3"><c r="A3"><f>1+1</f></c></row>', boundary) + TAIL
    book = open_book(xlsx(tmp_path / "formula.xlsx", sheet))
    assert book.empty_formula_cells(book.sheet_names[0]) == {"A3"}


@pytest.mark.parametrize("boundary", [73, 74, 78, 82])  # the <mergeCell starts 73 bytes into the tag
def test_merged_ranges_cut_by_the_chunking_are_counted(tmp_path, boundary):
    tag = ('<row r="3"><c r="A3"><v>1</v></c></row></sheetData><mergeCells count="2"><mergeCell ref="A3:B3"/>'
           '<mergeCell ref="A4:B4"/></mergeCells></worksheet>')
    path = xlsx(tmp_path / "merged.xlsx", _placed(tag, boundary))
    assert refused(path, Limits(max_merged=1)) == "F004"
    assert rows_of(path, Limits(max_merged=2))[2][0] == 1.0


# --- structural parts: defusedxml, with expat's own handlers ---------------------------------------------


@pytest.mark.parametrize("body", [
    XLSX_ONE_SHEET_WORKBOOK.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                    '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e "x">]>'),
    XLSX_ONE_SHEET_WORKBOOK.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                    '<?xml version="1.0"?><!DOCTYPE w SYSTEM "http://example.com/w.dtd">'),
    XLSX_ONE_SHEET_WORKBOOK.replace('name="指标"', 'name="&e;"'),
    XLSX_ONE_SHEET_WORKBOOK.replace('r:id="rId1"', 's:id="rId1"'),  # an undeclared prefix
])
def test_a_workbook_part_with_a_dtd_or_an_entity_is_f003(tmp_path, body):
    path = xlsx(tmp_path / "dtd.xlsx", HEAD + TAIL, workbook_part=body)
    with pytest.raises(Unreadable) as caught:
        open_book(path)
    assert caught.value.code == "F003"


def test_sheets_and_relationships_are_collected_from_namespaced_names(tmp_path):
    book_part = XLSX_ONE_SHEET_WORKBOOK.replace('xmlns:r="', 'xmlns:rel="').replace("r:id=", "rel:id=").replace(
        "<sheets>", "<!-- <sheet name='fake' r:id='rId9'/> --><sheets>")
    path = xlsx(tmp_path / "ns.xlsx", HEAD + '<row r="1"><c r="A1"><v>1</v></c></row>' + TAIL, workbook_part=book_part)
    book = open_book(path)
    assert book.sheet_names == ["指标"]
    assert book._inspected.sheet_parts == {"指标": "xl/worksheets/sheet1.xml"}
    assert book.sheet("指标").rows == [[1.0]]


# --- a small part: inflated, checked and scanned in one call ---------------------------------------------

SMALL_SHEET = HEAD + '<row r="1"><c r="A1"><v>1</v></c></row>' + TAIL


def _patched(path: Path, part: str, offset: int, value: int) -> bytes:
    """The file's bytes with the 32-bit field at `offset` of the part's central directory entry set to
    `value` (16: its CRC-32, 24: its inflated size); the local header keeps what was written."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + len(part)] != part.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + offset, value)
    return bytes(data)


def _inspect(data: bytes, limits: Limits | None = None):
    return workbook._inspect_zip(data, limits or Limits())


def _reason(data: bytes, limits: Limits | None = None) -> tuple[str, str]:
    with pytest.raises(Unreadable) as caught:
        _inspect(data, limits)
    return caught.value.code, caught.value.reason


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "_rels/.rels", "xl/workbook.xml"])
def test_a_small_part_with_a_wrong_crc_is_refused(tmp_path, part):
    path = xlsx(tmp_path / "crc.xlsx", SMALL_SHEET)
    crc = zipfile.ZipFile(path).getinfo(part).CRC
    assert _reason(_patched(path, part, 16, crc ^ 1)) == (
        "F003", f"part {part} cannot be read (Bad CRC-32 for file {part!r})")


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "[Content_Types].xml", "docProps/none.xml"])
def test_a_small_part_inflating_past_its_declared_size_is_refused(tmp_path, part):
    path = xlsx(tmp_path / "size.xlsx", SMALL_SHEET)
    if part == "docProps/none.xml":  # a part no one parses or measures: verified all the same
        with zipfile.ZipFile(path, "a") as z:
            z.writestr(part, "<a>" + "x" * 500 + "</a>")
    size = zipfile.ZipFile(path).getinfo(part).file_size
    assert _reason(_patched(path, part, 24, size - 1)) == (
        "F003", f"part {part} cannot be read (it inflates to more bytes than its header says)")


@pytest.mark.parametrize("part", ["docProps/app.xml", "xl/worksheets/sheet1.xml", "xl/media/x.vml"])
def test_a_dtd_in_a_small_part_is_refused(tmp_path, part):
    path = xlsx(tmp_path / "dtd.xlsx", SMALL_SHEET)
    dtd = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    if part.startswith("xl/worksheets"):
        path = xlsx(tmp_path / "dtd.xlsx", '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]>' + SMALL_SHEET)
    else:
        with zipfile.ZipFile(path, "a") as z:
            z.writestr(part, dtd)
    assert _reason(path.read_bytes()) == (
        "F003", f"XML part {part} declares a DTD or entities (refused as unsafe) / 含 DTD 实体声明")


def test_a_far_cell_in_a_small_sheet_is_measured_before_calamine_reads_it(tmp_path):
    sheet = HEAD + '<row r="1"><c r="A1"><v>1</v></c></row><row r="300000"><c r="B300000"><v>2</v></c></row>' + TAIL
    path = xlsx(tmp_path / "far.xlsx", sheet)
    extent = _inspect(path.read_bytes()).extents["xl/worksheets/sheet1.xml"]
    assert (extent.rows, extent.cols, extent.cells) == (300_000, 2, 2)
    assert refused(path) == "F004"
    near = _inspect(xlsx(tmp_path / "near.xlsx", SMALL_SHEET).read_bytes())
    assert near.extents["xl/worksheets/sheet1.xml"].rows == 99_999  # the quick bound: rows of up to 5 digits
    assert "xl/worksheets/sheet1.xml" in near.bounds


def test_a_long_text_after_the_last_tag_of_a_small_part_is_refused(tmp_path):
    """A text run of over 64 KB after a part's last tag is skipped by the scan, and refused when no
    cell could hold it."""
    path = xlsx(tmp_path / "tail.xlsx", HEAD + '<row r="1"><c r="A1"><v>1</v></c></row><x>' + "y" * 70_000)
    assert _reason(path.read_bytes(), Limits(max_cell_chars=100))[0] == "F004"
    assert "xl/worksheets/sheet1.xml" in _inspect(path.read_bytes()).extents


@pytest.mark.parametrize("body", [
    SMALL_SHEET.encode(),
    b"",
    b"no tag at all",
    b"<a/>",
    (HEAD + '<row r="1"><c r="A1"><v>1</v></c></row></sheetData>').encode() + b"<x>" + b"y" * 70_000,
    (HEAD + '<row r="1"><c r="A1"><v>1</v></c></row>').encode() + b"<x" + b"y" * 70_000,
    (HEAD + '<row r="1"><c r="A1"><f>1</f></c><c r="AB2"/><c r="C3"/><c><v>2</v></c></row><mergeCells>'
     '<mergeCell ref="A1:B2"/></mergeCells>' + TAIL).encode(),
    (HEAD + '<x:c r="A1"/><!-- <c r="ZZ9"> -->' + TAIL).encode(),
], ids=["sheet", "empty", "text", "one-tag", "long-text", "long-tag", "mixed", "prefixed"])
@pytest.mark.parametrize("limits", [Limits(), Limits(max_rows=10, max_cells=100, max_cell_chars=10)])
def test_a_whole_part_scans_as_the_chunks_do(body, limits):
    def state(scan):
        return {name: getattr(scan, name) for name in scan.__slots__}, scan.extent()

    def outcome(feed):
        scan = workbook._SheetScan(limits)
        try:
            feed(scan)
        except Unreadable as exc:
            return exc.reason
        return state(scan)

    def chunked(scan):
        scan(body)
        scan.close()

    def whole(scan):
        scan.whole(body)
        scan.close()

    assert outcome(whole) == outcome(chunked)


def test_a_small_part_is_verified_as_the_chunked_path_verifies_it(tmp_path):
    path = xlsx(tmp_path / "small.xlsx", SMALL_SHEET, ["<t>a</t>"])
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("empty.xml", "")
        z.writestr("stored.xml", "<a/>", compress_type=zipfile.ZIP_STORED)
    data = path.read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in archive.infolist():
        for keep in (0, 5, 1 << 23):
            fast, slow = [], []
            sinks = [workbook._SheetScan(Limits()), workbook._ElementCount(info.filename, workbook._ANY_TAG,
                                                                           Limits(), "elements")]
            kept = workbook._verify_part(data, archive, info, [sinks[0], sinks[1]], keep=keep, collect=fast)
            twins = [workbook._SheetScan(Limits()), workbook._ElementCount(info.filename, workbook._ANY_TAG,
                                                                           Limits(), "elements")]
            chunks = workbook._part_chunks(data, archive, info)
            slow_kept = workbook._verify_chunks(chunks, info, twins, keep, slow)
            assert fast == slow and (kept or None) == (slow_kept or None)
            assert sinks[0].extent() == twins[0].extent() and sinks[1].count == twins[1].count


# --- structural parts: a parse remembered by the part's bytes ----------------------------------------------


def test_a_remembered_parse_never_lets_a_different_part_through(tmp_path):
    good = xlsx(tmp_path / "good.xlsx", SMALL_SHEET)
    bad_book = XLSX_ONE_SHEET_WORKBOOK.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                               '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e "x">]>')
    bad = xlsx(tmp_path / "bad.xlsx", SMALL_SHEET, workbook_part=bad_book)
    workbook._remembered_parse.cache_clear()
    for _ in range(2):  # a failure is not remembered: refused each time
        assert open_book(good).sheet_names == ["指标"]
        with pytest.raises(Unreadable) as caught:
            open_book(bad)
        assert caught.value.code == "F003" and "refused as unsafe" in caught.value.reason
    assert workbook._remembered_parse.cache_info().hits >= 2  # the good parts were parsed once


def test_remembered_sheets_and_relationships_are_copies(tmp_path):
    path = xlsx(tmp_path / "a.xlsx", SMALL_SHEET)
    first = open_book(path)
    first._inspected.sheet_parts.clear()
    raw = zipfile.ZipFile(path).read("xl/_rels/workbook.xml.rels")
    workbook._rels(raw).clear()
    again = open_book(path)
    assert again._inspected.sheet_parts == {"指标": "xl/worksheets/sheet1.xml"}
    assert [rel["Id"] for rel in workbook._rels(raw)] == ["rId1", "rId2"]


@pytest.mark.parametrize("base, target, resolved", [
    ("xl", "worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
    ("xl", "/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
    ("xl", "../xl/./worksheets//sheet1.xml", "xl/worksheets/sheet1.xml"),
    ("xl", "..\\..\\..\\sheet.xml", "sheet.xml"),
    ("", "worksheets/sheet1.xml/", "worksheets/sheet1.xml"),
    ("xl", ".hidden/s.xml", "xl/.hidden/s.xml"),
    ("xl", "", "xl"),
])
def test_relationship_targets_resolve_as_paths(base, target, resolved):
    prefix = base + "/" if base else ""
    raw = workbook._norm(target)
    assert workbook._resolve(raw if target.startswith("/") else prefix + raw) == resolved


def test_the_stored_copy_reads_back_as_the_parts(tmp_path):
    rng = random.Random(7)
    parts = [(zipfile.ZipInfo(name), chunks) for name, chunks in [
        ("a.xml", [b"<a/>"]), ("empty", []), ("big.xml", [bytes(rng.randrange(256) for _ in range(999)), b"tail"]),
        ("名字.xml", [b"<b/>"]),
    ]]
    for info, chunks in parts:
        info.CRC = zlib.crc32(b"".join(chunks))
    archive = zipfile.ZipFile(io.BytesIO(workbook._stored_zip(parts)))
    assert archive.testzip() is None
    assert [(i.filename, archive.read(i)) for i in archive.infolist()] == [
        (info.filename, b"".join(chunks)) for info, chunks in parts]
