"""Second review of the read in pieces (workbook._Runs, after e4e1cc8): whole read against pieces.

The first tests below are concrete problems the review found (since fixed), each explained where it
stands; the others pin the edge cases the review checked and found safe (the first </sheetData>
however the 1 MB chunking cuts it, "sheetData" variants, a "<" in an attribute value, odd chunks).
The pieces are forced as in tests/test_pieces.py: every sheet part is "large", nothing is repacked,
the shared strings count as small, and `usable_cores` says how many cores there are.
"""

from __future__ import annotations

import random
import struct
import threading
import time
from pathlib import Path

import pytest
from helpers import XLSX_CONTENT_TYPES, XLSX_ONE_SHEET_WORKBOOK, XLSX_ROOT_RELS
from pieces_support import force_pieces, num, outcome, row, watch_reads, whole, write_parts
from test_workbook_speed import HEAD, NS, REL, TAIL, WBRELS, inline, xlsx

import lqip.workbook as workbook
from lqip.workbook import Limits

SHEET = "指标"  # (the sheet name of XLSX_ONE_SHEET_WORKBOOK)


@pytest.fixture
def both(monkeypatch):
    """(whole, pieces, used): readers of a path, whole or in pieces; `used` lists what each
    _Runs.read gave since the last read in pieces (pieces_support.watch_reads)."""
    used = watch_reads(monkeypatch)

    def pieces(path: Path, cores: int = 2, limits: Limits | None = None):
        force_pieces(monkeypatch, cores)
        used.clear()
        return outcome(path, limits)

    yield whole, pieces, used
    for thread in threading.enumerate():  # (no run of one test left running into the next)
        if thread is not threading.main_thread():
            thread.join(30)


def runs_alive() -> list:
    return [t for t in threading.enumerate() if t is not threading.main_thread()]


def two_sheet_book(path: Path, first: str, second: str, strings: str | None = None) -> Path:
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
            '<sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B" sheetId="2" r:id="rId2"/></sheets></workbook>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>'
            + (f'<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>' if strings else "")
            + "</Relationships>")
    parts = [("[Content_Types].xml", XLSX_CONTENT_TYPES), ("_rels/.rels", XLSX_ROOT_RELS), ("xl/workbook.xml", book),
             ("xl/_rels/workbook.xml.rels", rels), ("xl/worksheets/sheet1.xml", first),
             ("xl/worksheets/sheet2.xml", second)]
    return write_parts(path, parts + ([("xl/sharedStrings.xml", strings)] if strings else []))


PLAIN = HEAD + "".join(row(r, num(f"A{r}", r)) for r in range(1, 300)) + TAIL


# --- 1. merged ranges written between the rows (fixed) --------------------------------------------------


def merged_between_rows(ranges: str, at: int = 20) -> str:
    """Rows 1-199 of A and C (B empty, row 6 only A); a <mergeCells> element between rows `at` and
    `at` + 1, inside <sheetData>."""
    rows = [row(r, num(f"A{r}", r) + (num(f"C{r}", 0) if r != 6 else "")) for r in range(1, 200)]
    return HEAD + "".join(rows[:at]) + f'<mergeCells count="1">{ranges}</mergeCells>' + "".join(rows[at:]) + TAIL


@pytest.mark.parametrize("cores", [2, 3, 4])
def test_merged_ranges_written_between_the_rows_are_filled_as_in_the_whole_read(tmp_path, both, cores):
    """Found in the second review (fixed). calamine reads a <mergeCells> wherever it stands in the part,
    also between the rows inside <sheetData>: the whole read fills A6:C6 (row 6 is [6, 6, 6]). The
    read in pieces takes the merged ranges of the last run only (_laid_out: results[-1][3]); a run
    that does not hold the element has none, so row 6 stays [6, "", ""], silently.
    A fix: fall back to the whole read when the last run's ranges are not all the part has (the
    scan counts every <mergeCell>: scan.merged), or when "mergeCell" occurs between start and end."""
    whole, pieces, used = both
    path = xlsx(tmp_path / "a.xlsx", merged_between_rows('<mergeCell ref="A6:C6"/>'))
    expected = whole(path)
    assert expected[SHEET][5] == [6.0, 6.0, 6.0]
    assert pieces(path, cores) == expected  # (was, in pieces: row 6 is [6.0, '', ''])


def test_merged_ranges_between_the_rows_are_refused_as_in_the_whole_read(tmp_path, both):
    """Found in the second review (fixed; same cause). Two ranges over the whole grid, between the rows: the whole read refuses
    their area (F004, 2 × 597 cells over max_cells=600); the pieces never see them and give the cells."""
    whole, pieces, used = both
    path = xlsx(tmp_path / "a.xlsx", merged_between_rows('<mergeCell ref="A1:C199"/><mergeCell ref="A1:C199"/>'))
    limits = Limits(max_cells=600)
    assert whole(path, limits) == "F004"
    assert pieces(path, 2, limits) == "F004"  # (was, in pieces: the sheet's cells)


# --- 2. a zip whose end record hides its last part from calamine (fixed) -----------------------------------


def hide_last_part(path: Path) -> Path:
    """Count one part fewer in the end-of-central-directory record: zipfile reads the whole directory
    (every part), calamine's zip reader trusts the count (not the last part)."""
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    fields = list(struct.unpack_from("<4s4H2LH", data, end))
    fields[3] -= 1
    fields[4] -= 1
    struct.pack_into("<4s4H2LH", data, end, *fields)
    path.write_bytes(bytes(data))
    return path


STYLES = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}"><cellXfs count="2"><xf numFmtId="0"/>'
          '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>')


def test_a_part_calamine_cannot_see_is_not_seen_by_the_pieces_either(tmp_path, both):
    """Found in the second review (fixed). Each run's copy of the workbook is built from zipfile's list of
    parts (_as_stored: archive.infolist()), and the whole read is calamine's view of the original.
    The two differ when the end record counts fewer parts than the directory holds (the repacked
    copy guards against exactly this: _plain_directory; the pieces do not). Here xl/styles.xml is
    last and uncounted: the whole read gives numbers (45001.0 …), the pieces dates (2023-03-16 …).
    With the shared strings hidden instead, the whole read is refused (F003) and the pieces read.
    A fix: read in pieces only when _plain_directory(data, len(infos)) holds."""
    whole, pieces, used = both
    rels = WBRELS.replace("</Relationships>", f'<Relationship Id="rId9" Type="{REL}/styles" Target="styles.xml"/>'
                                              "</Relationships>")
    sheet = HEAD + "".join(row(r, f'<c r="A{r}" s="1"><v>{45000 + r}</v></c>') for r in range(1, 200)) + TAIL
    path = write_parts(tmp_path / "a.xlsx", [("[Content_Types].xml", XLSX_CONTENT_TYPES), ("_rels/.rels", XLSX_ROOT_RELS),
                                       ("xl/workbook.xml", XLSX_ONE_SHEET_WORKBOOK),
                                       ("xl/_rels/workbook.xml.rels", rels), ("xl/worksheets/sheet1.xml", sheet),
                                       ("xl/styles.xml", STYLES)])
    assert pieces(path) == whole(path)  # (both see the styles: the same dates)
    hide_last_part(path)
    expected = whole(path)
    assert expected[SHEET][0] == [45001.0]
    assert pieces(path) == expected  # (was, in pieces: [datetime.date(2023, 3, 16)], …)


# --- 3. runs outliving their file (fixed) ----------------------------------------------------------------


@pytest.fixture
def slow_runs(monkeypatch):
    """Every run takes longer (a large run still being parsed): 1.5 s, those of a sheet named "B" 3 s."""
    real = workbook._Runs._read_run

    def slow(self, run, tail, slot):
        time.sleep(3 if self.name == "B" else 1.5)
        real(self, run, tail, slot)

    monkeypatch.setattr(workbook._Runs, "_read_run", slow)


def test_runs_of_a_sheet_are_waited_for_when_another_sheet_is_refused_by_the_inspection(tmp_path, both, slow_runs):
    """Found in the second review (fixed). Two sheets read in pieces are inspected last, in name order: the
    first one's runs start, then the second is refused (a DTD, F003). runs.drop() is called for the
    refused part only; the first sheet's runs go on after open_book has raised (docs/ci.md: "A
    refusal waits for the pieces already started"). Their copies also hold the second sheet's part,
    unverified (not parsed by calamine, which reads only the sheet asked for)."""
    whole, pieces, used = both
    dtd = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>' + HEAD.split("?>", 1)[1] + row(1, num("A1", 1)) + TAIL
    path = two_sheet_book(tmp_path / "a.xlsx", PLAIN, dtd)
    assert whole(path) == "F003"
    assert pieces(path) == "F003"
    assert runs_alive() == []


def test_runs_are_waited_for_when_calamine_cannot_open_the_inspected_workbook(tmp_path, both, slow_runs):
    """Found in the second review (fixed). The inspection passes (shared strings are scanned, not parsed) and
    starts the runs; calamine then fails to open the workbook (Book.__init__, F003) and the runs,
    kept in _Inspected.whole, are never dropped."""
    whole, pieces, used = both
    strings = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}"><si><t>x</t></si><si'
    path = two_sheet_book(tmp_path / "a.xlsx", PLAIN, PLAIN, strings)
    assert whole(path) == "F003"
    assert pieces(path) == "F003"
    assert runs_alive() == []


def test_runs_of_a_sheet_never_asked_for_do_not_outlive_the_return(tmp_path, both, slow_runs, monkeypatch):
    """Found in the second review (fixed). read_return stops at the first refusal (sheet A: a cell over
    max_cell_chars, F004); sheet B's runs, started by the inspection, are never read nor dropped and
    run on after the file's result is made (in a worker: while the next file is read, under the
    same address-space cap)."""
    from lqip.plan import load_plan
    from lqip.reader import read_return

    whole, pieces, used = both
    first = HEAD + "".join(row(r, inline(f"A{r}", "y" * (40 if r == 5 else 3))) for r in range(1, 300)) + TAIL
    path = two_sheet_book(tmp_path / "a.xlsx", first, PLAIN)
    limits = Limits(max_cell_chars=30)
    assert whole(path, limits) == "F004"
    force_pieces(monkeypatch, 2)
    result = read_return(path, load_plan(), limits)
    assert [f.code for f in result.findings] == ["F004"]
    assert runs_alive() == []


def test_runs_started_are_waited_for_when_the_sheet_is_read_whole_after_all(tmp_path, both, slow_runs):
    """Found in the second review (fixed). A part of several chunks: the first runs start while it is
    inspected, then a comment after </sheetData> (in the last chunk) turns `clear` off. _Runs.read
    returns None at once, without joining the runs: the whole read runs beside them (the sheet
    parsed ~1.7 times at once) and they outlive Book.sheet (read() has the same early returns for
    `None in runs` and for a failed slot, which leave the later runs unjoined)."""
    whole, pieces, used = both
    body = "".join(row(r, num(f"A{r}", r) + inline(f"B{r}", "文" * (r % 37))) for r in range(1, 30000))
    path = xlsx(tmp_path / "a.xlsx", HEAD + body + "</sheetData><!-- a note --></worksheet>")
    expected = whole(path)
    assert pieces(path) == expected
    assert used == [False]
    assert runs_alive() == []


# --- 4. the finding code of a file with two problems depends on the cores (fixed) -------------------------


def test_the_refusal_of_a_file_with_two_problems_does_not_depend_on_the_cores(tmp_path, both, monkeypatch):
    """Found in the second review (fixed; low severity: the file is refused either way). The sheet read in
    pieces is inspected after every other part, so the first problem met, hence the finding code and
    reason, depends on whether the sheet is read in pieces: on one core, with LQIP_PIECES=0, or for a
    part under 4 MB or over 64 MB the sheet's DTD is met first (F003); on two cores the shared
    strings' count (F004). The same file gets another code on another machine. A fix: put every
    sheet part of 4-64 MB last whatever the cores and LQIP_PIECES say (the order then never varies)."""
    whole, pieces, used = both
    sheet = ('<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>' + HEAD.split("?>", 1)[1]
             + "".join(row(r, num(f"A{r}", r)) for r in range(1, 100)) + TAIL)
    strings = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">' + "<si><t>x</t></si>" * 200 + "</sst>"
    path = write_parts(tmp_path / "a.xlsx", [("[Content_Types].xml", XLSX_CONTENT_TYPES), ("_rels/.rels", XLSX_ROOT_RELS),
                                       ("xl/workbook.xml", XLSX_ONE_SHEET_WORKBOOK), ("xl/_rels/workbook.xml.rels", WBRELS),
                                       ("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)])
    limits = Limits(max_cells=150)
    one = pieces(path, 1, limits)
    assert one in ("F003", "F004")
    assert pieces(path, 2, limits) == one  # (was F003 on one core, F004 on two)
    monkeypatch.setenv("LQIP_PIECES", "0")
    assert outcome(path, limits) == one


# --- checked and found safe -----------------------------------------------------------------------------


class _Info:
    file_size = 10 ** 12  # (no run starts: the part is never "far enough")


def fed(doc: bytes, splits: list[int]) -> tuple:
    """(clear, end, start) of a _Runs fed `doc` cut at `splits`."""
    runs = workbook._Runs(b"", None, _Info(), SHEET, workbook._SheetScan(Limits()), Limits())
    previous = 0
    for at in [*splits, len(doc)]:
        if at > previous:
            runs(doc[previous:at])
            previous = at
    return runs.clear, runs.end, runs.start


ROWS = "".join(row(r, num(f"A{r}", r)) for r in range(1, 40)).encode()
ENDINGS = {
    "end": ROWS + b"</sheetData><foo/></worksheet>",
    "end with a space": ROWS + b"</sheetData ></worksheet>",
    "end, then <sheetData/>": ROWS + b"</sheetData><sheetData/></worksheet>",
    "end, then <sheetData a>": ROWS + b'</sheetData><sheetData a="1"></sheetData></worksheet>',
    "<sheetData/> among the rows": ROWS[:200] + b"<sheetData/>" + ROWS[200:] + TAIL.encode(),
    "sheetData as text": ROWS[:200] + b'<c r="Z1" t="inlineStr"><is><t>sheetData</t></is></c>' + ROWS[200:] + TAIL.encode(),
    "prefixed end": ROWS + b"</x:sheetData></worksheet>",
    "two ends": ROWS + b"</sheetData></sheetData></worksheet>",
}


@pytest.mark.parametrize("name", list(ENDINGS))
def test_the_first_end_of_the_rows_is_found_however_the_chunks_cut_it(name):
    """Every cut within 14 bytes of each "sheetData" (chunks as the inspection gives them: all but
    the last at least 12 bytes long) finds the same end and the same verdict as one chunk."""
    doc = HEAD.encode() + ENDINGS[name]
    reference = fed(doc, [])
    for at in workbook._positions(doc, b"sheetData", len(HEAD)):
        for cut in range(max(len(HEAD) + 1, at - 14), at + 22):
            for more in ([], [cut + 12]):
                assert fed(doc, [cut, *more]) == reference, (cut - at, more)


def test_odd_chunks_raise_nothing():
    rng = random.Random(7)
    docs = [HEAD.encode() + ROWS + TAIL.encode(), b"", b"<", b"<!", b"sheetData", b"</sheetData>",
            b"<worksheet><sheetData>", HEAD.encode()[:50], HEAD.encode() + b"<!-- x -->" + ROWS + TAIL.encode()]
    for doc in docs:
        for _ in range(200):
            cuts = sorted(rng.sample(range(len(doc) + 1), min(len(doc) + 1, rng.randrange(8))))
            runs = workbook._Runs(b"", None, _Info(), SHEET, workbook._SheetScan(Limits()), Limits())
            for a, b in zip([0, *cuts], [*cuts, len(doc)], strict=True):
                runs(doc[a:b])  # (empty and one-byte chunks included)


ROWS_TEXT = "".join(row(r, num(f"A{r}", r)) for r in range(1, 200))
SHEETS = {
    "</sheetData > with a space": HEAD + ROWS_TEXT + "</sheetData ></worksheet>",
    "<sheetData a>": HEAD.replace("<sheetData>", '<sheetData a="1">') + ROWS_TEXT + TAIL,
    "<sheetData >": HEAD.replace("<sheetData>", "<sheetData >") + ROWS_TEXT + TAIL,
    "<sheetData/> only": HEAD.replace("<sheetData>", "<sheetData/>") + ROWS_TEXT + "</worksheet>",
    "<sheetData/> before": HEAD.replace("<sheetData>", "<sheetData/><sheetData>") + ROWS_TEXT + TAIL,
    "an empty x:sheetData before": HEAD.replace("<sheetData>", f'<x:sheetData xmlns:x="{NS}"></x:sheetData><sheetData>')
    + ROWS_TEXT + TAIL,
    "</sheetDataX>": HEAD + ROWS_TEXT[:3000] + "</sheetDataX>" + ROWS_TEXT[3000:] + TAIL,
    "no end": HEAD + ROWS_TEXT + "</worksheet>",
    "the end at the end of the part": HEAD + ROWS_TEXT + "</sheetData>",
    "rows after the end": HEAD + ROWS_TEXT + "</sheetData>" + row(500, num("A500", 5)) + "</worksheet>",
    "<sheetData> in an attribute of the head": HEAD.replace("<sheetData>", '<sheetPr codeName="&lt;sheetData&gt;"/>'
                                                                           "<sheetData>") + ROWS_TEXT + TAIL,
}


@pytest.mark.parametrize("name", list(SHEETS))
def test_sheetData_variants_read_the_same_in_pieces(tmp_path, both, name):
    whole, pieces, used = both
    path = xlsx(tmp_path / "a.xlsx", SHEETS[name])
    expected = whole(path)
    for cores in (2, 3, 4):
        assert pieces(path, cores) == expected, cores


@pytest.mark.parametrize("where", range(40, 160, 3))
def test_a_row_tag_in_an_attribute_value_reads_the_same(tmp_path, both, where):
    """A cut can fall inside an attribute value holding "</row><row ...>" (calamine reads the value);
    the run before it ends in an open quote or a mismatched end tag and fails (quick-xml checks end
    names), so the sheet is read whole. A max_cells under the scan's first bound makes every run
    be cut by _Runs.read, with the part's own tail (which holds quotes here)."""
    whole, pieces, used = both
    rows = [row(r, num(f"A{r}", r)) for r in range(1, 200)]
    rows[where - 1] = row(where, f"""<c r="A{where}" x='</row><row r="999">'><v>7</v></c>""")
    path = xlsx(tmp_path / "a.xlsx", HEAD + "".join(rows) + "</sheetData><foo>'/></foo><p a='1'/></worksheet>")
    for limits in (None, Limits(max_cells=13 * 199)):
        expected = whole(path, limits)
        assert pieces(path, 3, limits) == expected
