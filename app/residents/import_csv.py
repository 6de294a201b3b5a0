"""Reading a residents' register from a CSV file: headings, cells, codes. No rules here.

The file is UTF-8 (with or without Excel's byte-order mark); its headings may be Chinese,
English or both ("姓名 name"); values may be written as labels (男, 高血压) or enum values.
A row is numbered as a spreadsheet numbers it (the heading is row 1). Problems are
DomainErrors naming the column, so pages translate them and the API gives them in English.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import force_locale

from app import idcard
from app.accounts.models import Organisation, OrganisationKind
from app.errors import N_, DomainError, InvalidInput
from app.extensions import db
from app.labels import label
from app.residents.models import ChronicCondition, Household, Mobility, Sex
from app.schemas_common import PHONE_RE

MAX_ROWS = 5000
# (field, Chinese heading, English heading, required). The template writes "姓名 name".
COLUMNS = (
    ("name", "姓名", "name", True),
    ("sex", "性别", "sex", True),
    ("birth_date", "出生日期", "birth_date", True),
    ("national_id", "身份证号", "national_id", True),
    ("phone", "手机", "phone", False),
    ("address", "地址", "address", True),
    ("neighbourhood_code", "居委会编码", "neighbourhood_code", True),
    ("household_code", "户编号", "household_code", False),
    ("living_alone", "独居", "living_alone", False),
    ("mobility", "行动能力", "mobility", False),
    ("conditions", "慢性病", "conditions", False),
)
FIELDS = [c[0] for c in COLUMNS]
YES, NO = {"是", "yes", "y", "1", "true"}, {"否", "no", "n", "0", "false", ""}
NONE_WORDS = {"无", "none", ""}
SYNONYMS = {
    "糖尿病": ChronicCondition.TYPE2_DIABETES,
    "中风": ChronicCondition.STROKE,
    "慢性阻塞性肺疾病": ChronicCondition.COPD,
    "痴呆": ChronicCondition.DEMENTIA,
    "老年痴呆": ChronicCondition.DEMENTIA,
}
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
EXCEL_NUMBER_RE = re.compile(r"^\d(\.\d+)?E\+\d+$", re.I)
CONDITION_SPLIT_RE = re.compile(r"[;；、,，]")


def _key(text: str) -> str:
    """A heading or a value as compared: lower case, without spaces or punctuation."""
    return re.sub(r"[\s_\-()（）/:：]", "", text.strip().lower())


HEADINGS = {}
for _field, _zh, _en, _required in COLUMNS:
    for _name in (_zh, _en, _zh + _en, _en + _zh):
        HEADINGS[_key(_name)] = _field


@dataclass
class RowResult:
    number: int  # the row as a spreadsheet numbers it: the heading is row 1
    values: dict
    errors: list[DomainError] = field(default_factory=list)
    # What register_resident gets; None where a cell does not read.
    parsed: dict = field(default_factory=dict)
    national_id: str | None = None  # normalised, when it is a valid number

    @property
    def data(self) -> dict | None:
        return None if self.errors else self.parsed

    @property
    def masked_id(self) -> str:
        """Never the full number: masked when valid, else its first four characters."""
        if self.national_id:
            return idcard.mask(self.national_id)
        raw = self.values.get("national_id") or ""
        return raw[:4] + "***" if raw else ""

    def refuse(self, message: str, field: str, **params) -> None:
        self.errors.append(InvalidInput(message, field=field, params=params or None))


# --- reading the file ----------------------------------------------------------------------


def _refuse_file(message: str, **params) -> InvalidInput:
    return InvalidInput(message, field="file", params=params or None)


def decode(raw: bytes, filename: str) -> str:
    """The file as text: UTF-8, with or without the byte-order mark Excel writes."""
    if filename.lower().endswith((".xlsx", ".xls", ".et")) or raw[:4] == b"PK\x03\x04":
        raise _refuse_file(
            N_("this is a spreadsheet workbook, not a CSV file; save it as CSV UTF-8")
        )
    if not raw.strip():
        raise _refuse_file(N_("the file is empty"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse_file(
            N_("the file is not UTF-8 text (perhaps GBK); save it again as CSV UTF-8")
        ) from None
    if "\x00" in text:
        raise _refuse_file(N_("this is not a CSV text file"))
    return text


def _records(text: str) -> tuple[list[str | None], list[tuple[int, list[str]]]]:
    """The heading's fields (None for a blank heading) and the non-blank rows, numbered."""
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise _refuse_file(N_("this is not a CSV file that can be read")) from None
    if not records:
        raise _refuse_file(N_("the file is empty"))
    fields, seen = [], set()
    for heading in records[0]:
        if not heading.strip():
            fields.append(None)
            continue
        name = HEADINGS.get(_key(heading))
        if name is None:
            raise _refuse_file(N_("unknown column heading: %(heading)s"), heading=heading.strip())
        if name in seen:
            raise _refuse_file(N_("the column %(heading)s appears twice"), heading=heading.strip())
        seen.add(name)
        fields.append(name)
    missing = [zh for name, zh, _en, required in COLUMNS if required and name not in seen]
    if missing:
        raise _refuse_file(
            N_("required columns are missing: %(columns)s"), columns="、".join(missing)
        )
    rows = [
        (n, cells) for n, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)
    ]
    if not rows:
        raise _refuse_file(N_("the file has a heading but no rows"))
    if len(rows) > MAX_ROWS:
        raise _refuse_file(
            N_("the file has %(count)s rows; at most %(max)s can be imported at once, so split it"),
            count=len(rows),
            max=MAX_ROWS,
        )
    return fields, rows


# --- reading one row -----------------------------------------------------------------------


def _words(enum_cls) -> dict[str, object]:
    """Every way a value may be written: its value, and its label in Chinese and English."""
    words = {}
    for member in enum_cls:
        for locale in ("zh_CN", "en"):
            with force_locale(locale):
                words[_key(label(member))] = member
        words[_key(member.value)] = member
    return words


def zh_labels(members) -> str:
    """Values as a file writes them: their Chinese labels, separated by 、."""
    with force_locale("zh_CN"):
        return "、".join(label(member) for member in members)


class Sheet:
    """A file's rows and what they refer to, read once (and held, so the session keeps them)."""

    def __init__(self, household_codes: set[str]):
        self.sex = {**_words(Sex), "m": Sex.MALE, "f": Sex.FEMALE}
        self.mobility = _words(Mobility)
        self.conditions = {**_words(ChronicCondition), **{_key(k): v for k, v in SYNONYMS.items()}}
        kind = OrganisationKind.NEIGHBOURHOOD_COMMITTEE
        query = sa.select(Organisation).where(Organisation.kind == kind)
        self.neighbourhoods = {org.code: org for org in db.session.scalars(query)}
        self.households: dict[str, Household] = {}
        codes = sorted(household_codes)
        for start in range(0, len(codes), 500):
            query = sa.select(Household).where(Household.code.in_(codes[start : start + 500]))
            self.households.update((h.code, h) for h in db.session.scalars(query))
        self.rows: list[RowResult] = []


def _date(text: str) -> date | None:
    match = DATE_RE.match(text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _national_id(row: RowResult, text: str) -> None:
    text = text.strip().lstrip("'")
    if text.startswith('="') and text.endswith('"'):  # Excel's way of keeping it text
        text = text[2:-1]
    row.values["national_id"] = text
    if EXCEL_NUMBER_RE.match(text):
        row.refuse(
            N_(
                "Excel turned the number into %(value)s; "
                "format the column as text and type the number again"
            ),
            "national_id",
            value=text,
        )
        return
    try:
        row.national_id = idcard.normalise(text)
    except idcard.InvalidIdNumber as exc:
        row.refuse(exc.args[0], "national_id")


def _read_row(number: int, fields: list, cells: list[str], sheet: "Sheet") -> RowResult:
    values = dict.fromkeys(FIELDS, "")
    for name, cell in zip(fields, cells, strict=False):
        if name:
            values[name] = cell.strip()
    row = RowResult(number, values)
    for name, _zh, _en, required in COLUMNS:
        if required and not values[name]:
            row.refuse(N_("this field is required"), name)
    if len(values["name"]) > 100:
        row.refuse(N_("at most %(max)s characters"), "name", max=100)
    if len(values["address"]) > 300:
        row.refuse(N_("at most %(max)s characters"), "address", max=300)
    sex = sheet.sex.get(_key(values["sex"]))
    if values["sex"] and sex is None:
        row.refuse(N_("write 男 or 女 (male or female)"), "sex")
    birth_date = _date(values["birth_date"])
    if values["birth_date"] and birth_date is None:
        row.refuse(N_("not a date; write it as YYYY-MM-DD, e.g. 1950-05-17"), "birth_date")
    if values["national_id"]:
        _national_id(row, values["national_id"])
    if values["phone"] and not PHONE_RE.match(values["phone"]):
        row.refuse(
            N_("must be a mainland mobile (11 digits) or a landline like 021-58620000"), "phone"
        )
    neighbourhood = sheet.neighbourhoods.get(values["neighbourhood_code"])
    if values["neighbourhood_code"] and neighbourhood is None:
        row.refuse(
            N_("no neighbourhood committee has the code %(code)s"),
            "neighbourhood_code",
            code=values["neighbourhood_code"],
        )
    household = sheet.households.get(values["household_code"])
    if values["household_code"] and household is None:
        code = values["household_code"]
        row.refuse(N_("no household has the code %(code)s"), "household_code", code=code)
    living_alone = _key(values["living_alone"])
    if living_alone not in YES | NO:
        row.refuse(N_("write 是 or 否 (yes or no)"), "living_alone")
    mobility = (
        sheet.mobility.get(_key(values["mobility"])) if values["mobility"] else Mobility.INDEPENDENT
    )
    if mobility is None:
        row.refuse(N_("unknown mobility: %(value)s"), "mobility", value=values["mobility"])
    conditions = []
    for word in CONDITION_SPLIT_RE.split(values["conditions"]):
        if _key(word) in NONE_WORDS:
            continue
        condition = sheet.conditions.get(_key(word))
        if condition is None:
            row.refuse(N_("unknown chronic condition: %(value)s"), "conditions", value=word.strip())
        elif condition not in conditions:
            conditions.append(condition)
    row.parsed = {
        "name": values["name"],
        "sex": sex,
        "birth_date": birth_date,
        "national_id": row.national_id,
        "phone": values["phone"] or None,
        "address": values["address"],
        "neighbourhood_id": neighbourhood.id if neighbourhood else None,
        "household_id": household.id if household else None,
        "living_alone": living_alone in YES,
        "mobility": mobility,
        "conditions": conditions,
    }
    return row


def read(text: str) -> Sheet:
    """Every non-blank row, with what is wrong in its cells; InvalidInput for the whole file."""
    fields, records = _records(text)
    column = fields.index("household_code") if "household_code" in fields else None
    codes = {
        cells[column].strip() for _n, cells in records if column is not None and column < len(cells)
    }
    sheet = Sheet(codes - {""})
    sheet.rows = [_read_row(number, fields, cells, sheet) for number, cells in records]
    return sheet


def template(neighbourhood_code: str) -> str:
    """The heading in Chinese and English and one example row (a made-up but valid ID)."""
    with force_locale("zh_CN"):
        conditions = (ChronicCondition.HYPERTENSION, ChronicCondition.TYPE2_DIABETES)
        example = [
            "王秀英",
            label(Sex.FEMALE),
            "1950-05-17",
            idcard.make("31011519500517002"),
            "13800000000",
            "高行镇东靖路100号",
            neighbourhood_code,
            "",
            "否",
            label(Mobility.INDEPENDENT),
            "、".join(label(c) for c in conditions),
        ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{zh} {en}" for _f, zh, en, _r in COLUMNS])
    writer.writerow(example)
    return "\ufeff" + out.getvalue()  # Excel reads UTF-8 Chinese only with the mark
