"""Importing a neighbourhood committee's register from CSV, as doctors and nurses do it:
download the template, fill it in, upload, read the preview, confirm (all rows or none)."""

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app import crypto, idcard
from app.accounts.models import Role
from app.audit.models import AuditEntry, Event
from app.extensions import db
from app.residents.import_models import ImportStatus, ResidentImport
from app.residents.models import ChronicCondition, Mobility, Resident, Sex
from tests.conftest import post_form, sign_in
from tests.factories import national_id_for

# The headings of the register, in Chinese and in English, in the template's order.
# fmt: off
ZH = ["姓名", "性别", "出生日期", "身份证号", "手机", "地址", "居委会编码", "户编号", "独居",
      "行动能力", "慢性病"]
EN = ["name", "sex", "birth_date", "national_id", "phone", "address", "neighbourhood_code",
      "household_code", "living_alone", "mobility", "conditions"]
# fmt: on
BORN = date(1946, 8, 9)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def resident_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Resident.id)))


def events(name: str) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.name == name)))


def person(neighbourhood, number=None, **cells) -> dict:
    """One row of the register, by English column name; cells override the defaults."""
    row = {
        "name": "李阿姨",
        "sex": "女",
        "birth_date": BORN.isoformat(),
        "national_id": number or national_id_for(BORN, Sex.FEMALE),
        "phone": "13900001234",
        "address": "高行镇东靖路8号",
        "neighbourhood_code": neighbourhood.code,
        "household_code": "",
        "living_alone": "否",
        "mobility": "",
        "conditions": "",
    }
    row.update(cells)
    return row


def csv_file(rows: list[dict], heading=ZH, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heading)
    for row in rows:
        writer.writerow([row[name] for name in EN])
    return out.getvalue().encode(encoding)


def upload(client, data: bytes, filename: str = "register.csv"):
    return post_form(
        client,
        "/residents/import",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def uploaded(client, data: bytes) -> ResidentImport:
    response = upload(client, data)
    assert response.status_code == 302, html_of(response)[:3000]
    match = re.search(r"/residents/import/(\d+)$", response.headers["Location"])
    return db.session.get(ResidentImport, int(match.group(1)))


def confirm(client, batch):
    page = f"/residents/import/{batch.id}"
    return post_form(client, f"{page}/confirm", {}, page=page)


def reasons_by_row(html: str) -> dict[int, str]:
    """The preview's table: row number -> the text of its check cell."""
    found = {}
    for number, body in re.findall(r'<tr id="row-(\d+)">(.*?)</tr>', html, re.S):
        found[int(number)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    return found


@pytest.fixture
def team(make_team):
    return make_team()


@pytest.fixture
def doctor(team):
    return team.lead


@pytest.fixture
def home(team):
    return team.neighbourhoods[0]


# --- the happy path --------------------------------------------------------------------------


def test_the_template_downloads_and_imports_as_it_is(signed_in, doctor, home):
    client = signed_in(doctor)
    response = client.get("/residents/import/template.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel needs the mark to read Chinese
    heading, example = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert heading[0] == "姓名 name"
    assert heading[3] == "身份证号 national_id"
    assert example[6] == home.code
    idcard.normalise(example[3])  # a valid, made-up number
    before = resident_count()

    batch = uploaded(client, response.data)
    preview = client.get(f"/residents/import/{batch.id}")
    assert "所有行都可以导入" in html_of(preview)
    assert confirm(client, batch).status_code == 302

    assert resident_count() == before + 1
    resident = db.session.scalar(sa.select(Resident).where(Resident.name == example[0]))
    assert resident.neighbourhood_id == home.id
    assert set(resident.conditions) == {
        ChronicCondition.HYPERTENSION,
        ChronicCondition.TYPE2_DIABETES,
    }
    done = html_of(client.get(f"/residents/import/{batch.id}"))
    assert "已导入 1 名居民" in done
    assert 'href="/residents/"' in done


def test_a_good_file_imports_every_row_with_events(
    signed_in, doctor, home, make_household, make_team
):
    household = make_household(neighbourhood=home, code="GH-0101")
    rows = [
        person(
            home,
            name="张三",
            sex="男",
            national_id=national_id_for(BORN, Sex.MALE),
            household_code=household.code,
            living_alone="是",
            mobility="轮椅",
            conditions="高血压;慢阻肺",
        ),
        person(home, name="李四", birth_date="1946/8/9", conditions="2型糖尿病、脑卒中"),
        person(home, name="王五", mobility="needs_assistance", conditions="无", phone=""),
    ]
    client = signed_in(doctor)
    before = resident_count()
    batch = uploaded(client, csv_file(rows))
    assert (batch.row_count, batch.error_count) == (3, 0)
    assert rows[0]["national_id"] not in batch.content  # stored encrypted, like every ID

    assert confirm(client, batch).status_code == 302

    assert resident_count() == before + 3
    zhang = db.session.scalar(sa.select(Resident).where(Resident.name == "张三"))
    assert (zhang.sex, zhang.living_alone, zhang.mobility) == (Sex.MALE, True, Mobility.WHEELCHAIR)
    assert zhang.household_id == household.id
    assert set(zhang.conditions) == {ChronicCondition.HYPERTENSION, ChronicCondition.COPD}
    assert crypto.decrypt(zhang.national_id_ciphertext) == rows[0]["national_id"]
    li = db.session.scalar(sa.select(Resident).where(Resident.name == "李四"))
    assert set(li.conditions) == {ChronicCondition.TYPE2_DIABETES, ChronicCondition.STROKE}
    wang = db.session.scalar(sa.select(Resident).where(Resident.name == "王五"))
    assert (wang.mobility, wang.conditions, wang.phone) == (Mobility.NEEDS_ASSISTANCE, [], None)

    db.session.refresh(batch)
    assert batch.status == ImportStatus.IMPORTED
    assert batch.imported_at is not None
    assert len(events("resident.registered")) == 3
    (imported,) = events("resident_import.imported")
    assert (imported.entity_id, imported.actor_id, imported.to_state) == (
        batch.id,
        doctor.id,
        "imported",
    )
    assert imported.data == {"imported": 3}
    created = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "create"))
    assert {entry.resident_id for entry in created} == {zhang.id, li.id, wang.id}
    assert "已导入 3 名居民" in html_of(client.get(f"/residents/import/{batch.id}"))
    # Imported once only.
    assert confirm(client, batch).status_code == 409
    assert resident_count() == before + 3


def test_english_headings_and_values_work_too(signed_in, doctor, home):
    cells = {"sex": "female", "living_alone": "yes", "mobility": "Bedridden"}
    row = person(home, name="Chen", conditions="hypertension; Dementia", **cells)
    client = signed_in(doctor)
    batch = uploaded(client, csv_file([row], heading=EN, encoding="utf-8"))  # and no BOM
    assert batch.error_count == 0
    assert confirm(client, batch).status_code == 302
    chen = db.session.scalar(sa.select(Resident).where(Resident.name == "Chen"))
    assert (chen.sex, chen.living_alone, chen.mobility) == (Sex.FEMALE, True, Mobility.BEDRIDDEN)
    assert set(chen.conditions) == {ChronicCondition.HYPERTENSION, ChronicCondition.DEMENTIA}


def test_mixed_headings_as_in_the_template_are_read(signed_in, doctor, home):
    heading = [f"{zh} {en}" for zh, en in zip(ZH, EN, strict=True)]
    batch = uploaded(signed_in(doctor), csv_file([person(home)], heading=heading))
    assert (batch.row_count, batch.error_count) == (1, 0)


# --- bad rows ----------------------------------------------------------------------------------


def test_every_bad_row_is_listed_with_its_reason_and_nothing_is_imported(
    signed_in, doctor, home, make_resident, make_neighbourhood, make_team
):
    registered = make_resident(neighbourhood=home, birth_date=BORN)
    registered_id = crypto.decrypt(registered.national_id_ciphertext)
    good = national_id_for(BORN)
    twice = national_id_for(BORN)
    elsewhere = make_team().neighbourhoods[0]
    rows = [
        person(home, good),  # row 2: fine
        person(home, good[:17] + ("0" if good[17] != "0" else "1")),  # 3: check digit
        person(home, "310115460809123"),  # 4: a 15-digit old number
        person(home, twice),  # 5 and 6: the same ID twice in the file
        person(home, twice),
        person(home, registered_id),  # 7: registered already
        person(home, neighbourhood_code="NO-SUCH-CODE"),  # 8
        person(home, birth_date="1946-13-40"),  # 9: not a date
        person(home, birth_date="1946-08-10"),  # 10: not the date inside the ID
        person(home, sex="X"),  # 11
        person(home, name=""),  # 12: required
        person(home, mobility="飞行"),  # 13
        person(home, conditions="高血压、感冒"),  # 14
        person(home, household_code="HH-NONE"),  # 15
        person(elsewhere),  # 16: a neighbourhood the doctor's teams do not serve
        person(home, living_alone="maybe"),  # 17
    ]
    client = signed_in(doctor)
    before = resident_count()

    batch = uploaded(client, csv_file(rows))
    assert (batch.row_count, batch.error_count) == (16, 15)
    page = client.get(f"/residents/import/{batch.id}")
    html = html_of(page)
    reasons = reasons_by_row(html)

    assert "共 16 行 · 有错误 15 行" in html
    assert "无误" in reasons[2]
    assert "校验" in reasons[3]
    # Whatever app.idcard says of an old 15-digit number, next to the ID column.
    assert "身份证号" in reasons[4]
    assert "无误" not in reasons[4]
    assert "第 6 行也是这个身份证号" in reasons[5]
    assert "第 5 行也是这个身份证号" in reasons[6]
    assert "已登记" in reasons[7]
    assert "没有编码为 NO-SUCH-CODE 的居委会" in reasons[8]
    assert "不是有效日期" in reasons[9]
    assert "与身份证号中的出生日期不一致" in reasons[10]
    assert "请填“男”或“女”" in reasons[11]
    assert "姓名" in reasons[12]
    assert "必填" in reasons[12]
    assert "无法识别的行动能力：飞行" in reasons[13]
    assert "无法识别的慢性病：感冒" in reasons[14]
    assert "没有编号为 HH-NONE 的家庭户" in reasons[15]
    assert "不服务" in reasons[16]
    assert "请填“是”或“否”" in reasons[17]
    # No full ID on the page: masked when valid, else only its first four characters.
    for row in rows:
        assert row["national_id"] not in html
    assert idcard.mask(good) in html
    assert good[:4] + "***" in reasons[3]
    assert "导入 16 名居民" not in html  # no Confirm button while any row is bad

    refused = confirm(client, batch)
    assert refused.status_code == 409
    assert "没有导入任何居民" in html_of(refused)
    assert resident_count() == before
    db.session.refresh(batch)
    assert batch.status == ImportStatus.PREVIEWED
    assert events("resident.registered") == []


def test_a_doctor_cannot_import_where_their_teams_do_not_serve(signed_in, doctor, make_team):
    elsewhere = make_team().neighbourhoods[0]
    client = signed_in(doctor)
    before = resident_count()
    batch = uploaded(client, csv_file([person(elsewhere)]))
    assert batch.error_count == 1
    assert "不服务" in reasons_by_row(html_of(client.get(f"/residents/import/{batch.id}")))[2]
    assert confirm(client, batch).status_code == 409
    assert resident_count() == before


def test_confirm_checks_again_what_changed_since_the_preview(
    signed_in, doctor, home, make_resident
):
    number = national_id_for(BORN)
    client = signed_in(doctor)
    batch = uploaded(client, csv_file([person(home), person(home, number)]))
    assert batch.error_count == 0
    make_resident(neighbourhood=home, birth_date=BORN, national_id=number)  # registered meanwhile
    before = resident_count()

    refused = confirm(client, batch)

    assert refused.status_code == 409
    assert "已登记" in reasons_by_row(html_of(refused))[3]
    assert resident_count() == before  # not even the good first row


def test_the_service_has_the_last_word_and_one_refusal_undoes_every_row(
    signed_in, doctor, home, monkeypatch
):
    """Should a rule of register_resident be missed by the preview, nothing is imported."""
    from app.errors import InvalidInput
    from app.residents import services

    real = services.register_resident

    def refuse_the_second(user, data):
        if data["name"] == "第二位":
            raise InvalidInput("no such neighbourhood committee", field="neighbourhood_id")
        return real(user, data)

    client = signed_in(doctor)
    batch = uploaded(client, csv_file([person(home), person(home, name="第二位")]))
    monkeypatch.setattr(services, "register_resident", refuse_the_second)
    before = resident_count()

    refused = confirm(client, batch)

    assert refused.status_code == 409
    assert "居委会编码" in reasons_by_row(html_of(refused))[3]
    assert resident_count() == before
    assert events("resident.registered") == []


# --- files that are not a register -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "reason"),
    [
        ("GBK", "register.csv", "UTF-8"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "register.xlsx", "不是 CSV 文件"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "UTF-8"),
        (b"", "register.csv", "文件是空的"),
        ("HEADING_ONLY", "register.csv", "只有表头"),
        ("名字,性别\n张三,男\n".encode(), "register.csv", "无法识别的表头：名字"),
        ("姓名,性别\n张三,男\n".encode(), "register.csv", "缺少必填的列"),
    ],
)
def test_a_file_that_is_not_a_utf8_register_gets_a_clear_reason(
    signed_in, doctor, home, content, filename, reason
):
    if content == "GBK":
        content = csv_file([person(home)], encoding="gbk")
    elif content == "HEADING_ONLY":
        content = csv_file([])
    client = signed_in(doctor)
    count = db.session.scalar(sa.select(sa.func.count(ResidentImport.id)))

    response = upload(client, content, filename)

    assert response.status_code == 422
    assert reason in re.search(r'id="file-error">(.*?)</p>', html_of(response), re.S).group(1)
    assert db.session.scalar(sa.select(sa.func.count(ResidentImport.id))) == count


def test_more_than_5000_rows_are_refused(signed_in, doctor, home):
    rows = [person(home, national_id_for(BORN, seq=n)) for n in range(5001)]
    response = upload(signed_in(doctor), csv_file(rows))
    assert response.status_code == 422
    assert "每次最多导入 5000 行" in html_of(response)


def test_excel_scientific_notation_is_explained(signed_in, doctor, home):
    client = signed_in(doctor)
    batch = uploaded(client, csv_file([person(home, "3.10115E+17")]))
    reasons = reasons_by_row(html_of(client.get(f"/residents/import/{batch.id}")))
    assert "设为“文本”格式" in reasons[2]


# --- who sees a batch --------------------------------------------------------------------------


def test_only_the_uploader_and_admins_see_a_batch(
    app, signed_in, team, doctor, home, make_team, make_user
):
    batch = uploaded(signed_in(doctor), csv_file([person(home)]))
    page = f"/residents/import/{batch.id}"
    same_team_nurse = next(m.user for m in team.members if m.user.role == Role.NURSE)
    for outsider in (make_team().lead, same_team_nurse):
        other = app.test_client()
        sign_in(other, outsider)
        assert other.get(page).status_code == 404
        assert post_form(other, f"{page}/confirm", {}, page="/residents/import").status_code == 404
        assert post_form(other, f"{page}/discard", {}, page="/residents/import").status_code == 404
    admin = app.test_client()
    sign_in(admin, make_user(Role.ADMIN))
    assert admin.get(page).status_code == 200
    db.session.refresh(batch)
    assert batch.status == ImportStatus.PREVIEWED


def test_residents_and_caregivers_cannot_import(signed_in, make_user, home):
    client = signed_in(make_user(Role.CAREGIVER))
    assert client.get("/residents/import").status_code == 403
    assert client.get("/residents/import/template.csv").status_code == 403


def test_discarding_imports_nothing_and_closes_the_batch(signed_in, doctor, home):
    client = signed_in(doctor)
    batch = uploaded(client, csv_file([person(home)]))
    before = resident_count()
    page = f"/residents/import/{batch.id}"

    response = post_form(client, f"{page}/discard", {}, page=page)

    assert response.status_code == 302
    db.session.refresh(batch)
    assert batch.status == ImportStatus.DISCARDED
    assert events("resident_import.discarded")[0].entity_id == batch.id
    assert confirm(client, batch).status_code == 409
    assert resident_count() == before


def test_the_register_links_to_the_import_page(signed_in, doctor):
    html = html_of(signed_in(doctor).get("/residents/"))
    assert 'href="/residents/import"' in html
