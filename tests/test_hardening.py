"""Hostile inputs: each built here (small on disk), each must end within seconds with the right
finding code, and never a traceback, a hang or unbounded memory.

The memory promise is measured on a real `lqip check` process (peak resident set of the process and
its workers, from wait4); the rest runs through the library or the CLI in-process.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import XLSX_CONTENT_TYPES, XLSX_ONE_SHEET_WORKBOOK, XLSX_ROOT_RELS
from typer.testing import CliRunner

from lqip.check import check_file, check_paths
from lqip.cli import app
from lqip.workbook import Limits

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = ROOT.parent / "shared" / "realworld" / "calamine"
sys.path.insert(0, str(ROOT / "scripts"))
import fuzz  # noqa: E402  (scripts/fuzz.py: seed returns and the measured runner)

runner = CliRunner()
MEMORY_BOUND = 1024 * 1024 * 1024

CT, RELS, WB = XLSX_CONTENT_TYPES, XLSX_ROOT_RELS, XLSX_ONE_SHEET_WORKBOOK
WBRELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
          '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
          'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
          'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
          '</Relationships>')
SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"
SST_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>指标编号</t></is></c><c r="B1" t="inlineStr"><is><t>完成值'
              '</t></is></c></row>')


def raw_xlsx(path: Path, sheet=None, sst=None, extra=None) -> Path:
    """An .xlsx written part by part: `sheet` and `sst` are bytes or iterables of byte chunks
    (streamed, deflated); `extra` maps more part names to bytes."""
    def write(z, name, body):
        if body is None:
            return
        with z.open(name, "w", force_zip64=True) as handle:
            for chunk in [body] if isinstance(body, (bytes, str)) else body:
                handle.write(chunk.encode() if isinstance(chunk, str) else chunk)

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WBRELS)
        write(z, "xl/worksheets/sheet1.xml", sheet if sheet is not None else SHEET_HEAD + HEADER_ROW.encode() + SHEET_TAIL)
        write(z, "xl/sharedStrings.xml", sst)
        for name, body in (extra or {}).items():
            write(z, name, body)
    return path


def codes(path, limits=None) -> list[str]:
    return [f.code for f in check_file(path, limits=limits).findings]


def assert_code(path, code, seconds=10, limits=None):
    start = time.monotonic()
    found = codes(path, limits)
    assert time.monotonic() - start < seconds, f"{path.name}: {time.monotonic() - start:.1f} s"
    assert found and found[0] == code, (path.name, found, [f.message("en") for f in check_file(path, limits=limits).findings])


def measured(*paths, extra=()):
    """`lqip check --format json` in a subprocess: (rc, seconds, peak bytes, report, stderr)."""
    rc, seconds, rss, out, err = fuzz.run_measured(
        [sys.executable, "-m", "lqip", "check", "--format", "json", *extra, *map(str, paths)], timeout=120,
        env=dict(os.environ, LQIP_LANG="en"))
    assert "Traceback" not in err, err
    return rc, seconds, rss, json.loads(out) if out.strip() else None, err


def first_codes(report) -> dict[str, str]:
    return {Path(f["path"]).name: f["issues"][0]["code"] for f in report["files"]}


def zeros(total: int, chunk: int = 1 << 24):
    block = b"\0" * chunk
    for _ in range(total // chunk):
        yield block


# --- compressed bombs ----------------------------------------------------------------------------


def test_zip_bomb_with_an_honest_header_is_f004(tmp_path):
    bomb = raw_xlsx(tmp_path / "bomb.xlsx", extra={"xl/media/zeros.bin": zeros(300 << 20)})
    assert bomb.stat().st_size < 1 << 20
    assert_code(bomb, "F004", seconds=3)


def test_zip_bomb_with_a_lying_size_is_f003(tmp_path):
    """The part's headers say 1 KB; it inflates to 300 MB. zipfile stops at the declared size and the
    CRC fails: a corrupt file, read in bounded memory."""
    honest = raw_xlsx(tmp_path / "honest.xlsx", sheet=[SHEET_HEAD, HEADER_ROW.encode(), *zeros(300 << 20), SHEET_TAIL])
    data = bytearray(honest.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_len = struct.unpack_from("<H", data, start + (26 if signature == b"PK\x03\x04" else 28))[0]
            header = 30 if signature == b"PK\x03\x04" else 46
            if data[start + header:start + header + name_len] == name:
                data[start + offset:start + offset + 4] = (1024).to_bytes(4, "little")
                if signature == b"PK\x01\x02":  # zip64 extra field: the size is there too
                    extra_len = struct.unpack_from("<H", data, start + 30)[0]
                    extra_at = start + header + name_len
                    block = data[extra_at:extra_at + extra_len]
                    if block[:2] == b"\x01\x00":
                        data[extra_at + 4:extra_at + 12] = (1024).to_bytes(8, "little")
            start += 4
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(bytes(data))
    rc, seconds, rss, report, _ = measured(liar)
    assert rc == 1 and seconds < 20
    assert report["files"][0]["issues"][0]["code"] in ("F003", "F004")
    assert rss < MEMORY_BOUND


# --- entity bombs -------------------------------------------------------------------------------

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")


def test_billion_laughs_in_shared_strings_is_f003(tmp_path):
    bomb = raw_xlsx(tmp_path / "laughs.xlsx", sst=LAUGHS + '<sst xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')
    assert_code(bomb, "F003", seconds=3)


def test_billion_laughs_in_a_sheet_is_f003(tmp_path):
    bomb = raw_xlsx(tmp_path / "laughs.xlsx", sheet=LAUGHS + '<worksheet xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is>'
                    '</c></row></sheetData></worksheet>')
    assert_code(bomb, "F003", seconds=3)


def test_entity_declaration_behind_a_long_prolog_is_refused(tmp_path):
    padded = raw_xlsx(tmp_path / "padded.xlsx", sst='<?xml version="1.0"?>' + "<!-- pad -->" * 8000 + LAUGHS[21:]
                      + '<sst xmlns="x"><si><t>&lol9;</t></si></sst>')
    assert_code(padded, "F003", seconds=3)


# --- size bombs: rows, columns, sparse cells, strings, merges -----------------------------------------


def million_rows():
    yield SHEET_HEAD + HEADER_ROW.encode()
    for start in range(2, 1_000_002, 50_000):
        yield "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(start, start + 50_000)).encode()
    yield SHEET_TAIL


def test_a_million_rows_is_f004_quickly_and_in_bounded_memory(tmp_path):
    big = raw_xlsx(tmp_path / "million.xlsx", sheet=million_rows())
    assert big.stat().st_size < 8 << 20
    rc, seconds, rss, report, _ = measured(big)
    assert rc == 1 and seconds < 30, seconds
    issue = report["files"][0]["issues"][0]
    assert issue["code"] == "F004" and "1000001 rows" in issue["message"]
    assert rss < MEMORY_BOUND


def test_16384_columns_are_read_and_max_cells_refuses_them(tmp_path):
    cells = "".join(f'<c r="{col}2"><v>{i}</v></c>' for i, col in enumerate(_columns(16384)))
    wide = raw_xlsx(tmp_path / "wide.xlsx", sheet=SHEET_HEAD + (HEADER_ROW + f'<row r="2">{cells}</row>').encode() + SHEET_TAIL)
    start = time.monotonic()
    found = codes(wide)
    assert time.monotonic() - start < 5
    assert not any(c.startswith("F") for c in found), found  # legal, just not a return
    assert codes(wide, Limits(max_cells=10_000))[0] == "F004"


def _columns(n):
    from lqip.workbook import column_letter

    return [column_letter(i) for i in range(n)]


def test_two_far_apart_cells_do_not_become_a_dense_grid(tmp_path):
    """A1 and ALL99000: calamine would allocate 99 000 × 1 000 cells (3 GB) for two values."""
    sparse = raw_xlsx(tmp_path / "sparse.xlsx", sheet=SHEET_HEAD + (HEADER_ROW + '<row r="99000"><c r="ALL99000">'
                      '<v>1</v></c></row>').encode() + SHEET_TAIL)
    rc, seconds, rss, report, _ = measured(sparse)
    assert report["files"][0]["issues"][0]["code"] == "F004"
    assert rss < 300 << 20 and seconds < 10


def test_cells_without_references_are_measured_too(tmp_path):
    """No r= attributes: cells are placed by order; the bound still applies."""
    rows = "".join("<row>" + "<c><v>1</v></c>" * 3000 + "</row>" for _ in range(2000))
    unplaced = raw_xlsx(tmp_path / "unplaced.xlsx", sheet=SHEET_HEAD + rows.encode() + SHEET_TAIL)
    assert_code(unplaced, "F004", seconds=20)


def test_deeply_nested_shared_strings_are_read(tmp_path):
    nested = raw_xlsx(tmp_path / "nested.xlsx",
                      sheet=SHEET_HEAD + b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + SHEET_TAIL,
                      sst=[SST_HEAD, b"<si>" + b"<r>" * 200_000 + b"<t>x</t>" + b"</r>" * 200_000 + b"</si></sst>"])
    start = time.monotonic()
    found = codes(nested)
    assert time.monotonic() - start < 5
    assert found and found[0] in ("S101", "S102", "F003"), found


def test_a_huge_shared_string_is_f004(tmp_path):
    huge = raw_xlsx(tmp_path / "huge.xlsx", sheet=SHEET_HEAD + b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + SHEET_TAIL,
                    sst=[SST_HEAD, b"<si><t>", *(b"a" * (1 << 20) for _ in range(64)), b"</t></si></sst>"])
    rc, seconds, rss, report, _ = measured(huge)
    assert report["files"][0]["issues"][0]["code"] == "F004"
    assert rss < 300 << 20 and seconds < 10


def test_too_many_shared_strings_is_f004(tmp_path):
    many = raw_xlsx(tmp_path / "many.xlsx", sst=[SST_HEAD, *(b"<si><t>a</t></si>" * 100_000 for _ in range(60)), b"</sst>"])
    assert_code(many, "F004", seconds=20)


def test_overlapping_merges_are_f004_not_a_quadratic_loop(tmp_path):
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="CV{r}"><v>1</v></c></row>' for r in range(1, 2001))
    merges = "<mergeCells>" + '<mergeCell ref="A1:CV2000"/>' * 5000 + "</mergeCells>"
    sheet = SHEET_HEAD + rows.encode() + b"</sheetData>" + merges.encode() + b"</worksheet>"
    merged = raw_xlsx(tmp_path / "merged.xlsx", sheet=sheet)
    assert_code(merged, "F004", seconds=20)


# --- .ods and .xls bombs ---------------------------------------------------------------------------


def raw_ods(path: Path, table: str, manifest_extra: str = "") -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
               'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="指标">{table}</table:table></office:spreadsheet>'
               "</office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
                f'"application/vnd.oasis.opendocument.spreadsheet"/>{manifest_extra}</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_ods_repeat_bomb_is_f004_before_the_reader_allocates(tmp_path):
    bomb = raw_ods(tmp_path / "repeat.ods", '<table:table-row table:number-rows-repeated="9000"><table:table-cell '
                   'table:number-columns-repeated="9000" office:value-type="string"><text:p>X</text:p>'
                   "</table:table-cell></table:table-row>")
    rc, seconds, rss, report, _ = measured(bomb)
    assert report["files"][0]["issues"][0]["code"] == "F004"
    assert rss < 300 << 20 and seconds < 10  # calamine alone: 10 GB and 30 s


def test_ods_trailing_empty_repeats_as_libreoffice_writes_them_are_fine(tmp_path):
    normal = raw_ods(tmp_path / "normal.ods",
                     '<table:table-row><table:table-cell office:value-type="string"><text:p>指标编号</text:p>'
                     '</table:table-cell><table:table-cell table:number-columns-repeated="16383"/></table:table-row>'
                     '<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
                     'table:number-columns-repeated="16384"/></table:table-row>')
    found = codes(normal)
    assert not any(c.startswith("F") for c in found), found


def test_ods_space_bomb_is_f004(tmp_path):
    bomb = raw_ods(tmp_path / "spaces.ods", '<table:table-row><table:table-cell office:value-type="string"><text:p>'
                   'a<text:s text:c="999999999"/></text:p></table:table-cell></table:table-row>')
    assert_code(bomb, "F004", seconds=3)


def test_ods_with_encrypted_parts_is_f003(tmp_path):
    locked = raw_ods(tmp_path / "locked.ods", "<table:table-row/>", manifest_extra=(
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/></manifest:file-entry>'))
    found = check_file(locked).findings
    assert found[0].code == "F003" and "encrypted" in found[0].message("en")


def xls_with(tmp_path, name, patch) -> Path:
    """A small .xls (xlwt) with `patch(bytearray, offset of the first sheet's DIMENSIONS body)` applied."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("指标")
    ws.write(0, 0, "指标编号")
    ws.write(0, 1, "完成值")
    ws.write(1, 0, "I06")
    ws.write(1, 1, 250)
    path = tmp_path / name
    wb.save(str(path))
    data = bytearray(path.read_bytes())
    at = data.find(b"\x00\x02\x0e\x00") + 4  # DIMENSIONS, BIFF8: rows u32, u32, columns u16, u16
    patch(data, at)
    path.write_bytes(bytes(data))
    return path


def test_xls_inverted_dimensions_no_longer_abort_the_process(tmp_path):
    """Regression: first row after the last one made calamine reserve 515 GB and abort (SIGABRT): no
    findings, exit 134. The header is only a hint; the file reads normally."""
    inverted = xls_with(tmp_path, "inverted.xls", lambda d, at: struct.pack_into("<IIHH", d, at, 5, 2, 0, 3))
    rc, seconds, rss, report, _ = measured(inverted, extra=("--format", "json"))
    assert rc in (0, 1)
    assert not report["files"][0]["issues"] or not report["files"][0]["issues"][0]["code"].startswith("F")
    assert rss < 300 << 20


def test_xls_far_cell_is_f004(tmp_path):
    def far(data, at):
        # move the number 250 (an RK or NUMBER record at row 1, column 1) to row 65535, column 255
        for typ in (b"\x7e\x02", b"\x03\x02"):
            i = data.find(typ + b"\x0a\x00\x01\x00\x01\x00") if typ == b"\x7e\x02" else data.find(typ + b"\x0e\x00\x01\x00\x01\x00")
            if i >= 0:
                struct.pack_into("<HH", data, i + 4, 65535, 255)
                return
        raise AssertionError("no number record found")

    far_cell = xls_with(tmp_path, "far.xls", far)
    rc, seconds, rss, report, _ = measured(far_cell)
    assert report["files"][0]["issues"][0]["code"] == "F004"
    assert rss < 300 << 20


def test_xls_with_a_looping_sector_chain_is_f003(tmp_path):
    def loop(data, at):
        fat_sector = struct.unpack_from("<I", data, 0x4C)[0]
        fat_at = (fat_sector + 1) * 512
        first_dir = struct.unpack_from("<I", data, 0x30)[0]
        struct.pack_into("<I", data, fat_at + 4 * first_dir, first_dir)  # the directory chain points at itself

    looping = xls_with(tmp_path, "loop.xls", loop)
    assert_code(looping, "F003", seconds=3)


# --- what is not a workbook, or not readable ------------------------------------------------------


def test_not_workbooks(tmp_path):
    (tmp_path / "scan.xlsx").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    (tmp_path / "empty.xlsx").write_bytes(b"")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("word/document.xml", "<w:document xmlns:w='x'/>")
    (tmp_path / "letter.xlsx").write_bytes(docx.getvalue())
    (tmp_path / "page.xls").write_bytes(b"<html><table><tr><td>1</td></tr></table></html>")
    (tmp_path / "x.xlsx").mkdir()
    (tmp_path / "x.xlsx" / "sheet.xml").write_text("<a/>")
    start = time.monotonic()
    report = check_paths([tmp_path])
    assert time.monotonic() - start < 10
    found = {Path(f.path).name: [x.code for x in f.findings] for f in report.files}
    assert found == {"empty.xlsx": ["F002"], "letter.xlsx": ["F002"], "page.xls": ["F002"], "scan.xlsx": ["F002"],
                     "x.xlsx": ["F001"]}
    assert [f.code for f in check_file(tmp_path / "x.xlsx").findings] == ["F001"]
    assert report.exit_code() == 1


def test_directory_named_like_a_workbook_given_directly(tmp_path):
    (tmp_path / "x.xlsx").mkdir()
    result = runner.invoke(app, ["check", "--format", "json", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1
    assert [i["code"] for i in json.loads(result.stdout)["files"][0]["issues"]] == ["F001"]


def test_xlsm_macros_are_read_never_run(tmp_path):
    source = REALWORLD / "vba.xlsm"
    if not source.exists():
        pytest.skip(f"{source} is not there (shared/realworld missing)")
    copy = tmp_path / "vba.xlsm"
    shutil.copy2(source, copy)
    before = copy.read_bytes()
    found = codes(copy)
    assert found and not found[0].startswith("F"), found  # read like any workbook
    assert copy.read_bytes() == before
    seeds = fuzz.seed_returns(tmp_path / "seeds")
    xlsm = next(p for p in seeds if p.suffix == ".xlsm")
    assert "xl/vbaProject.bin" in zipfile.ZipFile(xlsm).namelist()
    assert not [c for c in codes(xlsm) if c.startswith("F")]


@pytest.mark.parametrize("name", ["pass_protected.xlsx", "pass_protected.ods", "pass_protected.xlsb"])
def test_password_protected_workbooks_are_f003(name):
    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} is not there (shared/realworld missing)")
    found = check_file(path).findings
    assert found[0].code in ("F003", "F002") if name.endswith(".xlsb") else found[0].code == "F003"
    if not name.endswith(".xlsb"):
        assert "encrypted" in found[0].message("en")


def test_symlink_loops_in_a_returns_directory(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "self.xlsx").symlink_to("self.xlsx")
    (returns / "up").symlink_to("..")
    (returns / "a").mkdir()
    (returns / "a" / "back").symlink_to("../../returns")
    start = time.monotonic()
    report = check_paths([returns])
    assert time.monotonic() - start < 5
    assert [(Path(f.path).name, [x.code for x in f.findings]) for f in report.files] == [("self.xlsx", ["F001"])]


def test_a_fifo_named_like_a_workbook_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    start = time.monotonic()
    report = check_paths([tmp_path])
    assert time.monotonic() - start < 5
    assert [[f.code for f in r.findings] for r in report.files] == [["F001"]]


def test_file_deleted_between_listing_and_reading(tmp_path, monkeypatch):
    import lqip.check

    doomed = tmp_path / "doomed.xlsx"
    shutil.copy2(fuzz.seed_returns(tmp_path / "seeds")[0], doomed)
    listed = lqip.check.expand

    def expand_then_delete(paths):
        files = listed(paths)
        doomed.unlink()
        return files

    monkeypatch.setattr(lqip.check, "expand", expand_then_delete)
    report = check_paths([doomed])
    assert [f.code for f in report.files[0].findings] == ["F001"]


def test_file_vanishing_while_it_is_opened(tmp_path, monkeypatch):
    import builtins

    import lqip.workbook

    path = fuzz.seed_returns(tmp_path / "seeds")[0]
    real_open = builtins.open

    def vanished(file, *args, **kwargs):
        if str(file) == str(path):
            raise FileNotFoundError(2, "No such file or directory")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(lqip.workbook, "open", vanished, raising=False)
    assert codes(path) == ["F001"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files without read permission")
def test_file_without_read_permission_is_f001(tmp_path):
    locked = tmp_path / "locked.xlsx"
    shutil.copy2(fuzz.seed_returns(tmp_path / "seeds")[0], locked)
    locked.chmod(0)
    try:
        assert codes(locked) == ["F001"]
    finally:
        locked.chmod(0o644)


def test_duplicate_part_names_are_f003(tmp_path):
    import warnings

    dup = tmp_path / "dup.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw_xlsx(dup, extra={"xl/worksheets/sheet1.xml": SHEET_HEAD + b'<row r="1"><c r="XFD1048576"><v>1</v></c></row>' + SHEET_TAIL})
    assert_code(dup, "F003", seconds=3)


# --- the limits are settable, and each one changes the outcome --------------------------------------


@pytest.fixture()
def seed_return(tmp_path):
    return fuzz.seed_returns(tmp_path / "seeds")[0]


@pytest.mark.parametrize("option, value", [("--max-file-mb", "0.001"), ("--max-unzipped-mb", "0.01"),
                                           ("--max-rows", "3"), ("--max-cells", "10")])
def test_each_limit_option_changes_the_outcome(seed_return, option, value):
    def first_code(*extra):
        result = runner.invoke(app, ["check", "--format", "json", *extra, str(seed_return)])
        assert result.exit_code in (0, 1), result.output
        issues = json.loads(result.stdout)["files"][0]["issues"]
        return issues[0]["code"] if issues else None

    assert first_code() != "F004"
    assert first_code(option, value) == "F004"


def test_library_limits(seed_return):
    assert codes(seed_return, Limits(max_parts=3))[0] == "F004"
    assert codes(seed_return, Limits(max_cell_chars=3))[0] == "F004"
    assert codes(seed_return, Limits(max_merged=0))[0] == "F004"
    assert not [c for c in codes(seed_return, Limits()) if c.startswith("F")]


# --- a reader that crashes, hangs or eats memory is isolated in its worker ---------------------------


def _abort(path, plan, limits, debug=False):
    if "bad" in str(path):
        import faulthandler

        faulthandler.disable()  # pytest's would print the dying worker's stack
        os.abort()
    return _ok(path, plan, limits, debug)


def _hang(path, plan, limits, debug=False):
    if "bad" in str(path):
        time.sleep(60)
    return _ok(path, plan, limits, debug)


def _greedy(path, plan, limits, debug=False):
    if "bad" in str(path):
        hog = bytearray(8 * 1024 * 1024 * 1024)  # over the worker's address-space cap
        hog[-1] = 1
    return _ok(path, plan, limits, debug)


def _ok(path, plan, limits, debug=False):
    from lqip.report import FileReport

    return FileReport(path=str(path), unit=None, year=None)


@pytest.mark.parametrize("fn, code", [(_abort, "F003"), (_hang, "F004"), (_greedy, "F004")])
def test_worker_isolation(fn, code, monkeypatch):
    from lqip import batch

    if not batch.isolation_available():
        pytest.skip("no fork on this platform (or LQIP_ISOLATE=0)")
    if fn is _greedy and sys.platform != "linux":
        pytest.skip("the worker's address-space cap is set on Linux only")
    files = [Path("good1.xlsx"), Path("bad.xlsx"), Path("good2.xlsx")]
    start = time.monotonic()
    out = batch.map_files(fn, files, None, Limits(max_memory_bytes=1 << 30), jobs=2, timeout=1)
    assert time.monotonic() - start < 30
    assert [r.path for r in out] == [str(f) for f in files]
    assert [[f.code for f in r.findings] for r in out] == [[], [code], []]


# --- configuration is input too --------------------------------------------------------------------


@pytest.fixture()
def config_dir(tmp_path):
    """A copy of the shipped config to spoil."""
    from lqip.plan import DEFAULT_CONFIG_DIR

    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _config_exits_2(config, seed_return, needle):
    for args in (["config", "check", "--config", str(config)],
                 ["check", "--config", str(config), "--format", "json", str(seed_return)]):
        start = time.monotonic()
        result = runner.invoke(app, args)
        assert time.monotonic() - start < 5
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output, result.output
        assert "Traceback" not in result.output


def test_yaml_alias_bomb_is_refused(config_dir, seed_return):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (config_dir / "targets.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _config_exits_2(config_dir, seed_return, "aliases")


def test_huge_config_file_is_refused(config_dir, seed_return):
    with open(config_dir / "responsibilities.yaml", "a", encoding="utf-8") as handle:
        handle.write("# " + "x" * (3 * 1024 * 1024) + "\n")
    _config_exits_2(config_dir, seed_return, "byte limit")


def test_config_with_wrong_types_names_the_key(config_dir, seed_return):
    text = (config_dir / "targets.yaml").read_text(encoding="utf-8")
    (config_dir / "targets.yaml").write_text(text.replace("end_year: 2025", "end_year: [2025]", 1), encoding="utf-8")
    _config_exits_2(config_dir, seed_return, "end_year")


def test_config_that_is_not_yaml_or_not_text(config_dir, seed_return):
    (config_dir / "targets.yaml").write_bytes(b"\xff\xfe\x00binary\x00")
    _config_exits_2(config_dir, seed_return, "targets.yaml")


# --- nothing lost, nothing changed -------------------------------------------------------------------


def _fingerprint(paths):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def _has_summary() -> bool:
    return "summary" in {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}


@pytest.fixture()
def dated_returns(tmp_path):
    seeds = fuzz.seed_returns(tmp_path / "returns")
    for p in seeds:
        os.utime(p, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return tmp_path / "returns", seeds


def test_check_and_template_never_modify_inputs(dated_returns, tmp_path):
    directory, seeds = dated_returns
    before = _fingerprint(seeds)
    for args in [["check", "--format", fmt, str(directory)] for fmt in ("text", "json", "lines", "github", "junit")] + [
            ["template", "--unit", "市法院", "--year", "2023", "-o", str(directory / "new.xlsx")]]:
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args, result.output)
    assert _fingerprint(seeds) == before


def test_summary_never_modifies_inputs(dated_returns, tmp_path):
    if not _has_summary():
        pytest.skip("`lqip summary` is not there yet (another issue adds it)")
    directory, seeds = dated_returns
    before = _fingerprint(seeds)
    for args in (["summary", str(directory), "--format", "json"],
                 ["summary", str(directory), "-o", str(tmp_path / "scorecard.xlsx")]):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args, result.output)
    assert _fingerprint(seeds) == before


def test_outputs_never_overwrite_without_force(tmp_path):
    target = tmp_path / "template.xlsx"
    target.write_bytes(b"precious")
    result = runner.invoke(app, ["template", "--unit", "市法院", "--year", "2023", "-o", str(target)])
    assert result.exit_code == 2
    assert target.read_bytes() == b"precious"
    result = runner.invoke(app, ["template", "--unit", "市法院", "--year", "2023", "-o", str(target), "--force"])
    assert result.exit_code == 0
    assert zipfile.is_zipfile(target)
    if _has_summary():
        seeds = fuzz.seed_returns(tmp_path / "returns")
        out = tmp_path / "summary.json"
        out.write_text("precious")
        result = runner.invoke(app, ["summary", str(seeds[0]), "--format", "json", "-o", str(out)])
        assert result.exit_code == 2 and out.read_text() == "precious"


def test_an_interrupted_save_leaves_nothing_at_the_target(tmp_path):
    from lqip.outputs import atomic_save

    target = tmp_path / "out.xlsx"

    def interrupted(tmp: Path):
        tmp.write_bytes(b"half a workbook")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_save(target, interrupted)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the temp file is gone too
    target.write_bytes(b"old")
    with pytest.raises(OSError):
        atomic_save(target, lambda tmp: (_ for _ in ()).throw(OSError("disk full")), force=True)
    assert target.read_bytes() == b"old"
