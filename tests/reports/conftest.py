"""A small town whose report figures are known by construction, and the helpers the report
tests share: the PDF as text (pdftotext), the CSV as rows, a local SMTP server.

The town: one community health service centre (高行镇社区卫生服务中心) with two teams,
高行一队 and 高行二队, each serving its own neighbourhood committee.
"""

import csv
import io
import os
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext

from app.accounts.models import OrganisationKind, Role
from app.extensions import db
from app.followups.models import FollowUp, FollowUpMode, FollowUpSource, FollowUpStatus

CENTRE = "高行镇社区卫生服务中心"
PDFTOTEXT = "/usr/bin/pdftotext"


def noon(day: date) -> datetime:
    """Noon in Shanghai on `day`, as UTC."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


def pdf_text(data: bytes) -> str:
    """The PDF's text as pdftotext lays it out. Without poppler-utils the test is skipped
    with the reason, except in CI, where it fails (as the browser tests do)."""
    if not os.path.exists(PDFTOTEXT) and not os.environ.get("CI"):
        pytest.skip("pdftotext is missing: apt-get install poppler-utils (make test does as root)")
    result = subprocess.run(
        [PDFTOTEXT, "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
        timeout=30,
    )
    return result.stdout.decode("utf-8")


def csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "the CSV starts with a byte-order mark"
    return list(csv.reader(io.StringIO(text[1:])))


def zh(msgid: str, **params) -> str:
    """What a msgid reads in a Chinese report (the catalogue's text, or the msgid itself)."""
    with force_locale("zh_CN"):
        return gettext(msgid, **params)


@pytest.fixture
def town(make_org, make_team, make_neighbourhood, make_user):
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE, name=CENTRE)
    east, west = make_neighbourhood(name="东沟居委会"), make_neighbourhood(name="西沟居委会")
    one = make_team(name="高行一队", centre=centre, neighbourhoods=[east])
    two = make_team(name="高行二队", centre=centre, neighbourhoods=[west])
    return {
        "centre": centre,
        "east": east,
        "west": west,
        "one": one,
        "two": two,
        "admin": make_user(Role.ADMIN),
    }


@pytest.fixture
def follow_up():
    def _make(resident, team, due: date, status=FollowUpStatus.DUE, done_at=None, **kw):
        item = FollowUp(
            resident_id=resident.id,
            team_id=team.id,
            mode=FollowUpMode.CLINIC,
            due_date=due,
            status=status,
            source=FollowUpSource.MANUAL,
            purpose="随访",
            done_at=done_at,
            created_at=kw.pop("created_at", noon(due - timedelta(days=30))),
            **kw,
        )
        db.session.add(item)
        db.session.flush()
        return item

    return _make
