"""Small builders of test workbooks: a return is a few lines of data, written in code."""

from __future__ import annotations

from pathlib import Path

IND_HEADER = ["指标编号", "指标名称", "年度", "计量单位", "目标值", "完成值", "备注"]
TASK_HEADER = ["任务编号", "进展状态", "完成情况"]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write sheets (name -> rows) with openpyxl; values starting with '=' become formulas."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def write_xls(path: Path, sheets: dict[str, list[list]]) -> Path:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value not in (None, ""):
                    ws.write(r, c, value)
    wb.save(str(path))
    return path


def write_ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if value is None or value == "":
                    tr.addElement(TableCell())
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    cell = TableCell(valuetype="float", value=value)
                    cell.addElement(P(text=str(value)))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                    tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


WRITERS = {".xlsx": write_xlsx, ".xls": write_xls, ".ods": write_ods}


def return_sheets(unit="市市场监管局", year=2023, period=None, indicators=None, tasks=None,
                  ind_header=None, task_header=None, info_extra=None, title=None) -> dict[str, list[list]]:
    """The sheets of a return. `indicators`/`tasks` are data rows (None: sheet left out)."""
    sheets: dict[str, list[list]] = {}
    info = []
    if unit is not None:
        info.append(["填报单位", unit])
    if year is not None:
        info.append(["报告年度", year])
    if period is not None:
        info.append(["报告期", period])
    info.extend(info_extra or [])
    sheets["填报信息"] = info or [["说明", "无"]]
    if indicators is not None:
        rows = [[title]] if title else []
        sheets["指标完成情况"] = rows + [ind_header or IND_HEADER, *indicators]
    if tasks is not None:
        sheets["任务进展"] = [task_header or TASK_HEADER, *tasks]
    return sheets


def make_return(tmp_path: Path, name: str = "return.xlsx", **kwargs) -> Path:
    """Write a return built by `return_sheets(**kwargs)`; the suffix of `name` picks the format."""
    path = Path(tmp_path) / name
    return WRITERS[path.suffix](path, return_sheets(**kwargs))


def ind(code, name, year, unit, target, value, note=""):
    return [code, name, year, unit, target, value, note]


# The fixed parts of a minimal .xlsx, for tests that write the zip by hand (bombs, odd cell forms).
XLSX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>')
XLSX_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
XLSX_ONE_SHEET_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="指标" sheetId="1" r:id="rId1"/></sheets></workbook>')
