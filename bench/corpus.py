"""The benchmark's corpora, built deterministically under bench/out/ and cached.

Three corpora (docs/performance.md):

- typical:  one filled return of 市市场监管局 for 2023 — the unit's template from
            lqip.template.write_template, every indicator row filled, the tasks sheet padded to ~50
            rows with the plan's other tasks marked 不涉及, Chinese text throughout.
- returns:  1,000 filled returns across every template unit, the years 2022–2024 and the four
            reporting periods (townships under their own names), with different figures and a few
            of the usual mistakes ("300件", a blank with a reason, a missing status).
- large:    one consolidated workbook of 100,000 indicator rows (指标编号, 指标名称, 年度, 完成值,
            计量单位, 填报单位, 备注), its XML written directly (an openpyxl save of 100,000 rows
            would take longer than everything else together). Shared strings, as Excel writes them.

A corpus is rebuilt only when its key changes: GENERATOR_VERSION, the size asked for, and a hash
of lqip's template module and plan YAML (what the returns are made from).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from lqip.template import INDICATOR_SHEET

GENERATOR_VERSION = 3
TEMPLATE_INDICATOR_SHEET = INDICATOR_SHEET  # the sheet the peer validates in the typical return
YEARS = (2022, 2023, 2024)
PERIODS = ("全年", "一季度", "上半年", "前三季度")
PERIOD_SHARE = {"全年": 1.0, "一季度": 0.25, "上半年": 0.5, "前三季度": 0.75}
TYPICAL_UNIT, TYPICAL_YEAR = "市市场监管局", 2023
LARGE_SHEET = "指标完成情况"
LARGE_HEADERS = ("指标编号", "指标名称", "年度", "完成值", "计量单位", "填报单位", "备注")

# Yueqing's townships and subdistricts: the names a collective template is filled in under.
TOWNS = (
    "乐成街道", "城东街道", "城南街道", "盐盆街道", "翁垟街道", "白石街道", "石帆街道", "天成街道",
    "柳市镇", "北白象镇", "虹桥镇", "淡溪镇", "清江镇", "芙蓉镇", "雁荡镇", "大荆镇", "仙溪镇",
    "湖雾镇", "南塘镇", "南岳镇", "磐石镇", "蒲岐镇", "岭底乡", "智仁乡", "龙西乡",
)
PROGRESS = (
    "已制定年度工作计划并召开专题推进会，明确责任分工和时间节点。",
    "联合相关部门开展专项检查，累计检查企业{n}家，发现问题已督促整改。",
    "组织知识产权培训{n}场次，覆盖企业技术骨干和管理人员。",
    "完成政策宣传和企业走访，收集企业需求{n}条并逐条反馈。",
    "受疫情和项目审批进度影响，部分工作推迟，已制定赶进度措施。",
    "建立工作台账，按月跟踪进展，数据已报领导小组办公室。",
    "与温州市局对接争取试点政策支持，相关材料已上报待批复。",
    "配合牵头单位提供数据和材料，参加联席会议{n}次。",
)
NOTES = ("数据来源：业务统计系统", "数据来源：省知识产权局通报", "口径：报告期累计数", "已与牵头单位核对",
         "数据来源：温州市局反馈", "")
STATUSES = ("已完成", "推进中", "推进中", "推进中", "未启动", "滞后")


def _fingerprint() -> str:
    """What the returns are made from: lqip's template module and plan files."""
    import lqip.template

    digest = hashlib.sha256()
    sources = [Path(lqip.template.__file__)]
    sources += sorted((Path(lqip.template.__file__).parent / "config").glob("*.yaml"))
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached(directory: Path, key: dict) -> bool:
    manifest = directory / "manifest.json"
    try:
        return json.loads(manifest.read_text("utf-8")) == key
    except (OSError, ValueError):
        return False


def _stamp(directory: Path, key: dict) -> None:
    (directory / "manifest.json").write_text(json.dumps(key, ensure_ascii=False, indent=1), "utf-8")


# --- filled returns ----------------------------------------------------------------------------------


def _headers(ws, row: int) -> dict[str, int]:
    return {str(c.value).strip(): c.column for c in ws[row] if c.value not in (None, "")}


def _figure(rng: random.Random, target, unit: str, share: float, stock: bool) -> float | int:
    base = float(target) if target not in (None, "") else rng.choice((3, 8, 20, 60))
    value = base * rng.uniform(0.55, 1.45) * (1.0 if stock else share)
    if unit in ("亿元", "件/万人"):
        return round(value, 2)
    return max(0, round(value))


def fill(wb, plan, rng: random.Random, *, period: str = "全年", reporter: str | None = None,
         mistakes: bool = False, pad_tasks_to: int = 0, all_indicators: bool = False) -> None:
    """Fill a template workbook in place: info, every indicator figure, every task's status and text."""
    from lqip.plan import Kind
    from lqip.template import HEADER_ROW, INDICATOR_SHEET, INFO_SHEET, TASK_SHEET

    share = PERIOD_SHARE[period]
    info = wb[INFO_SHEET]
    for row in info.iter_rows(min_row=HEADER_ROW + 1, max_col=2):
        key, cell = row[0].value, row[1]
        if key == "填报单位" and reporter:
            cell.value = reporter
        elif key == "报告期":
            cell.value = period
        elif key == "填报人":
            cell.value = rng.choice(("王晓燕", "陈建国", "林丽华", "张伟", "郑海峰", "黄静"))
        elif key == "联系电话":
            cell.value = f"0577-6{rng.randrange(1000000, 9999999)}"
        elif key == "填报日期":
            cell.value = f"{rng.choice(YEARS) + 1}-01-{rng.randrange(3, 10):02d}"

    ws = wb[INDICATOR_SHEET]
    col = _headers(ws, HEADER_ROW)
    rows = list(range(HEADER_ROW + 1, ws.max_row + 1))
    seen = {ws.cell(r, col["指标编号"]).value for r in rows}
    if all_indicators:  # the plan's other indicators, listed and left blank with a reason
        year = ws.cell(rows[0], col["年度"]).value if rows else TYPICAL_YEAR
        for ind in plan.indicators:
            if ind.id in seen:
                continue
            r = ws.max_row + 1
            for name, value in (("指标编号", ind.id), ("指标名称", ind.name), ("年度", year),
                                ("计量单位", ind.unit), ("备注", "非本单位牵头或配合指标，不涉及")):
                if name in col:
                    ws.cell(r, col[name], value)
    odd = rng.randrange(len(rows)) if mistakes and rows else -1
    odd_kind = rng.choice(("text", "blank", "about")) if odd >= 0 else ""
    for i, r in enumerate(rows):
        ind = plan.indicator_by_id.get(ws.cell(r, col["指标编号"]).value)
        if ind is None:
            continue
        unit = ws.cell(r, col["计量单位"]).value or ind.unit
        value = _figure(rng, ws.cell(r, col["目标值"]).value if "目标值" in col else None, unit, share,
                        ind.kind is Kind.STOCK)
        note = rng.choice(NOTES)
        if i == odd and odd_kind == "text":
            value = f"{value}{unit}"
        elif i == odd and odd_kind == "about":
            value = f"约{value}"
        elif i == odd:
            value, note = None, "统计数据尚未发布，待省局通报后补报"
        ws.cell(r, col["完成值"], value)
        ws.cell(r, col["备注"], note or None)

    ws = wb[TASK_SHEET]
    col = _headers(ws, HEADER_ROW)
    rows = list(range(HEADER_ROW + 1, ws.max_row + 1))
    for r in rows:
        status = rng.choice(STATUSES)
        text = "".join(rng.sample(PROGRESS, 2)).format(n=rng.randrange(2, 40))
        if mistakes and rng.random() < 0.03:
            status = None
        ws.cell(r, col["进展状态"], status)
        ws.cell(r, col["完成情况"], text)
    if pad_tasks_to:
        listed = {ws.cell(r, col["任务编号"]).value for r in rows}
        for task in plan.tasks:
            if ws.max_row - HEADER_ROW >= pad_tasks_to:
                break
            if task.id in listed:
                continue
            r = ws.max_row + 1
            values = {"任务编号": task.id, "重点工作": plan.task_place[task.id][1].name, "主要内容": task.content,
                      "责任类型": "—", "完成情况": "非本单位牵头或配合任务，不涉及"}
            for name, value in values.items():
                if name in col:
                    ws.cell(r, col[name], value)


def _load(data: bytes):
    import io

    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(data))


def build_typical(out: Path, plan) -> Path:
    """The typical return: 市市场监管局's 2023 template, filled (~20 indicator rows, ~50 task rows)."""
    from lqip.model import Period
    from lqip.template import write_template

    directory = out / "typical"
    key = {"version": GENERATOR_VERSION, "fingerprint": _fingerprint()}
    path = directory / f"{TYPICAL_YEAR}_{TYPICAL_UNIT}_填报表.xlsx"
    if _cached(directory, key) and path.exists():
        return path
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    blank = directory / "template.xlsx"
    write_template(plan, TYPICAL_UNIT, TYPICAL_YEAR, Period.FY, blank, force=True)
    wb = _load(blank.read_bytes())
    fill(wb, plan, random.Random(20231), pad_tasks_to=50, all_indicators=True)
    wb.save(path)
    blank.unlink()
    _stamp(directory, key)
    return path


def build_returns(out: Path, plan, count: int) -> Path:
    """`count` filled returns: every template unit × 2022–2024, round robin, four periods, townships."""
    from lqip.model import Period
    from lqip.template import template_units, write_template

    directory = out / f"returns-{count}"
    key = {"version": GENERATOR_VERSION, "fingerprint": _fingerprint(), "count": count}
    if _cached(directory, key):
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    units = template_units(plan)
    combos = [(unit, year) for year in YEARS for unit in units]
    blanks: dict[tuple[str, int], bytes] = {}
    scratch = directory / "_template.xlsx"
    for i in range(count):
        unit, year = combos[i % len(combos)]
        k = i // len(combos)
        if (unit, year) not in blanks:
            write_template(plan, unit, year, Period.FY, scratch, force=True)
            blanks[(unit, year)] = scratch.read_bytes()
        rng = random.Random(i * 7919 + year)
        period = PERIODS[k % len(PERIODS)]
        collective = plan.unit_by_name[unit].collective if unit in plan.unit_by_name else False
        reporter = TOWNS[(k + i) % len(TOWNS)] if collective else None
        wb = _load(blanks[(unit, year)])
        fill(wb, plan, rng, period=period, reporter=reporter, mistakes=rng.random() < 0.15)
        name = f"{i:04d}_{year}_{period}_{reporter or unit}_填报表.xlsx"
        (directory / str(year)).mkdir(exist_ok=True)
        wb.save(directory / str(year) / name)
    scratch.unlink(missing_ok=True)
    _stamp(directory, key)
    return directory


# --- the consolidated workbook ----------------------------------------------------------------------


def _town_names(n: int) -> list[str]:
    """n distinct township-like names (they end in 镇/乡/街道, so the plan reads them as members)."""
    first = "东南西北上下中新大小白石清龙凤金银安和平兴华光明永长高云山水"
    second = "江河湖溪塘岭岙浦洋桥门头垟岩林田港屿坑湾岗洞村口"
    names = list(TOWNS)
    for a in first:
        for b in second:
            for c in first:
                for suffix in ("镇", "乡", "街道"):
                    names.append(f"{a}{b}{c}{suffix}")
    rng = random.Random(7)
    head, tail = names[: len(TOWNS)], names[len(TOWNS):]
    rng.shuffle(tail)
    return (head + tail)[:n]


def large_rows(plan, rows: int):
    """The consolidated workbook's data rows: departments first, then township after township.

    Each (reporter, indicator, year) appears once and belongs to a unit that answers for it, so the
    checker's findings are the deliberate ones: ~6% figures with their unit ("12件"), ~2% "约N",
    ~3% blanks with a reason, ~2% numbers stored as text.
    """
    from lqip.plan import Kind

    rng = random.Random(100_000)
    by_id = plan.indicator_by_id
    out = []

    def emit(reporter: str, ind, year: int, base: float, stock_level: dict) -> None:
        if ind.kind is Kind.STOCK:
            level = stock_level.get(ind.id, base) * rng.uniform(1.0, 1.12)
            stock_level[ind.id] = level
            value = level
        else:
            value = base * rng.uniform(0.5, 1.5)
        value = round(value, 2) if ind.unit in ("亿元", "件/万人") else max(0, round(value))
        note = rng.choice(NOTES)
        roll = rng.random()
        if roll < 0.06:
            value = f"{value}{ind.unit}"
        elif roll < 0.08:
            value = f"约{value}"
        elif roll < 0.11:
            value, note = None, "暂无统计数据"
        elif roll < 0.13:
            value = str(value)
        out.append((ind.id, ind.name, year, value, ind.unit, reporter, note))

    for ind in plan.indicators:
        for unit in plan.indicator_units(ind):
            if unit not in plan.unit_by_name or plan.unit_by_name[unit].collective:
                continue
            levels: dict = {}
            for year in YEARS:
                emit(unit, ind, year, plan.target(ind, year) or 10, levels)
    town_indicators = [ind for ind in plan.indicators
                       if any(u in plan.unit_by_name and plan.unit_by_name[u].collective
                              for u in plan.indicator_units(ind))]
    per_town = len(town_indicators) * len(YEARS)
    towns = _town_names(max(0, (rows - len(out)) // per_town + 1))
    for town in towns:
        levels = {}
        for year in YEARS:
            for ind in town_indicators:
                target = plan.target(ind, year) or 10
                emit(town, ind, year, max(1.0, target / 40), levels)
    del by_id
    return out[:rows]


def _col(index: int) -> str:
    from lqip.workbook import column_letter

    return column_letter(index)


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>"""


def write_xlsx(path: Path, sheet: str, header: tuple, rows: list[tuple]) -> None:
    """A one-sheet .xlsx with shared strings, its XML written by hand (fast for 100,000 rows)."""
    strings: dict[str, int] = {}

    def cell(ref: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<c r="{ref}"><v>{value}</v></c>'
        index = strings.setdefault(str(value), len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    letters = [_col(i) for i in range(len(header))]
    parts = []
    for r, row in enumerate([header, *rows], start=1):
        cells = "".join(cell(f"{letters[c]}{r}", v) for c, v in enumerate(row))
        parts.append(f'<row r="{r}">{cells}</row>')
    last = f"{letters[-1]}{len(rows) + 1}"
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}"/><sheetData>{"".join(parts)}</sheetData></worksheet>'
    )
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    shared_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>'
    )
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(name=escape(sheet)))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/sharedStrings.xml", shared_xml)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    tmp.replace(path)


def build_large(out: Path, plan, rows: int) -> Path:
    """The consolidated workbook of `rows` indicator rows (cached by generator version and size)."""
    directory = out / "large"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"汇总_{rows}行.xlsx"
    key = {"version": GENERATOR_VERSION, "fingerprint": _fingerprint(), "rows": rows}
    stamp = directory / f"manifest-{rows}.json"
    try:
        if json.loads(stamp.read_text("utf-8")) == key and path.exists():
            return path
    except (OSError, ValueError):
        pass
    write_xlsx(path, LARGE_SHEET, LARGE_HEADERS, large_rows(plan, rows))
    stamp.write_text(json.dumps(key), "utf-8")
    return path


def build_all(out: Path, returns: int, rows: int, log=print) -> dict[str, Path]:
    """Every corpus, built or reused; returns their paths."""
    import time

    from lqip.plan import load_plan

    plan = load_plan()
    paths = {}
    for name, build, stamp in (
        ("typical", lambda: build_typical(out, plan), out / "typical" / "manifest.json"),
        ("returns", lambda: build_returns(out, plan, returns), out / f"returns-{returns}" / "manifest.json"),
        ("large", lambda: build_large(out, plan, rows), out / "large" / f"manifest-{rows}.json"),
    ):
        before = stamp.stat().st_mtime_ns if stamp.exists() else None
        start = time.perf_counter()
        paths[name] = build()
        took = time.perf_counter() - start
        fresh = not stamp.exists() or stamp.stat().st_mtime_ns != before
        log(f"  {'built' if fresh else 'reused'} {name}: {paths[name]}" + (f" ({took:.1f} s)" if fresh else ""))
    return paths
