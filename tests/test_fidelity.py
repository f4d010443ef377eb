"""Fidelity of the shipped plan config to the published document.

The document (乐政办发〔2022〕69号) is kept byte for byte in tests/fixtures/plan_seed.txt. These tests
parse its Annex 1 (责任分解表), Annex 2 (阶段性目标任务) and the totals of section 二 with a few lines of
code and compare them with lqip/config/*.yaml read by plain `yaml.safe_load` (lqip itself is not
imported). Any changed number, unit name or task text in the YAML makes a test fail and the test id
names the indicator (I01…) or task (T01…).

The decisions the document does not make (kinds, aggregation, indicator ↔ task links, ids) come from
the project's spec (shared/spec/plan.md) and are written out below as PLAN_* tables.

Set LQIP_FIDELITY_DIR to check another copy of the two YAML files (default: lqip/config).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "plan_seed.txt"
SEED_SHA256 = "ffd87240fb9bbcd99a60610409f41cc0ffd0d7ea4449759dc8847dfe7ee71e07"
CONFIG_DIR = Path(os.environ.get("LQIP_FIDELITY_DIR") or ROOT / "lqip" / "config")

# --- decisions taken in plan.md (the document is silent on these) -----------------------------------

INDICATOR_IDS = [f"I{n:02d}" for n in range(1, 19)]
TASK_IDS = [f"T{n:02d}" for n in range(1, 49)]
STOCKS = {"I02", "I03", "I15"}
SUMMED = {"I07"}
PLAN_LINKS = {  # indicator -> (linked tasks, leads per plan.md's table)
    "I01": (["T02"], {"市市场监管局"}),
    "I02": (["T06"], {"市科技局"}),
    "I03": (["T07"], {"市市场监管局"}),
    "I04": (["T09"], {"市市场监管局"}),
    "I05": (["T03"], {"市委宣传部"}),
    "I06": (["T11"], {"市法院"}),
    "I07": (["T21"], {"市司法局", "市市场监管局"}),
    "I08": (["T18"], {"市市场监管局"}),
    "I09": (["T18"], {"市市场监管局"}),
    "I10": (["T35"], {"市市场监管局", "市人行", "市银保监组"}),
    "I11": (["T29"], {"市科技局"}),
    "I12": (["T05"], {"市市场监管局"}),
    "I13": (["T05"], {"市市场监管局"}),
    "I14": (["T04"], {"市市场监管局"}),
    "I15": (["T39"], {"市市场监管局"}),
    "I16": (["T40"], {"市市场监管局"}),
    "I17": (["T44", "T48"], {"市市场监管局"}),
    "I18": (["T10"], {"市市场监管局"}),
}
PLAN_PROJECTS = {
    "P1": ["K01", "K02", "K03"],
    "P2": ["K04", "K05", "K06", "K07"],
    "P3": ["K08", "K09", "K10"],
    "P4": ["K11", "K12", "K13"],
}
PLAN_KEY_WORKS = {  # key work -> (first task, last task)
    "K01": (1, 3),
    "K02": (4, 6),
    "K03": (7, 10),
    "K04": (11, 15),
    "K05": (16, 20),
    "K06": (21, 25),
    "K07": (26, 28),
    "K08": (29, 31),
    "K09": (32, 34),
    "K10": (35, 38),
    "K11": (39, 42),
    "K12": (43, 45),
    "K13": (46, 48),
}
MEASURES = {"件": True, "件/万人": False, "个": True, "家": True, "人次": True, "亿元": False}
UNIT_NAMES = {"I02": "件/万人"}  # where the unit is not the one the document writes next to the figure
# Aliases plan.md requires (canonical unit -> spellings a return may use).
REQUIRED_UNIT_ALIASES = {
    "市委宣传部": ["市新闻出版局", "市委宣传部（市新闻出版局）"],
    "市委组织部": ["市委人才办", "市委组织部（市委人才办）"],
    "市市场监管局": ["乐清市市场监督管理局"],
    "市法院": ["乐清市人民法院"],
    "市检察院": ["乐清市人民检察院"],
    "市人行": ["中国人民银行乐清市支行"],
}
# Annex 1 writes these two units with their second name in brackets; the bracket is an alias.
BRACKETED_UNITS = {"市委宣传部（市新闻出版局）": "市委宣传部", "市委组织部（市委人才办）": "市委组织部"}
COLLECTIVES = {"各乡镇（街道）", "有关乡镇（街道）"}
# Where each plan total stands in the document: (section, phrase just before the figure).
TOTAL_PHRASES = {
    "I01": ("二", "发明专利授权量"),
    "I02": ("二", "每万人高价值发明专利拥有量"),
    "I03": ("二", "有效注册商标量"),
    "I04": ("二", "集体商标申请量"),
    "I05": ("二", "计算机软件等版权登记量"),
    "I06": ("二", "知识产权司法诉讼案件一审审结"),
    "I07": ("二", "知识产权调解案件数量"),
    "I08": ("二", "建成省级商业秘密保护基地"),
    "I09": ("二", "市级基地"),
    "I10": ("二", "新增知识产权质押融资授信"),
    "I11": ("二", "实施发明专利产业化项目"),
    "I12": ("二", "培育国家、省知识产权优势示范企业"),
    "I13": ("二", "乐清市知识产权示范企业"),
    "I14": ("二", "新增贯标企业"),
    "I15": ("二", "数量（含分支机构）"),
    "I16": ("二", "新增浙江省品牌指导服务站"),
    "I17": ("二", "培训知识产权人才"),
    "I18": ("三", "新增地理标志“红标”使用主体"),
}
# Tasks whose 主要内容 states a figure, and the indicator it is a target of.
TASK_TARGETS = {"T02": "I01", "T03": "I05", "T10": "I18", "T29": "I11", "T35": "I10"}

NUMBER = r"(\d+(?:\.\d+)?)"
UNIT_WORDS = r"(件|个|项|家|亿元|人次)"

# --- the document ------------------------------------------------------------------------------------

TEXT = SEED.read_text(encoding="utf-8")


def between(text: str, start: str, end: str) -> str:
    head, sep, rest = text.partition(start)
    assert sep, f"{start!r} not found in the document"
    body, sep, _ = rest.partition(end)
    assert sep, f"{end!r} not found after {start!r}"
    return body


def table_rows(block: str) -> list[list[str]]:
    """Rows of a table: runs of lines starting with a tab (one cell a line), blank-line separated."""
    rows, row = [], []
    for line in block.split("\n") + [""]:
        if line.startswith("\t"):
            row.append(line[1:].strip())
        elif row:
            rows.append(row)
            row = []
    return rows


def split_units(cell: str) -> tuple[list[str], list[str]]:
    """(leads, co_units) of a 责任单位 cell: * marks leads; with no * every unit leads."""
    names, starred = [], []
    for part in re.split(r"[、，,]", cell):
        part = part.strip()
        if not part:
            continue
        name = part.replace("*", "")
        name = BRACKETED_UNITS.get(name, name)
        names.append(name)
        if "*" in part:
            starred.append(name)
    if not starred:
        return names, []
    return starred, [n for n in names if n not in starred]


def number(text: str, wan: str = "") -> Decimal:
    value = Decimal(text)
    return value * 10000 if wan == "万" else value


def dec(value) -> Decimal:
    return Decimal(str(value))


SECTION = {
    "二": between(TEXT, "\n二、工作目标\n", "\n三、重点任务\n"),
    "三": between(TEXT, "\n三、重点任务\n", "\n四、保障措施\n"),
}
ANNEX1_ROWS = [r for r in table_rows(between(TEXT, "\n附件1\n", "注：标记*")) if r[0].isdigit()]
ANNEX2_BLOCK = table_rows(between(TEXT, "\n附件2\n", "抄送："))
ANNEX2_YEARS = [int(c.rstrip("年")) for c in ANNEX2_BLOCK[0][2:]]
ANNEX2_ROWS = [r for r in ANNEX2_BLOCK if r[0].isdigit()]


def annex1() -> dict[str, dict]:
    out, key_work = {}, None
    for number_, kw, content, units in ANNEX1_ROWS:
        key_work = kw or key_work  # merged cells: blank on continuation rows
        leads, co = split_units(units)
        out[f"T{int(number_):02d}"] = {
            "key_work": key_work,
            "content": content,
            "leads": leads,
            "co_units": co,
            "cell": units,
        }
    return out


def annex2() -> dict[str, dict]:
    out = {}
    for row in ANNEX2_ROWS:
        number_, label, *values = row
        m = re.fullmatch(r"(.+?)(?:[（(]([^（）()]+)[）)])?", label)
        # keep a non-unit bracket such as （含分支机构） in the name: only the last bracket is the unit
        name, unit = m.group(1), m.group(2)
        if unit not in MEASURES and unit is not None:
            name, unit = label, None
        out[f"I{int(number_):02d}"] = {
            "name": name,
            "unit": unit,
            "targets": dict(zip(ANNEX2_YEARS, (Decimal(v) for v in values), strict=True)),
        }
    return out


ANNEX1 = annex1()
ANNEX2 = annex2()


def section_total(ind_id: str) -> tuple[Decimal, str, str]:
    """(figure, unit, matched text) of an indicator's plan total, parsed from the document."""
    section, phrase = TOTAL_PHRASES[ind_id]
    pattern = (
        re.escape(phrase) + r"(?:达到|不低于|达|超|增加至)?" + NUMBER + r"(万)?" + UNIT_WORDS + r"(以上)?"
    )
    found = list(re.finditer(pattern, SECTION[section]))
    assert len(found) == 1, f"{phrase!r} + figure found {len(found)} times in section {section}"
    m = found[0]
    return number(m.group(1), m.group(2) or ""), m.group(3), m.group(0)


def fold(text: str) -> str:
    """Width, white space and quotes do not count when names are compared."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\s\"'“”‘’「」]", "", text)
    return text


# --- the config --------------------------------------------------------------------------------------


def load(name: str):
    with open(CONFIG_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


TARGETS = load("targets.yaml")
RESP = load("responsibilities.yaml")
INDICATORS = {i["id"]: i for i in TARGETS["indicators"]}
TASKS = {t["id"]: t for p in RESP["projects"] for k in p["key_works"] for t in k["tasks"]}
UNITS = {u["name"]: u for u in RESP["units"]}


# --- tests -------------------------------------------------------------------------------------------


def test_fixture_is_the_published_document():
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == SEED_SHA256


def test_parsers_see_the_whole_tables():
    assert list(ANNEX1) == TASK_IDS
    assert list(ANNEX2) == INDICATOR_IDS[:17]
    assert ANNEX2_YEARS == [2022, 2023, 2024]


def test_keys_follow_the_schema():
    allowed_top = {"plan", "measures", "indicators"}
    plan_keys = {
        "title",
        "title_en",
        "document",
        "issuer",
        "issued",
        "region",
        "unit_prefixes",
        "years",
        "end_year",
    }
    ind_keys = {
        "id",
        "name",
        "name_en",
        "aliases",
        "unit",
        "unit_aliases",
        "kind",
        "aggregation",
        "targets",
        "total",
        "total_source",
        "tasks",
        "weight",
    }
    assert set(TARGETS) <= allowed_top
    assert set(TARGETS["plan"]) <= plan_keys
    for m in TARGETS["measures"].values():
        assert set(m) <= {"whole"}
    for ind in TARGETS["indicators"]:
        assert set(ind) <= ind_keys, ind["id"]
    assert set(RESP) <= {"units", "projects"}
    for u in RESP["units"]:
        assert set(u) <= {"name", "name_en", "aliases", "collective", "members"}, u["name"]
    for p in RESP["projects"]:
        assert set(p) <= {"id", "name", "key_works"}, p["id"]
        for k in p["key_works"]:
            assert set(k) <= {"id", "name", "tasks"}, k["id"]
            for t in k["tasks"]:
                assert set(t) <= {"id", "content", "leads", "co_units", "target"}, t["id"]
                if "target" in t:
                    assert set(t["target"]) <= {"indicator", "targets", "total"}, t["id"]


def test_plan_metadata():
    plan = TARGETS["plan"]
    title = re.search(r"\n(乐清市国家知识产权强县建设试点县工作方案)\n\n(（\d{4}-\d{4}年）)\n", TEXT)
    assert plan["title"] == title.group(1) + title.group(2)
    assert plan["document"] == re.search(r"乐政办发〔\d{4}〕\d+号", TEXT).group(0)
    assert plan["issuer"] == TEXT.split("\n")[0].removesuffix("文件")
    y, m, d = re.search(r"\n(\d{4})年(\d{1,2})月(\d{1,2})日\n", TEXT).groups()
    assert str(plan["issued"]) == f"{y}-{int(m):02d}-{int(d):02d}"
    assert plan["region"] == "乐清市"
    assert plan["unit_prefixes"] == ["乐清市", "乐清", "市"]
    assert plan["years"] == ANNEX2_YEARS
    assert plan["end_year"] == int(re.search(r"到(\d{4})年", SECTION["二"]).group(1))


def test_measures():
    assert {k: v["whole"] for k, v in TARGETS["measures"].items()} == MEASURES
    assert {i["unit"] for i in TARGETS["indicators"]} == set(MEASURES)


def test_indicator_ids_in_order():
    assert [i["id"] for i in TARGETS["indicators"]] == INDICATOR_IDS


@pytest.mark.parametrize("ind_id", INDICATOR_IDS[:17])
def test_indicator_matches_annex2(ind_id):
    ind, row = INDICATORS[ind_id], ANNEX2[ind_id]
    assert ind["name"] == row["name"]
    assert {year: dec(v) for year, v in ind["targets"].items()} == row["targets"]
    assert list(ind["targets"]) == ANNEX2_YEARS
    if row["unit"] is not None:  # I12, I13 have none in Annex 2: section 二 gives it (see totals)
        assert row["unit"] in [ind["unit"], *ind.get("unit_aliases", [])]
    assert ind["unit"] == UNIT_NAMES.get(ind_id, row["unit"] or ind["unit"])


def test_I18_is_the_red_mark_indicator():
    ind = INDICATORS["I18"]
    assert ind["name"] == "新增地理标志“红标”使用主体"
    assert ind["name"] in SECTION["三"] and ind["name"] in ANNEX1["T10"]["content"]
    assert ind["targets"] == {}


@pytest.mark.parametrize("ind_id", INDICATOR_IDS)
def test_indicator_total_from_the_document(ind_id):
    ind = INDICATORS[ind_id]
    figure, unit, quote = section_total(ind_id)
    assert dec(ind["total"]) == figure
    assert unit in [ind["unit"], *ind.get("unit_aliases", [])]
    source = ind.get("total_source")
    assert source and source in SECTION[TOTAL_PHRASES[ind_id][0]], "total_source must quote the document"
    assert quote in source


@pytest.mark.parametrize("ind_id", INDICATOR_IDS)
def test_total_agrees_with_years(ind_id):
    ind = INDICATORS[ind_id]
    if not ind["targets"]:
        return
    values = [dec(ind["targets"][y]) for y in sorted(ind["targets"])]
    expected = values[-1] if ind["kind"] == "stock" else sum(values)
    assert dec(ind["total"]) == expected


@pytest.mark.parametrize("ind_id", INDICATOR_IDS)
def test_indicator_decisions(ind_id):
    ind = INDICATORS[ind_id]
    assert ind["kind"] == ("stock" if ind_id in STOCKS else "flow")
    assert ind.get("aggregation", "single") == ("sum" if ind_id in SUMMED else "single")
    tasks, leads = PLAN_LINKS[ind_id]
    assert ind["tasks"] == tasks
    assert {u for t in tasks for u in TASKS[t]["leads"]} == leads
    assert ind.get("name_en")
    if MEASURES[ind["unit"]]:
        values = [ind["total"], *ind["targets"].values()]
        assert all(isinstance(v, int) for v in values), "a whole measure takes whole numbers"


@pytest.mark.parametrize("ind_id", INDICATOR_IDS)
def test_indicator_aliases_are_the_documents_words(ind_id):
    ind = INDICATORS[ind_id]
    names = [ind["name"], *ind.get("aliases", [])]
    assert len({fold(n) for n in names}) == len(names), "an alias repeats the name or another alias"
    for alias in ind.get("aliases", []):
        assert fold(alias) in fold(TEXT), f"{alias!r} is not written in the document"
    others = {
        fold(n)
        for i in TARGETS["indicators"]
        if i["id"] != ind_id
        for n in [i["name"], *i.get("aliases", [])]
    }
    assert not {fold(n) for n in names} & others, "a name shared with another indicator"


def test_structure_matches_plan_and_document():
    heads = re.findall(r"^（[一二三四]）(.+)$", SECTION["三"], flags=re.M)
    kw_names = re.findall(r"^\d+．(.+?)。", SECTION["三"], flags=re.M)
    projects = RESP["projects"]
    assert [p["id"] for p in projects] == list(PLAN_PROJECTS)
    assert [p["name"] for p in projects] == heads
    key_works = [k for p in projects for k in p["key_works"]]
    assert [k["name"] for k in key_works] == kw_names
    for p in projects:
        assert [k["id"] for k in p["key_works"]] == PLAN_PROJECTS[p["id"]], p["id"]
    assert [t["id"] for k in key_works for t in k["tasks"]] == TASK_IDS
    for k in key_works:
        first, last = PLAN_KEY_WORKS[k["id"]]
        assert [t["id"] for t in k["tasks"]] == [f"T{n:02d}" for n in range(first, last + 1)], k["id"]


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_task_matches_annex1(task_id):
    task, row = TASKS[task_id], ANNEX1[task_id]
    key_work = next(k for p in RESP["projects"] for k in p["key_works"] if task in k["tasks"])
    assert key_work["name"] == row["key_work"]
    assert task["content"] == row["content"]
    assert task["leads"] == row["leads"]
    assert task.get("co_units", []) == row["co_units"]


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_task_target(task_id):
    task, content = TASKS[task_id], ANNEX1[task_id]["content"]
    if task_id not in TASK_TARGETS:
        assert "target" not in task
        assert not re.search(NUMBER + UNIT_WORDS, content), "a figure in the content but no target"
        return
    target = task["target"]
    ind = INDICATORS[TASK_TARGETS[task_id]]
    assert target["indicator"] == ind["id"]
    for m in re.finditer(NUMBER + UNIT_WORDS, content):
        assert m.group(2) in [ind["unit"], *ind.get("unit_aliases", [])], m.group(0)
    yearly = re.search(r"(\d{4})-(\d{4})年.*?分别.*?((?:" + NUMBER + UNIT_WORDS + r"、?)+)", content)
    if yearly:
        years = list(range(int(yearly.group(1)), int(yearly.group(2)) + 1))
        values = [Decimal(v) for v, _ in re.findall(NUMBER + UNIT_WORDS, yearly.group(3))]
        expected = dict(zip(years, values, strict=True))
        assert {y: dec(v) for y, v in target["targets"].items()} == expected
        assert {y: dec(v) for y, v in ind["targets"].items()} == expected
    else:
        assert not target.get("targets")
    at_least = re.search(NUMBER + UNIT_WORDS + "以上", content)
    if at_least:
        assert dec(target["total"]) == Decimal(at_least.group(1)) == dec(ind["total"])
    else:
        assert "total" not in target


def test_units_are_annex1s_units():
    named = {u for row in ANNEX1.values() for u in row["leads"] + row["co_units"]}
    assert set(UNITS) == named
    assert len(UNITS) == len(RESP["units"]), "a unit is listed twice"
    for name, unit in UNITS.items():
        assert bool(unit.get("collective")) == (name in COLLECTIVES), name
        if name in COLLECTIVES:
            assert unit["members"] == "(镇|乡|街道)$"
            assert all(re.search(unit["members"], t) for t in ["柳市镇", "乐成街道", "智仁乡"])
            assert not re.search(unit["members"], fold(name))


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_task_units_exist(task_id):
    task = TASKS[task_id]
    for name in task["leads"] + task.get("co_units", []):
        assert name in UNITS, f"{name!r} is not under units"


@pytest.mark.parametrize("unit", sorted(REQUIRED_UNIT_ALIASES))
def test_required_unit_aliases(unit):
    assert set(REQUIRED_UNIT_ALIASES[unit]) <= set(UNITS[unit].get("aliases", []))


def test_unit_aliases_are_unambiguous():
    owner: dict[str, str] = {}
    for unit in RESP["units"]:
        for spelling in [unit["name"], *unit.get("aliases", [])]:
            key = fold(spelling)
            assert owner.setdefault(key, unit["name"]) == unit["name"], f"{spelling!r} names two units"
    for bracketed, name in BRACKETED_UNITS.items():
        assert bracketed in TEXT and bracketed in UNITS[name]["aliases"]
