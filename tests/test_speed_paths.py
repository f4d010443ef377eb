"""The fast paths of the opener and of the worker pool keep every protection of the slow ones.

lqip/workbook.py bounds a sheet's extent with one pass per chunk and measures it exactly before
refusing it, inflates small parts in one call, parses the structural parts with expat, measures
parts that hold no cells only when a sheet cannot be located, notes during the pre-scan whether a
sheet holds formulas, and hands calamine a stored copy of a small workbook. lqip/batch.py sends
files to long-lived workers in chunks and gets each result back as soon as it is read. Each test
here pins one of those down against the behaviour it replaced.
"""

from __future__ import annotations

import os
import struct
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import XLSX_CONTENT_TYPES, XLSX_ONE_SHEET_WORKBOOK, XLSX_ROOT_RELS

from lqip import batch
from lqip.check import check_file
from lqip.workbook import Limits, Unreadable, open_book

CT, RELS, WB = XLSX_CONTENT_TYPES, XLSX_ROOT_RELS, XLSX_ONE_SHEET_WORKBOOK
WB_TWICE = WB.replace('<sheet name="指标" sheetId="1" r:id="rId1"/>',
                      '<sheet name="指标" sheetId="1" r:id="rId1"/><sheet name="指标" sheetId="2" r:id="rId1"/>')
WBRELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
          '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
          'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main"><cols><col min="1" max="2" width="12"/></cols><sheetData>')
TAIL = "</sheetData></worksheet>"
ROW1 = '<row r="1"><c r="A1" t="inlineStr"><is><t>指标编号</t></is></c><c r="B1"><v>7</v></c></row>'


def xlsx(path: Path, sheet: str, workbook: str = WB, extra: dict | None = None, method=zipfile.ZIP_DEFLATED,
         content_types: str = CT) -> Path:
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", WBRELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return path


def first_code(path: Path, limits: Limits | None = None) -> str | None:
    findings = check_file(path, limits=limits).findings
    return findings[0].code if findings else None


def read_all(path: Path, limits: Limits | None = None) -> dict[str, list[list]]:
    book = open_book(path, limits)
    return {name: book.sheet(name).rows for name in book.sheet_names}


# --- the extent: a bound first, the exact measure before a refusal ---------------------------------------


def test_a_far_styled_empty_cell_is_measured_exactly_not_refused_on_the_bound(tmp_path):
    """The bounding pass counts self-closing cells; they hold no value, so the grid does not reach
    them: the exact measure runs before refusing, and the workbook reads."""
    far = xlsx(tmp_path / "styled.xlsx", HEAD + ROW1 + '<row r="1048576"><c r="XFD1048576" s="1"/></row>' + TAIL)
    assert read_all(far)["指标"][0] == ["指标编号", 7.0]
    assert read_all(far, Limits(max_rows=5, max_cells=20))["指标"][0] == ["指标编号", 7.0]


def test_a_far_value_cell_is_still_refused(tmp_path):
    for ref in ("XFD1048576", "A300000", "ALL99000"):
        far = xlsx(tmp_path / f"{ref}.xlsx", HEAD + ROW1 + f'<row r="9"><c r="{ref}"><v>1</v></c></row>' + TAIL)
        with pytest.raises(Unreadable) as caught:
            read_all(far)
        assert caught.value.code == "F004", ref


@pytest.mark.parametrize("cell", [
    '<c r="a5"><v>1</v></c>',  # lower-case reference
    '<c r="A05"><v>1</v></c>',  # leading zero
    '<c s="1" r="A5"><v>1</v></c>',  # r not first
    "<c r='A5'><v>1</v></c>",  # single quotes
    '<c><v>1</v></c>',  # no reference at all
    '<x:c r="A5" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:v>1</x:v></x:c>',
    '<!-- <c r="C3"><v>1</v></c> --><c r="A5"><v>1</v></c>',
    '<c r="A5" t="inlineStr"><is><t><![CDATA[<c r="B4">]]></t></is></c>',
])
def test_unusual_cells_read_as_before(tmp_path, cell):
    """Cells the bounding pass does not recognise go to the exact measure; fakes only raise the bound."""
    path = xlsx(tmp_path / "odd.xlsx", HEAD + ROW1 + f'<row r="5">{cell}</row>' + TAIL)
    rows = read_all(path)["指标"]
    assert rows[0] == ["指标编号", 7.0]
    assert len(rows) <= 5


def test_a_bomb_hidden_among_unusual_cells_is_refused(tmp_path):
    cells = '<c s="1" r="A5"><v>1</v></c><c r="a6"><v>1</v></c><c s="2" r="XFD900000"><v>1</v></c>'
    path = xlsx(tmp_path / "hidden.xlsx", HEAD + ROW1 + f'<row r="5">{cells}</row>' + TAIL)
    assert first_code(path) == "F004"


def test_many_rows_over_chunks_are_bounded_right(tmp_path):
    """A sheet of several 1 MB chunks: the row bound follows the largest row, in any order."""
    rows = [f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>' for r in range(2, 60_002)]
    rows.insert(100, '<row r="90000"><c r="AB90000"><v>1</v></c></row>')
    path = xlsx(tmp_path / "long.xlsx", HEAD + ROW1 + "".join(rows) + TAIL)
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > 3 << 20  # chunks; not repacked
    assert first_code(path, Limits(max_rows=89_999)) == "F004"
    assert first_code(path, Limits(max_cells=90_000 * 28 - 1)) == "F004"
    assert len(read_all(path, Limits(max_cells=90_000 * 28))["指标"]) == 90_000


# --- formulas: found during the pre-scan -----------------------------------------------------------------


def test_formula_cells_without_a_value_are_found(tmp_path):
    sheet = HEAD + ROW1 + '<row r="2"><c r="A2"><f>1+1</f></c><c r="B2"><f>2+2</f><v>4</v></c></row>' + TAIL
    book = open_book(xlsx(tmp_path / "f.xlsx", sheet))
    assert book.empty_formula_cells("指标") == {"A2"}


def test_a_sheet_without_formulas_is_not_read_again(tmp_path, monkeypatch):
    import lqip.workbook as workbook

    book = open_book(xlsx(tmp_path / "nof.xlsx", HEAD + ROW1 + TAIL))

    def fail(*_args):
        raise AssertionError("the part was scanned for formulas again")

    monkeypatch.setattr(workbook, "_scan_formulas", fail)
    assert book.empty_formula_cells("指标") == set()


# --- inflating: sizes and CRC checked on the one-call path too -------------------------------------------


def _patch_sizes(data: bytearray, name: bytes, compressed=None, size=None, crc=None) -> bytes:
    for signature, header, name_at in ((b"PK\x03\x04", 30, 26), (b"PK\x01\x02", 46, 28)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_len = struct.unpack_from("<H", data, start + name_at)[0]
            if data[start + header:start + header + name_len] == name:
                base = start + (14 if signature == b"PK\x03\x04" else 16)
                for offset, value in ((0, crc), (4, compressed), (8, size)):
                    if value is not None:
                        struct.pack_into("<I", data, base + offset, value)
            start += 4
    return bytes(data)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
@pytest.mark.parametrize("lie, code", [("smaller", "F003"), ("larger", None), ("crc", "F003")])
def test_a_small_part_that_lies_is_f003(tmp_path, method, lie, code):
    """A part inflating past its declared size, or with the wrong CRC-32, is refused; one declared
    larger than it is passes as zipfile lets it pass (its CRC-32 vouches for what is there), or fails
    its CRC (stored: the extra bytes are the next header's)."""
    sheet = HEAD + ROW1 + '<row r="2"><c r="A2"><v>1</v></c></row>' + TAIL
    honest = xlsx(tmp_path / "honest.xlsx", sheet, method=method)
    real = len(sheet.encode())
    info = zipfile.ZipFile(honest).getinfo("xl/worksheets/sheet1.xml")
    change = {"smaller": {"size": real - 10}, "larger": {"size": real + 10}, "crc": {"crc": info.CRC ^ 1}}[lie]
    if method == zipfile.ZIP_STORED and "size" in change:
        change["compressed"] = change["size"]
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(_patch_sizes(bytearray(honest.read_bytes()), b"xl/worksheets/sheet1.xml", **change))
    if method == zipfile.ZIP_STORED and lie == "larger":
        code = "F003"
    found = first_code(liar)
    assert found == code if code else found is None or not found.startswith("F")


def _zip_of_streams(path: Path, entries: dict[str, tuple[bytes, bytes]]) -> Path:
    """A zip written by hand: name -> (its raw deflate stream, the bytes it inflates to)."""
    import zlib

    local, central = [], []
    offset = 0
    for name, (raw, plain) in entries.items():
        encoded = name.encode()
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, zlib.crc32(plain), len(raw), len(plain),
                             len(encoded), 0) + encoded
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, zlib.crc32(plain), len(raw),
                                   len(plain), len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        local += [header, raw]
        offset += len(header) + len(raw)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)
    return path


def test_a_dtd_behind_empty_deflate_blocks_is_refused(tmp_path):
    """The prolog check reads the part's first 64 KB however the deflate stream is cut: here 300 KB of
    empty stored blocks stand between the XML declaration and the DTD of a 2 MB part."""
    import zlib

    def deflate(text: str) -> tuple[bytes, bytes]:
        return zlib.compress(text.encode(), 9)[2:-4], text.encode()

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = (b'<!DOCTYPE sst [<!ENTITY a "b">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            b'main"><si><t>&a;</t></si>' + b"<si><t>x</t></si>" * 150_000 + b"</sst>")
    raw = (packer.compress(b'<?xml version="1.0"?>') + packer.flush(zlib.Z_FULL_FLUSH) + b"\x00\x00\x00\xff\xff" * 60_000
           + packer.compress(body) + packer.flush())
    rels = WBRELS.replace("</Relationships>", '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
                          'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                          "</Relationships>")
    path = _zip_of_streams(tmp_path / "hidden_dtd.xlsx", {
        "[Content_Types].xml": deflate(CT), "_rels/.rels": deflate(RELS), "xl/workbook.xml": deflate(WB),
        "xl/_rels/workbook.xml.rels": deflate(rels), "xl/worksheets/sheet1.xml": deflate(HEAD + ROW1 + TAIL),
        "xl/sharedStrings.xml": (raw, b'<?xml version="1.0"?>' + body)})
    assert len(b'<?xml version="1.0"?>' + body) > 2 << 20
    with pytest.raises(Unreadable) as caught:
        open_book(path)
    assert caught.value.code == "F003" and "DTD" in caught.value.reason


# --- structural parts: parsed once, DTDs and entities still refused --------------------------------------


@pytest.mark.parametrize("part, body", [
    ("xl/workbook.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + WB[WB.index("<workbook"):]),
    ("xl/workbook.xml", WB.replace('name="指标"', 'name="&undefined;"')),
    ("xl/workbook.xml", WB.replace("</workbook>", "")),
    ("[Content_Types].xml", CT.replace("</Types>", "<Types>")),
    ("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><Relationships/>'),
])
def test_structural_parts_are_checked(tmp_path, part, body):
    parts = {"[Content_Types].xml": CT, "xl/workbook.xml": WB, "xl/_rels/workbook.xml.rels": WBRELS, part: body}
    path = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/worksheets/sheet1.xml", HEAD + ROW1 + TAIL)
    assert first_code(path) == "F003"


def test_sheet_names_escaped_in_the_workbook_part_are_located(tmp_path):
    workbook = WB.replace('name="指标"', 'name="A&amp;B"')
    book = open_book(xlsx(tmp_path / "amp.xlsx", HEAD + ROW1 + TAIL, workbook=workbook))
    assert book.sheet_names == ["A&B"]
    assert book.empty_formula_cells("A&B") == set()
    assert book.sheet("A&B").rows[0] == ["指标编号", 7.0]


# --- parts without cells: measured when a sheet cannot be located ----------------------------------------


def test_a_sheet_that_cannot_be_located_is_held_to_every_part(tmp_path):
    """Two sheets of one name: neither is located, so every part's extent counts, the theme's (measured
    only now) too."""
    theme = '<?xml version="1.0"?><a:theme xmlns:a="x"><c r="ZZ150000"><v>1</v></c></a:theme>'
    path = xlsx(tmp_path / "twice.xlsx", HEAD + ROW1 + TAIL, workbook=WB_TWICE, extra={"xl/theme/theme1.xml": theme})
    assert first_code(path) == "F004"
    located = xlsx(tmp_path / "once.xlsx", HEAD + ROW1 + TAIL, extra={"xl/theme/theme1.xml": theme})
    assert read_all(located)["指标"][0] == ["指标编号", 7.0]


# --- calamine reads the stored copy as it reads the original ---------------------------------------------


def test_the_repacked_workbook_reads_like_the_original(tmp_path):
    from python_calamine import CalamineWorkbook

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import fuzz

    for path in fuzz.seed_returns(tmp_path):
        if path.suffix not in (".xlsx", ".xlsm"):
            continue
        original = CalamineWorkbook.from_path(str(path))
        expected = {n: original.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in original.sheet_names}
        book = open_book(path)
        assert book._inspected.data is not None, path  # small: handed over repacked
        got = {n: [list(r) for r in book._wb.get_sheet_by_name(n).to_python(skip_empty_area=False)]
               for n in book.sheet_names}
        assert got == {n: [list(r) for r in rows] for n, rows in expected.items()}, path


# --- the pool: chunks, one result per file, blame on the right file --------------------------------------


def _ok(path, plan, limits, debug=False):
    from lqip.report import FileReport

    return FileReport(path=str(path), unit=None, year=None)


def _mixed(path, plan, limits, debug=False):
    name = Path(path).name
    if name == "crash.xlsx":
        import faulthandler

        faulthandler.disable()
        os.abort()
    if name == "hang.xlsx":
        time.sleep(60)
    if name == "memory.xlsx":
        raise MemoryError
    if name == "error.xlsx":
        raise ValueError("boom")
    if name == "big.xlsx":
        report = _ok(path, plan, limits)
        report.path = "x" * (3 << 20) + str(path)  # a result larger than a pipe's buffer
        return report
    if name == "unpicklable.xlsx":
        report = _ok(path, plan, limits)
        report.path = lambda: None
        return report
    return _ok(path, plan, limits)


SPECIAL = {"crash.xlsx": "F003", "hang.xlsx": "F004", "memory.xlsx": "F004", "error.xlsx": "F003",
           "unpicklable.xlsx": "F003"}


@pytest.mark.skipif(not batch.isolation_available(), reason="no fork on this platform (or LQIP_ISOLATE=0)")
def test_chunked_workers_blame_only_the_bad_files():
    names = [f"f{i:03d}.xlsx" for i in range(90)]
    for at, special in zip((5, 23, 24, 50, 61, 88), [*SPECIAL, "big.xlsx"], strict=True):
        names[at] = special
    files = [Path(n) for n in names]
    calls = []
    start = time.monotonic()
    out = batch.map_files(_mixed, files, None, Limits(max_memory_bytes=1 << 30), jobs=2, timeout=1,
                          progress=calls.append)
    assert time.monotonic() - start < 30
    assert len(calls) == len(files)
    assert [r.path[-len(str(f)):] for r, f in zip(out, files, strict=True)] == [str(f) for f in files]
    for name, report in zip(names, out, strict=True):
        assert [f.code for f in report.findings] == ([SPECIAL[name]] if name in SPECIAL else []), name
    assert "ValueError: boom" in out[names.index("error.xlsx")].findings[0].message("en")


@pytest.mark.skipif(not batch.isolation_available(), reason="no fork on this platform (or LQIP_ISOLATE=0)")
@pytest.mark.parametrize("name, code", [("crash.xlsx", "F003"), ("ok.xlsx", None)])
def test_one_file_is_still_read_in_a_worker(name, code):
    out = batch.map_files(_mixed, [Path(name)], None, Limits(), jobs=4, timeout=5)
    assert [f.code for f in out[0].findings] == ([code] if code else [])


@pytest.mark.skipif(not batch.isolation_available(), reason="no fork on this platform (or LQIP_ISOLATE=0)")
def test_no_worker_is_left_behind():
    before = _children()
    batch.map_files(_mixed, [Path(f"f{i}.xlsx") for i in range(30)] + [Path("hang.xlsx")], None, Limits(),
                    jobs=3, timeout=1)
    assert _children() <= before


def _children() -> set[int]:
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as handle:
            return {int(p) for p in handle.read().split()}
    except OSError:
        return set()


def test_a_workers_leftovers_are_freed_when_it_takes_the_next_file(monkeypatch):
    """release_later: a one-file check does not wait for its big table to be freed; a worker frees
    the previous file's table before reading the next; outside a worker nothing is kept."""
    import weakref

    class Table:
        pass

    table = Table()
    ref = weakref.ref(table)
    monkeypatch.setattr(batch, "_IN_WORKER", False)
    batch.release_later(table)
    del table
    assert ref() is None

    monkeypatch.setattr(batch, "_IN_WORKER", True)
    monkeypatch.setattr(batch, "_LATER", [])
    table = Table()
    ref = weakref.ref(table)
    batch.release_later(table)
    del table
    assert ref() is not None
    pool = batch._Pool(lambda *args, **kwargs: None, [Path("next.xlsx")], None, None, False, None, 1.0, None)
    pool._call(0)
    assert ref() is None
