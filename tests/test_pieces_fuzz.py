"""Differential fuzz of the read in pieces (workbook._Runs): many small hand-written workbooks, each
read whole and in pieces, must give the same cells (values, positions, row count, row widths, merged
ranges filled) or the same refusal code.

The size threshold is lowered (_PIECEWISE = 1) so that every sheet part takes the path, and a few
cases are over 1 MB so that the inspection feeds the part in chunks (runs then start while the
inspection goes on, from the last chunk seen). The seed is fixed.

The tests at the end are concrete discrepancies a review of the change found (since fixed): a second
<sheetData>, rows in another element after it, a comment before the rows, and a run parsing parts the
inspection had not yet verified.
"""

from __future__ import annotations

import random
import threading
import zipfile
from pathlib import Path

import pytest
from helpers import XLSX_CONTENT_TYPES, XLSX_ONE_SHEET_WORKBOOK, XLSX_ROOT_RELS
from pieces_support import force_pieces, num, outcome, watch_reads, whole, write_parts
from test_workbook_speed import HEAD, NS, REL, TAIL, WBRELS, inline, xlsx

import lqip.workbook as workbook
from lqip.workbook import Limits

SEED = 20261125
SMALL_CASES = 600
LATE_CASES = 150
BIG_CASES = 4

STYLES = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}"><numFmts count="1">'
          '<numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
          '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
          '<xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="10" applyNumberFormat="1"/></cellXfs>'
          '</styleSheet>')
STRINGS = ["甲", "乙 丙", "a&amp;b", "x&lt;y", "!?", "<r><t>富</t></r><r><t>文本</t></r>", "", " 空格 ", "--&gt;"]
TEXTS = ["文本", "a", "好!真的?", "&amp;", "&lt;row&gt;", "]]&gt;", "--&gt;", " ", "", "x" * 40, "第\n二行",
         "1.5", "TRUE", "#N/A"]


# --- reading both ways -------------------------------------------------------------------------------


@pytest.fixture
def both(monkeypatch):
    """(whole, pieces, used): readers of a path, whole or in pieces on `cores` cores; `used` lists what
    each _Runs.read gave (pieces_support.watch_reads)."""
    used = watch_reads(monkeypatch)

    def pieces(path: Path, cores: int, limits: Limits | None = None):
        force_pieces(monkeypatch, cores)
        return outcome(path, limits)

    return whole, pieces, used


# --- writing a workbook by hand ----------------------------------------------------------------------


def write_book(path: Path, parts: list[tuple[str, bytes]], names: list[tuple[str, int]], strings: list[str],
               rng: random.Random, absolute: bool = False) -> Path:
    """A workbook of sheet `parts` (zip name, bytes), sheet `names` (name, index of its part), the
    shared `strings` and STYLES; parts stored or deflated at random, in a random order after the
    structural ones."""
    sheets = "".join(f'<sheet name="{name}" sheetId="{k + 1}" r:id="rId{k + 1}"/>' for k, (name, _) in enumerate(names))
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>{sheets}'
            '</sheets></workbook>')

    def target(part: str) -> str:
        return "/" + part if absolute else part.removeprefix("xl/")

    rels = "".join(f'<Relationship Id="rId{k + 1}" Type="{REL}/worksheet" Target="{target(parts[i][0])}"/>'
                   for k, (_, i) in enumerate(names))
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships">{rels}<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rIdT" Type="{REL}/styles" Target="styles.xml"/></Relationships>')
    others = [("xl/sharedStrings.xml", (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">'
                                        + "".join(f"<si><t>{s}</t></si>" if not s.startswith("<r>") else f"<si>{s}</si>"
                                                  for s in strings) + "</sst>").encode()),
              ("xl/styles.xml", STYLES.encode()), *parts]
    rng.shuffle(others)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", XLSX_CONTENT_TYPES, zipfile.ZIP_DEFLATED)
        z.writestr("_rels/.rels", XLSX_ROOT_RELS, zipfile.ZIP_DEFLATED)
        z.writestr("xl/workbook.xml", book, zipfile.ZIP_DEFLATED)
        z.writestr("xl/_rels/workbook.xml.rels", rels, zipfile.ZIP_DEFLATED)
        for name, data in others:
            z.writestr(name, data, rng.choice((zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED)))
    return path


def column(index: int) -> str:
    return workbook.column_letter(index)


class SheetGen:
    """One random sheet part. Every cell carries its reference unless `unplaced` (the inspection then
    leaves the part to the whole read); `hazards` puts in things the pieces must refuse to cut
    through (comments, CDATA, processing instructions, "<" in attribute values)."""

    def __init__(self, rng: random.Random, strings: int, rows: int | None = None, wide: bool = False):
        self.rng = rng
        self.strings = strings
        self.rows = rows if rows is not None else rng.choice((1, 3, 8, 20, 40, 60, 100, 150, 300))
        self.plain = rng.random() < 0.6  # every cell <c r="B7" ...> with a value: the bounding pass vouches
        self.wide = wide
        self.narrow = False  # at most 12 columns, from A
        self.prefix = rng.random() < 0.12  # x:row, x:c under a default-namespace root, or an x: root
        self.x_root = self.prefix and rng.random() < 0.5
        self.hazards = rng.random() < 0.12
        self.unplaced = rng.random() < 0.05

    def cell(self, ref: str) -> str:
        rng = self.rng
        kind = rng.choice((2, 3, 4, 13, 13, 13) if self.plain else range(15))
        s = rng.choice(("", "", ' s="1"', ' s="2"', ' s="3"', ' s="0"'))
        if kind == 0:
            return f'<c r="{ref}"{s}/>'  # self-closing: no value
        if kind == 1:
            return f'<c r="{ref}"{s}><v></v></c>'
        if kind == 2:
            return inline(ref, rng.choice(TEXTS))
        if kind == 3:
            return f'<c r="{ref}" t="s"><v>{rng.randrange(self.strings)}</v></c>'
        if kind == 4:
            return f'<c r="{ref}" t="b"><v>{rng.randrange(2)}</v></c>'
        if kind == 5:
            return f'<c r="{ref}" t="e"><v>{rng.choice(("#N/A", "#DIV/0!", "#REF!"))}</v></c>'
        if kind == 6:
            return f'<c r="{ref}" t="str"><f>A1&amp;"x"</f><v>{rng.choice(TEXTS)}</v></c>'
        if kind == 7:
            si = rng.randrange(3)
            head = f'<f t="shared" ref="{ref}:{ref}" si="{si}">B1*2</f>' if rng.random() < 0.5 else f'<f t="shared" si="{si}"/>'
            return f'<c r="{ref}"{s}>{head}<v>{rng.randrange(100)}</v></c>'
        if kind == 8:
            return f'<c r="{ref}"{s}><f>SUM(A1:A2)</f></c>'  # a formula without a cached value
        if kind == 9:
            return f"<c r='{ref}'{s}><v>{rng.uniform(-1e6, 1e6)!r}</v></c>"  # single quotes
        if kind == 10:
            return f'<c{s} r="{ref}"><v>{rng.randrange(40000, 50000)}</v></c>'  # r not first
        if kind == 11:
            return f'<c r="{ref}" t="n"{s}>\n  <v>{rng.choice(("0", "-0", "1e3", "45000.5", "1E-5"))}</v>\n</c>'
        if kind == 12:
            return f'<c r="{ref}" t="inlineStr"><is><r><t>富</t></r><r><rPr><b/></rPr><t>{rng.choice(TEXTS)}</t></r></is></c>'
        return f'<c r="{ref}"{s}><v>{rng.randrange(-5, 10 ** rng.randrange(1, 9))}</v></c>'

    def row_numbers(self) -> list[int]:
        rng = self.rng
        first = rng.choice((1, 1, 1, 2, 5, 30, 120 if not self.narrow else 3))
        numbers, r = [], first
        for _ in range(self.rows):
            numbers.append(r)
            r += rng.choice((1, 1, 1, 1, 2, 3, 10, 40 if not self.wide else 1))
        roll = rng.random()
        if roll < 0.06:  # rows written out of order
            i, j = sorted(rng.sample(range(len(numbers)), 2)) if len(numbers) > 1 else (0, 0)
            numbers[i], numbers[j] = numbers[j], numbers[i]
        elif roll < 0.09:
            numbers.reverse()
        elif roll < 0.13 and numbers:  # a row written twice
            numbers.insert(rng.randrange(len(numbers) + 1), rng.choice(numbers))
        return numbers

    def row(self, r: int) -> str:
        rng = self.rng
        p = "x:" if self.prefix and rng.random() < 0.7 else ""
        attrs = f' r="{r}"' if rng.random() < 0.9 else ""  # a row without r: its cells are placed by theirs
        if rng.random() < 0.3:
            attrs += f' spans="1:{rng.randrange(1, 30)}"'
        if rng.random() < 0.1:
            attrs += ' ht="20" customHeight="1" hidden="1"'
        if rng.random() < 0.08:
            return f"<{p}row{attrs}/>" if rng.random() < 0.5 else f"<{p}row{attrs}></{p}row>"
        width = rng.choice((1, 2, 3, 5, 8)) if not self.wide else rng.randrange(10, 30)
        left = 0 if self.narrow else rng.choice((0, 1, 2)) if self.wide else \
            rng.choice((0, 0, 0, 1, 2, 7, 26, 700 if self.rows <= 20 else 3))
        cols = sorted(rng.sample(range(left, left + width * 2), width)) if not self.narrow else \
            sorted(rng.sample(range(12), min(width, 12)))
        if rng.random() < 0.08:
            rng.shuffle(cols)  # cells out of order in the row
        if rng.random() < 0.05:
            cols.append(cols[0])  # a cell written twice
        cells = []
        for c in cols:
            cell = self.cell(f"{column(c)}{r}")
            if p:
                cell = cell.replace("<c", f"<{p}c").replace("</c>", f"</{p}c>")
            cells.append(cell)
        if self.unplaced and rng.random() < 0.2:
            cells.append("<c><v>5</v></c>")
        if self.hazards and rng.random() < 0.15:
            cells.insert(0, rng.choice(('<c r="A1" x=\'</row><row r="9">\'><v>1</v></c>'.replace("A1", f"AD{r}"),
                                        "<!-- </row><row r=\"3\"> -->", "<?pi </row><row?>")))
        return f"<{p}row{attrs}>{''.join(cells)}</{p}row>"

    def xml(self) -> bytes:
        rng = self.rng
        sep = rng.choice(("", "", "", "\n", "\r\n", " \t\n "))
        rows = [self.row(r) for r in self.row_numbers()]
        if self.hazards and rows and rng.random() < 0.5:
            rows.insert(rng.randrange(len(rows) + 1), rng.choice(("<!-- a comment -->", "<![CDATA[</row><row>]]>",
                                                                 "<?target data?>")))
        head = ""
        if rng.random() < 0.3:
            head += '<sheetPr><outlinePr summaryBelow="0"/></sheetPr>'
        if rng.random() < 0.3:
            head += f'<dimension ref="{rng.choice(("A1", "B2:C3", "A1:XFD1048576", "C3:D10"))}"/>'
        if rng.random() < 0.2:
            head += '<sheetViews><sheetView workbookViewId="0"/></sheetViews><cols><col min="1" max="3" width="9"/></cols>'
        if rng.random() < 0.1:
            head += "<!-- a comment before the rows -->"
        tail = ""
        if rng.random() < 0.4:
            ranges = []
            for _ in range(rng.randrange(1, 4)):
                r0, c0 = rng.randrange(1, 40), rng.randrange(0, 6)
                ranges.append(f'<mergeCell ref="{column(c0)}{r0}:{column(c0 + rng.randrange(3))}{r0 + rng.randrange(4)}"/>')
            tail += f'<mergeCells count="{len(ranges)}">{"".join(ranges)}</mergeCells>'
        if rng.random() < 0.3:
            tail += '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        decl = rng.choice(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n', "", '<?xml version="1.0"?>'))
        if self.x_root:
            text = (f'{decl}<x:worksheet xmlns:x="{NS}">{head.replace("<", "<x:").replace("<x:/", "</x:")}'
                    f'<x:sheetData>{sep.join(rows)}</x:sheetData>{tail}</x:worksheet>')
            text = text.replace("<x:!--", "<!--")
        else:
            ns = f' xmlns:x="{NS}"' if self.prefix else ""
            text = f'{decl}<worksheet xmlns="{NS}"{ns}>{head}<sheetData>{sep}{sep.join(rows)}{sep}</sheetData>{tail}</worksheet>'
        roll = rng.random()
        if roll < 0.05:
            return b"\xef\xbb\xbf" + text.encode()  # a BOM
        if roll < 0.08:
            return text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        return text.encode()


PART_NAMES = ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/data.xml",
              "xl/sheets/Sheet Two.xml", "xl/worksheets/表1.xml"]


def random_book(path: Path, rng: random.Random, big: bool = False) -> tuple[Path, int]:
    strings = [rng.choice(STRINGS) for _ in range(rng.randrange(1, 12))]
    count = 1 if big else rng.choice((1, 1, 1, 2, 3))
    parts = []
    for k in range(count):
        gen = SheetGen(rng, len(strings), rows=rng.randrange(5000, 9000) if big else None, wide=big)
        if big:
            gen.prefix = gen.x_root = gen.unplaced = False  # (a big case is meant to be read in pieces)
            gen.hazards = rng.random() < 0.3
        parts.append((PART_NAMES[k] if k or rng.random() < 0.7 else rng.choice(PART_NAMES[3:]), gen.xml()))
    names = [(f"表{k}", k) for k in range(count)]
    if rng.random() < 0.1:
        names.append(("同一部件", 0))  # two names, one part
    rng.shuffle(names)
    suffix = ".xlsm" if rng.random() < 0.15 else ".xlsx"
    write_book(path.with_suffix(suffix), parts, names, strings, rng, absolute=rng.random() < 0.2)
    return path.with_suffix(suffix), rng.choice((2, 3, 4, 8))


def test_small_random_workbooks_read_the_same_in_pieces(tmp_path, both):
    whole, pieces, used = both
    rng = random.Random(SEED)
    differences = []
    for case in range(SMALL_CASES):
        path, cores = random_book(tmp_path / f"case{case}", rng)
        # (mostly none; with max_cells=20_000 the scan's first bound, 26 columns a row, is often over
        # the limit where the exact measure is not: no run then starts during the inspection, every
        # run is cut when the sheet is asked for, with the part's own tail)
        limits = rng.choice((None,) * 6 + (Limits(max_rows=200), Limits(max_cells=20_000), Limits(max_cells=20_000),
                                           Limits(max_cell_chars=30)))
        expected = whole(path, limits)
        got = pieces(path, cores, limits)
        if got != expected:
            differences.append((case, path.name, cores, limits))
    assert not differences
    assert used.count(True) >= SMALL_CASES // 5, used  # (the pieces were read often enough to mean something)


def test_runs_cut_only_when_the_sheet_is_asked_for_read_the_same(tmp_path, both):
    """A limit on cells under the scan's first bound (26 columns a row) but over the exact measure: no
    run starts during the inspection, and every run is cut by _Runs.read, each with the part's own
    tail (its merged ranges too)."""
    whole, pieces, used = both
    rng = random.Random(SEED + 2)
    differences = []
    for case in range(LATE_CASES):
        strings = [rng.choice(STRINGS) for _ in range(4)]
        gen = SheetGen(rng, len(strings), rows=rng.randrange(20, 200))
        gen.prefix = gen.x_root = gen.unplaced = False
        gen.narrow = True
        path = write_book(tmp_path / f"late{case}.xlsx", [("xl/worksheets/sheet1.xml", gen.xml())], [("表", 0)],
                          strings, rng)
        rows = whole(path)
        if not isinstance(rows, dict):
            continue
        height = len(rows["表"])
        limits = Limits(max_cells=max(13 * height, 1))
        expected = whole(path, limits)
        got = pieces(path, rng.choice((2, 3, 4)), limits)
        if got != expected:
            differences.append((case, limits))
    assert not differences
    assert used.count(True) >= LATE_CASES // 3, used


def test_big_random_workbooks_read_in_chunks_the_same_in_pieces(tmp_path, both):
    """Sheet parts over 1 MB: the inspection feeds them in chunks and the runs start from the last
    chunk seen, while the inspection goes on."""
    whole, pieces, used = both
    rng = random.Random(SEED + 1)
    for case in range(BIG_CASES):
        path, cores = random_book(tmp_path / f"big{case}", rng, big=True)
        with zipfile.ZipFile(path) as z:
            assert max(i.file_size for i in z.infolist()) > 1 << 20
        expected = whole(path)
        assert isinstance(expected, dict)
        assert pieces(path, min(cores, 4)) == expected, (case, cores)
    assert True in used


# --- discrepancies found in the first review (fixed) -------------------------------------------------


def rows_of(outcome_: dict | str):
    return outcome_ if isinstance(outcome_, str) else list(outcome_.values())[0]


def test_a_second_sheetData_reads_as_calamine_reads_the_whole(tmp_path, both):
    """Found in review (fixed). calamine stops at the first </sheetData>: the whole read gives rows 1-2 only.
    _Runs.read takes the *last* </sheetData> (rfind) as the end of the rows, so the runs after the
    first </sheetData> are read as rows of their own piece (whose head ends with <sheetData>):
    the pieces give rows 1-4 (the row right after the second <sheetData> lost or not, as the cut falls)."""
    whole, pieces, used = both
    sheet = HEAD + "".join(f'<row r="{r}">{num(f"A{r}", r)}</row>' for r in (1, 2)) + "</sheetData><sheetData>" \
        + "".join(f'<row r="{r}">{num(f"A{r}", r)}</row>' for r in (3, 4)) + TAIL
    path = xlsx(tmp_path / "a.xlsx", sheet)
    expected = whole(path)
    assert rows_of(expected) == [[1.0], [2.0]]
    assert pieces(path, 2) == expected  # (was: the discrepancy above)


def test_rows_in_another_element_after_sheetData_are_not_cells(tmp_path, both):
    """Found in review (fixed). Well-formed XML: rows inside a foreign element after </sheetData>, then an
    empty <sheetData></sheetData>. calamine reads the first sheetData only (rows 1-3). The early runs
    are cut anywhere the scan has passed (not only before the first </sheetData>) and read.rfind finds
    the empty sheetData's end: the rows of <foo> become cells of the pieces (rows up to 40 appear)."""
    whole, pieces, used = both
    real = "".join(f'<row r="{r}">{num(f"A{r}", r)}</row>' for r in range(1, 4))
    foreign = "".join(f'<row r="{r}">{num(f"A{r}", 1000 + r)}</row>' for r in range(10, 41))
    sheet = HEAD + real + "</sheetData><foo>" + foreign + "</foo><sheetData></sheetData></worksheet>"
    path = xlsx(tmp_path / "a.xlsx", sheet)
    expected = whole(path)
    assert rows_of(expected) == [[1.0], [2.0], [3.0]]
    assert pieces(path, 2) == expected  # (was: the discrepancy above)


def test_a_comment_before_the_rows_can_hide_the_sheetData_the_runs_start_from(tmp_path, both):
    """Found in review (fixed). Well-formed XML: a comment holding "<sheetData>" before the real one. _Runs
    takes the first "<sheetData>" bytes as the end of the head, and looks for "<!" and "<?" only
    after it: every run but the first then starts inside that comment. A "-->" in a cell's text ends
    it, the end tags after it close the <ext> elements (calamine does not check end-tag names) and
    the run's rows are read outside any sheetData: no cells. The pieces give the first run's rows
    only (9 of 30 with 2 cores), silently."""
    whole, pieces, used = both
    head = HEAD.replace("<sheetData>", "<ext><ext><ext><ext><ext><!-- <sheetData> --></ext></ext></ext></ext></ext>"
                                       "<sheetData>")
    body = "".join(f'<row r="{r}">{inline(f"A{r}", "-->")}{num(f"B{r}", r)}</row>' for r in range(1, 31))
    path = xlsx(tmp_path / "a.xlsx", head + body + TAIL)
    expected = whole(path)
    assert len(rows_of(expected)) == 30
    assert pieces(path, 2) == expected  # (was: the discrepancy above)


def test_no_piece_is_parsed_from_parts_the_inspection_has_not_verified(tmp_path, both, monkeypatch):
    """Found in review (fixed). A run starts while the inspection goes on, and its copy of the workbook holds
    every other part as the original stores it, verified or not: here xl/sharedStrings.xml, after
    the sheet in the zip (as Excel writes it), declares a DTD. The inspection refuses the file (F003),
    but a thread has already handed the copy to calamine (shared strings and styles parsed, once per
    run), and it runs on after open_book has raised. (With a shared-strings part over the count limit
    and the worker's memory cap, such an orphaned thread was seen to abort the process.)"""
    whole, pieces, used = both
    sheet = HEAD + "".join(f'<row r="{r}">{num(f"A{r}", r)}<c r="B{r}" t="s"><v>0</v></c></row>'
                           for r in range(1, 300)) + TAIL
    strings = (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE sst [<!ENTITY e "x">]><sst xmlns="{NS}">'
               "<si><t>&e;</t></si></sst>")
    path = write_parts(tmp_path / "a.xlsx", [
        ("[Content_Types].xml", XLSX_CONTENT_TYPES), ("_rels/.rels", XLSX_ROOT_RELS),
        ("xl/workbook.xml", XLSX_ONE_SHEET_WORKBOOK), ("xl/_rels/workbook.xml.rels", WBRELS),
        ("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)])
    assert whole(path) == "F003"
    parsed = []
    real = workbook._calamine_file
    monkeypatch.setattr(workbook, "_calamine_file", lambda pieces_: parsed.append(1) or real(pieces_))
    assert pieces(path, 2) == "F003"
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            thread.join(10)
    assert parsed == []  # (was: the discrepancy above)
