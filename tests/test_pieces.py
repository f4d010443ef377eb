"""A large .xlsx sheet is read in pieces, one per core (workbook._in_pieces): whatever the sheet, the
cells come out exactly as a whole read gives them, and anything the pieces cannot vouch for is read
whole. The size threshold is lowered here so that small sheets take the path."""

from __future__ import annotations

import datetime as dt
import threading
import time
import zipfile
from pathlib import Path

import pytest
from helpers import XLSX_CONTENT_TYPES, XLSX_ONE_SHEET_WORKBOOK, XLSX_ROOT_RELS, write_xlsx
from pieces_support import force_pieces, num, outcome, row, watch_reads, whole, write_parts
from test_workbook_speed import HEAD, NS, TAIL, WBRELS, inline, xlsx

import lqip.workbook as workbook
from lqip.workbook import Limits, Unreadable, open_book

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "calamine"


@pytest.fixture
def pieces(monkeypatch):
    """pieces(cores): every sheet part is read in pieces on `cores` cores from then on; returns what
    each _Runs.read gives (pieces_support.watch_reads)."""

    def on(cores: int = 2) -> list:
        force_pieces(monkeypatch, cores)
        return watch_reads(monkeypatch)

    return on


def sheet_xml(rows: list[str], tail: str = "") -> str:
    return HEAD + "".join(rows) + "</sheetData>" + tail + "</worksheet>"


@pytest.mark.parametrize("cores", [2, 3, 4, 8])
def test_a_sheet_written_by_openpyxl_reads_the_same_in_pieces(tmp_path, pieces, cores):
    rows = [["编号", "名称", "数值", "日期", "真假", "空"]]
    for i in range(400):
        rows.append([f"I{i:03d}", "专利" * (i % 3), i * 1.5 if i % 7 else None, dt.datetime(2023, 1 + i % 12, 1),
                     i % 2 == 0, None])
    rows += [[None] * 6] * 5 + [["尾", 1, 2, 3, 4, 5, "更宽"]]
    path = write_xlsx(tmp_path / "a.xlsx", {"指标": rows, "任务": [["任务编号"], ["T01"]]})
    expected = whole(path)
    used = pieces(cores)
    assert outcome(path) == expected
    assert used[0]  # (the second sheet's two rows may have no cut near the middle)


def test_offsets_gaps_widths_and_merged_ranges_are_laid_out_as_the_whole_sheet(tmp_path, pieces):
    body = [row(3, num("C3", 1) + num("D3", 2))]
    body += [row(r, num(f"C{r}", r) + inline(f"D{r}", f"第{r}行!?")) for r in range(4, 120)]
    body += [row(r, "") for r in range(120, 130)]  # empty rows where a cut may fall
    body += [row(r, num(f"E{r}", r) + (num("F210", 7) if r == 210 else "")) for r in range(200, 260)]  # a gap, then E
    body += [row(300, num("H300", 9))]  # the widest cell, last
    tail = '<mergeCells count="2"><mergeCell ref="C5:D6"/><mergeCell ref="F210:G212"/></mergeCells>'
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body, tail))
    expected = whole(path)
    for cores in (2, 3, 4):
        used = pieces(cores)
        assert outcome(path) == expected, cores
        assert used == [True]
    assert expected["指标"][211][6] == expected["指标"][209][5] == 7  # (the merged range was filled)


@pytest.mark.parametrize("cores", [2, 3])
def test_a_sheet_of_many_chunks_starts_its_first_runs_while_it_is_inspected(tmp_path, pieces, cores):
    """Over 1 MB the inspection feeds the part in chunks, a tag now and then cut in two: a run starts
    only where the scan has been, and the whole comes out the same."""
    body = [row(r, num(f"A{r}", r) + inline(f"B{r}", "文" * (r % 37)) + num(f"C{r}", r / 7)) for r in range(1, 30000)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    expected = whole(path)
    used = pieces(cores)
    book = open_book(path)
    runs = book._inspected.whole["xl/worksheets/sheet1.xml"]
    assert len(runs.started) == cores and runs.cut < runs.size  # (runs: one more than the cores; the last waits)
    assert {name: book.sheet(name).rows for name in book.sheet_names} == expected
    assert used == [True]


def test_rows_written_out_of_order_are_read_whole(tmp_path, pieces):
    body = [row(r, num(f"A{r}", r)) for r in range(50, 100)] + [row(r, num(f"A{r}", r)) for r in range(1, 50)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    expected = whole(path)
    used = pieces(2)
    assert outcome(path) == expected
    assert used == [False]


def test_cells_without_a_reference_are_read_whole(tmp_path, pieces):
    body = [f'<row r="{r}"><c><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>' for r in range(1, 200)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    expected = whole(path)
    used = pieces(2)
    assert outcome(path) == expected
    assert used == []  # the inspection saw an unplaced cell: the part was not kept for pieces


@pytest.mark.parametrize("hider", ["<!-- {} -->", "<![CDATA[{}]]>", "<?note {}?>"])
def test_a_row_tag_that_could_hide_in_a_comment_or_cdata_stops_the_cut(tmp_path, pieces, hider):
    body = [row(r, num(f"A{r}", r)) for r in range(1, 200)]
    body.insert(100, hider.format('</row><row r="500"><c r="A500"><v>5</v></c></row><row r="501">'))
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    expected = whole(path)
    pieces(2)
    assert outcome(path) == expected


def test_a_piece_that_fails_falls_back_to_the_whole_read(tmp_path, pieces, monkeypatch):
    body = [row(r, num(f"A{r}", r)) for r in range(1, 200)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    expected = whole(path)
    used = pieces(2)
    real = workbook._zip_pieces
    calls = []

    def failing(entries):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a piece fails")
        return real(entries)

    monkeypatch.setattr(workbook, "_zip_pieces", failing)
    assert outcome(path) == expected
    assert used == [False]


def test_limits_refuse_the_same_way(tmp_path, pieces):
    body = [row(r, num(f"A{r}", r) + num(f"B{r}", r)) for r in range(1, 300)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    for limits in (Limits(max_rows=100), Limits(max_cells=400), Limits()):
        expected = whole(path, limits)
        pieces(2)
        assert outcome(path, limits) == expected
    assert whole(path, Limits(max_rows=100)) == "F004"


@pytest.mark.parametrize("where", [5, 150, 298])
def test_an_over_long_cell_is_refused_in_any_run(tmp_path, pieces, where):
    body = [row(r, inline(f"A{r}", "长" * (9 if r == where else 3))) for r in range(1, 300)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    limits = Limits(max_cell_chars=8)
    expected = whole(path, limits)
    assert expected == "F004"
    used = pieces(2)
    assert outcome(path, limits) == expected
    assert used == ["refused"]  # (by the read in pieces)
    with pytest.raises(Unreadable, match="9 characters"):
        rows_of_first(path, limits)


def rows_of_first(path: Path, limits: Limits):
    book = open_book(path, limits)
    return book.sheet(book.sheet_names[0]).rows


def test_the_cuts_fall_between_rows():
    sheet = (HEAD + "".join(row(r, num(f"A{r}", r)) for r in range(1, 1000)) + TAIL).encode()
    start, end = sheet.index(b"<sheetData>") + len(b"<sheetData>"), sheet.rindex(b"</sheetData>")
    for count in (2, 3, 4):
        cuts = workbook._cuts(sheet, start, end, count)
        assert len(cuts) == count + 1 and cuts[0] == start and cuts[-1] == end
        assert all(sheet.startswith(b"<row ", at) for at in cuts[:-1])
        assert cuts == sorted(set(cuts))
    one = (HEAD + row(1, num("A1", 1)) + TAIL).encode()
    assert workbook._cuts(one, start, one.rindex(b"</sheetData>"), 2) == [start, one.rindex(b"</sheetData>")]


def test_a_comment_cdata_or_instruction_is_found_however_the_chunks_fall():
    body = "".join(row(r, inline(f"A{r}", "好!真的?")) for r in range(1, 100)).encode()
    assert not workbook._hides_rows(body, 0, len(body))  # ("!" and "?" in text are no hazard)
    for hazard in (b"<!-- x -->", b"<![CDATA[x]]>", b"<?pi x?>"):
        sheet = body[:500] + hazard + body[500:]
        assert workbook._hides_rows(sheet, 0, len(sheet))
        assert workbook._hides_rows(sheet, 501, len(sheet))  # (the "<" just before the start counts)


def test_a_hazard_cut_by_the_chunking_stops_the_early_runs():
    scan = workbook._SheetScan(Limits())
    info = type("Info", (), {"file_size": 10 ** 6})()
    runs = workbook._Runs(b"", None, info, "指标", scan, Limits())
    runs(f"{HEAD}{row(1, num('A1', 1))}<".encode())
    assert runs.clear
    runs(b"!-- -->" + TAIL.encode())
    assert not runs.clear


def test_overlapping_pieces_are_not_laid_out():
    first = ((0, 0), (9, 1), [[1, 2]] * 10, [])
    second = ((5, 0), (12, 1), [[3, 4]] * 8, [])
    assert workbook._laid_out([first, second]) is None
    third = ((12, 3), (12, 3), [[5]], [((12, 3), (12, 3))])
    rows, merged = workbook._laid_out([first, third])
    assert len(rows) == 13 and all(len(r) == 4 for r in rows)
    assert rows[12] == ["", "", "", 5] and rows[11] == ["", "", "", ""] and rows[0] == [1, 2, "", ""]
    assert merged == [((12, 3), (12, 3))]


def test_a_check_of_a_return_gives_the_same_findings_in_pieces(tmp_path, pieces):
    from helpers import make_return

    from lqip.check import check_file
    from lqip.plan import load_plan

    plan = load_plan()
    path = make_return(tmp_path)
    expected = check_file(path, plan).findings
    used = pieces(2)
    assert check_file(path, plan).findings == expected
    assert any(used)


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="the shared real-world spreadsheets are not there")
def test_real_world_workbooks_read_the_same_in_pieces(pieces):
    files = sorted(p for p in REALWORLD.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm"))
    assert len(files) > 20
    expected = {p.name: whole(p) for p in files}
    used = pieces(2)
    assert {p.name: outcome(p) for p in files} == expected
    assert sum(used) > 10


def test_without_an_in_memory_file_the_pieces_go_through_python(tmp_path, pieces, monkeypatch):
    body = [row(r, num(f"A{r}", r)) for r in range(1, 200)]
    path = xlsx(tmp_path / "a.xlsx", sheet_xml(body))
    expected = whole(path)
    used = pieces(2)

    def no_memfd(*args):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(workbook.os, "memfd_create", no_memfd, raising=False)
    assert outcome(path) == expected
    assert used == [True]


def big_sheet(rows: int = 30000, extra: str = "") -> str:
    """A sheet part of over 1 MB (the inspection feeds it in chunks), `extra` in its last row."""
    body = [row(r, num(f"A{r}", r) + inline(f"B{r}", "文" * (r % 37))) for r in range(1, rows)]
    return sheet_xml(body + [row(rows, extra or num(f"A{rows}", 1))])


def no_reader_threads() -> bool:
    return [t for t in threading.enumerate() if t is not threading.main_thread() and t.daemon] == []


@pytest.mark.parametrize("limits, code", [(Limits(max_cell_chars=100), "F004"), (Limits(max_rows=20000), "F004")])
def test_a_refusal_after_the_first_runs_started_waits_for_them(tmp_path, pieces, monkeypatch, limits, code):
    """An over-long text in the last row (refused by the inspection's scan, mid-part) or too many rows
    (refused when the sheet is asked for): the runs already started are waited for, none outlives the
    file."""
    extra = inline("B30000", "x" * 2_500_000) if limits.max_cell_chars == 100 else ""  # (over a chunk: the scan sees it)
    path = xlsx(tmp_path / "a.xlsx", big_sheet(extra=extra))
    expected = whole(path, limits)
    assert expected == code
    started = []
    real = workbook._calamine_file

    def slow(parts):  # a run still being read when the refusal comes
        started.append(1)
        time.sleep(0.3)
        return real(parts)

    pieces(2)
    monkeypatch.setattr(workbook, "_calamine_file", slow)
    assert outcome(path, limits) == expected
    assert started  # (a run did start before the refusal)
    assert no_reader_threads()


def test_a_thread_that_cannot_start_leaves_the_sheet_to_the_whole_read(tmp_path, pieces, monkeypatch):
    path = xlsx(tmp_path / "a.xlsx", big_sheet(3000))
    expected = whole(path)
    used = pieces(2)

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert outcome(path) == expected
    assert used == [False]


def test_the_sheet_read_in_pieces_is_inspected_after_every_other_part(tmp_path, pieces, monkeypatch):
    path = write_parts(tmp_path / "a.xlsx", [  # the sheet before the shared strings, as Excel writes them
        ("[Content_Types].xml", XLSX_CONTENT_TYPES), ("_rels/.rels", XLSX_ROOT_RELS),
        ("xl/workbook.xml", XLSX_ONE_SHEET_WORKBOOK), ("xl/_rels/workbook.xml.rels", WBRELS),
        ("xl/worksheets/sheet1.xml", sheet_xml([row(r, num(f"A{r}", r)) for r in range(1, 99)])),
        ("xl/sharedStrings.xml", f'<sst xmlns="{NS}"><si><t>x</t></si></sst>')])
    seen = []
    real = workbook._inspect_xlsx_part
    monkeypatch.setattr(workbook, "_inspect_xlsx_part", lambda *a, **k: seen.append(a[3]) or real(*a, **k))
    used = pieces(2)
    open_book(path).sheet("指标")
    assert seen[-1] == "xl/worksheets/sheet1.xml" and "xl/sharedstrings.xml" in seen
    assert used == [True]


def test_which_sheets_are_read_in_pieces(monkeypatch):
    monkeypatch.delenv("LQIP_PIECES", raising=False)
    def info(size):
        made = zipfile.ZipInfo("x")
        made.file_size = size
        return made

    mb = 1024 * 1024
    sheet = info(24 * mb)
    names = {"xl/worksheets/sheet1.xml": sheet, "xl/sharedstrings.xml": info(2 * mb), "xl/styles.xml": info(10_000)}
    monkeypatch.setattr(workbook, "usable_cores", lambda: 2)
    assert workbook._piecewise(sheet, names)
    assert not workbook._piecewise(info(3 * mb), names)  # small: a whole read is as fast
    assert not workbook._piecewise(info(65 * mb), names)  # large: kept whole while it is read
    names["xl/sharedstrings.xml"] = info(9 * mb)  # three pieces would parse 27 MB of strings for 24 MB of rows
    assert not workbook._piecewise(sheet, names)
    names["xl/sharedstrings.xml"] = info(2 * mb)
    monkeypatch.setattr(workbook, "usable_cores", lambda: 1)
    assert not workbook._piecewise(sheet, names)
    monkeypatch.setattr(workbook, "usable_cores", lambda: 2)
    monkeypatch.setenv("LQIP_PIECES", "0")
    assert not workbook._piecewise(sheet, names)


SPY = """
import os, sys
import lqip.workbook as w
read = w._Runs.read
def spy(self):
    result = read(self)
    with open(os.environ["LQIP_TEST_SPY"], "a") as out:
        out.write("pieces\\n" if result is not None else "whole\\n")
    return result
w._Runs.read = spy
from lqip.cli import main
sys.argv = ["lqip", *sys.argv[1:]]
main()
"""


def test_a_large_return_checked_in_a_worker_reads_as_it_does_whole(tmp_path):
    """The real thing, nothing patched: a consolidated return of 25,000 rows (a 6 MB sheet part), checked
    by `lqip check` in a worker process (memory cap, threads, the in-memory file), gives the same
    report in pieces as with LQIP_PIECES=0."""
    import importlib.util
    import json
    import os
    import subprocess
    import sys

    from lqip.plan import load_plan

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_corpus", root / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    path = tmp_path / "汇总.xlsx"
    corpus.write_xlsx(path, corpus.LARGE_SHEET, corpus.LARGE_HEADERS, corpus.large_rows(load_plan(), 25_000))
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > workbook._PIECEWISE
    spy = tmp_path / "spy.txt"
    env = {**os.environ, "LQIP_TEST_SPY": str(spy), "LQIP_LANG": "en"}
    env.pop("LQIP_ISOLATE", None)
    runs = {}
    for pieces_on in ("1", "0"):
        done = subprocess.run([sys.executable, "-c", SPY, "check", str(path), "--format", "json"],
                              env={**env, "LQIP_PIECES": pieces_on}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
        runs[pieces_on] = json.loads(done.stdout)
    assert runs["1"] == runs["0"]
    assert sum(f["code"] == "V303" for f in runs["1"]["files"][0]["issues"]) > 100  # (the "约N" cells)
    used = spy.read_text().split() if spy.exists() else []
    assert used == (["pieces"] if workbook.usable_cores() > 1 else [])
