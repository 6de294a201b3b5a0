"""Role x route matrix: for every route and every role, the allowed user gets through, and a
user of another team or household gets 404 or 403. A route missing here fails the suite, so
the matrix grows with every capability.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app

from app import idcard
from app.accounts.models import TEAM_ROLES, Organisation, OrganisationKind, Role, TeamMemberRole
from app.alerts import links as alert_links
from app.alerts import services as alert_services
from app.alerts.models import Severity
from app.auth.services import issue_token
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.residents import imports
from app.residents.models import CaregiverScope
from app.timeutil import local_today, utcnow
from referral.models import (
    AppointmentSlot,
    Referral,
    ReferralAttachment,
    ReferralStatus,
    Urgency,
)
from telecall.models import (
    AvailabilityException,
    ExceptionKind,
    ParticipantRole,
    Recording,
    RecordingStatus,
    Visit,
    VisitParticipant,
    VisitType,
)
from telecall.tokens import make_token, new_nonce
from tests.conftest import sign_in
from wearables.models import Device, DeviceKind, DeviceStatus

ALL = frozenset(Role)
STAFF = frozenset({Role.DOCTOR, Role.NURSE, Role.SPECIALIST, Role.ADMIN})
TEAM_AND_ADMIN = frozenset({Role.DOCTOR, Role.NURSE, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
GRANTORS = frozenset({Role.RESIDENT, Role.DOCTOR})
# A specialist reads a record only once the resident is referred to their department: the
# world's target resident is (w["referral"]); the other department's specialist is refused.
RECORD_READERS = ALL
PUBLIC = None  # no sign-in needed
REASON = "matrix check"


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: object  # callable(world) -> str
    allowed: frozenset | None
    # True when the route is about one resident of team A: B's users must be refused.
    scoped: bool = False
    body: object = None  # callable(world) -> dict
    ends_at_login: bool = False  # signing out lands on the sign-in page
    headers: object = None  # callable(world) -> dict, e.g. a join link's token

    @property
    def is_api(self) -> bool:
        return self.endpoint.split(".")[0].endswith("_api")

    def __str__(self):
        return f"{self.method} {self.endpoint}"


def _import_batch(w):
    """A CSV import of one row, uploaded by team A's doctor (made on first use)."""
    if "import_batch" not in w:
        text = (
            "姓名,性别,出生日期,身份证号,地址,居委会编码\n"
            f"矩阵,男,1938-02-03,{idcard.make('31011519380203993')},高行镇,"
            f"{w['team'].neighbourhoods[0].code}\n"
        )
        w["import_batch"] = imports.upload(w[Role.DOCTOR], "m.csv", text.encode()).batch
    return w["import_batch"]


# A batch is seen by whoever uploaded it (here the doctor) and by administrators only.
UPLOADER_AND_ADMIN = frozenset({Role.DOCTOR, Role.ADMIN})


def _link_body(w):
    return {
        "caregiver_id": w["spare_caregiver"].id,
        "relationship": "volunteer",
        "scope": "view",
        "ends_on": (local_today() + timedelta(days=30)).isoformat(),
    }


DOCTORS = frozenset({Role.DOCTOR})
SPECIALISTS = frozenset({Role.SPECIALIST})


def _device_path(suffix: str):
    return lambda w: f"/api/v1/devices/{w['device'].id}{suffix}"


def _device_page(suffix: str):
    return lambda w: f"/devices/resident/{w['target'].id}" + suffix.format(device=w["device"].id)


def _referral_path(suffix: str):
    return lambda w: f"/api/v1/referrals/{w['referral'].id}{suffix}"


def _referral_body(w):
    return {
        "resident_id": w["target"].id,
        "department_id": w["department"].id,
        "urgency": "routine",
        "reason": "复查",
        "clinical_summary": "血压偏高",
        "other_hospital_reason": "就近",
    }


def _return_body(w):
    return {"discharge_summary": "好转", "diagnoses": "高血压", "care_plan": "随访"}


def _slots_body(w):
    starts = (utcnow() + timedelta(days=5)).replace(microsecond=0).isoformat()
    return {"department_id": w["department"].id, "starts_at": starts, "count": 2}


def _referral_page(suffix: str):
    return lambda w: f"/referrals/{w['referral'].id}{suffix}"


TEAM_STAFF = frozenset({Role.DOCTOR, Role.NURSE})
UPLOADERS = frozenset({Role.DOCTOR, Role.NURSE, Role.SPECIALIST})


def _ack_link(w):
    """A one-tap acknowledge link for an alert about team A's resident, as e-mailed to
    their caregiver (made on first use). The token is the credential: any browser, signed
    in as anyone or not at all, gets the page; a tampered token gets 404 (tests/alerts)."""
    if "ack_link" not in w:
        alert = alert_services.raise_alert(w["target"].id, "event:fall", Severity.CRITICAL, "Fall")
        token = alert_links.make_token(alert[0].id, w[Role.CAREGIVER].id)
        w["ack_link"] = f"/a/{token}"
    return w["ack_link"]


def _alert(suffix: str = "", api: bool = False):
    """An open alert about team A's resident (made on first use), told to its caregiver."""

    def path(w):
        if "alert" not in w:
            w["alert"] = alert_services.raise_alert(
                w["target"].id, "event:sos", Severity.CRITICAL, "SOS"
            )[0]
        return f"{'/api/v1' if api else ''}/alerts/{w['alert'].id}{suffix}"

    return path


# may act on an alert: caregivers with care (or proxy) scope, the team, administrators
ALERT_ACTORS = frozenset({Role.CAREGIVER, Role.DOCTOR, Role.NURSE, Role.ADMIN})


def _snooze_body(w):
    return {"until": (utcnow() + timedelta(hours=1)).isoformat()}


# --- video visits ---------------------------------------------------------------------------
# Who books, moves and cancels: the resident, a caregiver with care scope (the world's has
# proxy), the team's doctors and nurses. Only the team runs a visit (end, invite, record).
VISIT_USERS = frozenset({Role.RESIDENT, Role.CAREGIVER, Role.DOCTOR, Role.NURSE})
CLINICIAN_AND_ADMIN_AVAILABILITY = frozenset({Role.DOCTOR, Role.ADMIN})


def _visit(w):
    """A video visit of team A's resident with its lead doctor, starting in 10 minutes (the
    room is open), with the resident's and the doctor's seats (made on first use). The
    world's contract is only requested, so booking and moving answer 422 (not signed)."""
    if "visit" not in w:
        start = utcnow().replace(microsecond=0) + timedelta(minutes=10)
        visit = Visit(
            resident=w["target"],
            team=w["team"],
            doctor_id=w[Role.DOCTOR].id,
            visit_type=VisitType.VIDEO_CONSULT,
            starts_at=start,
            ends_at=start + timedelta(minutes=20),
            booked_by_id=w[Role.RESIDENT].id,
        )
        db.session.add(visit)
        for role, user in (
            (ParticipantRole.RESIDENT, w[Role.RESIDENT]),
            (ParticipantRole.DOCTOR, w[Role.DOCTOR]),
        ):
            db.session.add(
                VisitParticipant(
                    visit=visit,
                    role=role,
                    user_id=user.id,
                    display_name=user.display_name,
                    token_nonce=new_nonce(),
                )
            )
        db.session.flush()
        w["visit"] = visit
    return w["visit"]


def _seat(w, role=ParticipantRole.RESIDENT):
    return next(p for p in _visit(w).participants if p.role == role)


def _visit_page(suffix: str = ""):
    return lambda w: f"/visits/{_visit(w).id}{suffix}"


def _visit_api(suffix: str = ""):
    return lambda w: f"/api/v1/visits/{_visit(w).id}{suffix}"


def _join_headers(w):
    """The resident's join link: the call API's only credential (anyone holding it)."""
    return {"X-Join-Token": make_token(_seat(w))}


def _recorder_headers(w):
    """The media process's recorder in the visit, for a recording that has not started."""
    if "recorder" not in w:
        visit = _visit(w)
        recorder = VisitParticipant(
            visit=visit,
            role=ParticipantRole.RECORDER,
            display_name="recorder",
            token_nonce=new_nonce(),
        )
        db.session.add(recorder)
        db.session.flush()
        db.session.add(
            Recording(
                visit_id=visit.id,
                recorder_participant_id=recorder.id,
                file_name="matrix-missing.mkv",
                started_by_id=w[Role.DOCTOR].id,
                purge_after=local_today() + timedelta(days=90),
            )
        )
        db.session.flush()
        w["recorder"] = recorder
    return {"X-Join-Token": make_token(w["recorder"])}


def _recording_file(w):
    """A finished recording of the visit, its file in RECORDINGS_DIR (made on first use)."""
    if "recording" not in w:
        folder = Path(current_app.config["RECORDINGS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "matrix.mkv").write_bytes(b"\x1a\x45\xdf\xa3")
        w["recording"] = Recording(
            visit_id=_visit(w).id,
            file_name="matrix.mkv",
            status=RecordingStatus.FINISHED,
            started_by_id=w[Role.DOCTOR].id,
            purge_after=local_today() + timedelta(days=90),
        )
        db.session.add(w["recording"])
        db.session.flush()
    return f"/visits/{_visit(w).id}/recordings/{w['recording'].id}"


def _availability_exception(w):
    """A closed day of team A's lead doctor (made on first use); only they remove it."""
    if "closed_day" not in w:
        w["closed_day"] = AvailabilityException(
            doctor_id=w[Role.DOCTOR].id,
            team_id=w["team"].id,
            on_date=local_today() + timedelta(days=1),
            kind=ExceptionKind.CLOSED,
        )
        db.session.add(w["closed_day"])
        db.session.flush()
    return w["closed_day"].id


def _booking_body(w):
    return {
        "resident_id": w["target"].id,
        "doctor_id": w[Role.DOCTOR].id,
        "visit_type": "video_consult",
        "starts_at": (utcnow() + timedelta(days=1)).replace(microsecond=0).isoformat(),
    }


def _offer_body(w):
    return {"sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n", "type": "offer"}


R = Route

# --- follow-ups -----------------------------------------------------------------------------
# The team plans, records and cancels; the resident and their caregiver read one; an
# administrator reads with a reason; a specialist sees none.
FOLLOW_UP_READERS = frozenset({Role.RESIDENT, Role.CAREGIVER, Role.DOCTOR, Role.NURSE, Role.ADMIN})


def _follow_up(suffix: str = "", api: bool = False):
    """A due follow-up of team A's resident, planned by hand (made on first use)."""

    def path(w):
        if "follow_up" not in w:
            from app.followups import services as followups
            from app.followups.models import FollowUpSource

            w["follow_up"] = followups.plan(
                w["target"].id, w["team"].id, local_today(), "复查", FollowUpSource.MANUAL
            )
        return f"{'/api/v1/follow-ups' if api else '/followups'}/{w['follow_up'].id}{suffix}"

    return path


def _report(suffix: str, api: bool = True):
    """A weekly check kept in the platform (made on first use)."""

    def path(w):
        if "report" not in w:
            from app.reports import services, weekly
            from app.reports.models import ReportKind, ReportTrigger

            w["report"] = services.generate(
                ReportKind.WEEKLY_CHECK, weekly.last_full_week(), ReportTrigger.ON_DEMAND
            )
        return f"{'/api/v1' if api else ''}/reports/{w['report'].id}{suffix}"

    return path


def _plan_body(w):
    return {
        "resident_id": w["target"].id,
        "due_date": local_today().isoformat(),
        "mode": "home",
        "purpose": "matrix",
    }


def _plan_page_body(w):
    return {k: v for k, v in _plan_body(w).items() if k != "resident_id"}


ROUTES = [
    # the shell
    R("web.index", "GET", lambda w: "/", PUBLIC),
    R("web.home", "GET", lambda w: "/home", ALL),
    R("web.healthz", "GET", lambda w: "/healthz", PUBLIC),
    R(
        "web.set_language",
        "POST",
        lambda w: "/preferences/language",
        PUBLIC,
        body=lambda w: {"lang": "en"},
    ),
    R(
        "web.set_large_text",
        "POST",
        lambda w: "/preferences/large-text",
        PUBLIC,
        body=lambda w: {"large_text": "1"},
    ),
    R("web.swagger_ui_file", "GET", lambda w: "/vendor/swagger-ui/swagger-ui.css", PUBLIC),
    R("api-docs.openapi_json", "GET", lambda w: "/api/v1/openapi.json", PUBLIC),
    R("api-docs.openapi_swagger_ui", "GET", lambda w: "/api/v1/docs", PUBLIC),
    R("static", "GET", lambda w: "/static/kangyang.css", PUBLIC),
    R("auth.login", "GET", lambda w: "/login", PUBLIC),
    R(
        "auth.login",
        "POST",
        lambda w: "/login",
        PUBLIC,
        body=lambda w: {"identifier": "x", "password": "y"},
    ),
    R("auth.logout", "POST", lambda w: "/logout", ALL, ends_at_login=True),
    # admin pages
    R("admin.organisations", "GET", lambda w: "/admin/organisations", ADMIN),
    R("admin.organisation_new", "GET", lambda w: "/admin/organisations/new", ADMIN),
    R(
        "admin.organisation_new",
        "POST",
        lambda w: "/admin/organisations/new",
        ADMIN,
        body=lambda w: {},
    ),
    R(
        "admin.organisation_edit",
        "GET",
        lambda w: f"/admin/organisations/{w['centre'].id}/edit",
        ADMIN,
    ),
    R(
        "admin.organisation_edit",
        "POST",
        lambda w: f"/admin/organisations/{w['centre'].id}/edit",
        ADMIN,
        body=lambda w: {},
    ),
    R("admin.users", "GET", lambda w: "/admin/users", ADMIN),
    R("admin.user_new", "GET", lambda w: "/admin/users/new", ADMIN),
    R("admin.user_new", "POST", lambda w: "/admin/users/new", ADMIN, body=lambda w: {}),
    R("admin.user_edit", "GET", lambda w: f"/admin/users/{w[Role.NURSE].id}/edit", ADMIN),
    R(
        "admin.user_edit",
        "POST",
        lambda w: f"/admin/users/{w[Role.NURSE].id}/edit",
        ADMIN,
        body=lambda w: {},
    ),
    R(
        "admin.user_unlock",
        "POST",
        lambda w: f"/admin/users/{w[Role.NURSE].id}/unlock",
        ADMIN,
        body=lambda w: {},
    ),
    R("admin.teams", "GET", lambda w: "/admin/teams", ADMIN),
    R("admin.team_new", "GET", lambda w: "/admin/teams/new", ADMIN),
    R("admin.team_new", "POST", lambda w: "/admin/teams/new", ADMIN, body=lambda w: {}),
    R("admin.team_detail", "GET", lambda w: f"/admin/teams/{w['team'].id}", ADMIN),
    R(
        "admin.team_detail",
        "POST",
        lambda w: f"/admin/teams/{w['team'].id}",
        ADMIN,
        body=lambda w: {},
    ),
    R(
        "admin.team_add_member",
        "POST",
        lambda w: f"/admin/teams/{w['team'].id}/members",
        ADMIN,
        body=lambda w: {},
    ),
    R(
        "admin.team_remove_member",
        "POST",
        lambda w: f"/admin/teams/{w['team'].id}/members/{w[Role.NURSE].id}/remove",
        ADMIN,
        body=lambda w: {},
    ),
    R(
        "admin.team_change_lead",
        "POST",
        lambda w: f"/admin/teams/{w['team'].id}/lead",
        ADMIN,
        body=lambda w: {},
    ),
    # residents' pages
    R("residents.index", "GET", lambda w: "/residents/", TEAM_AND_ADMIN),
    R("residents.new", "GET", lambda w: "/residents/new", TEAM_AND_ADMIN),
    R("residents.new", "POST", lambda w: "/residents/new", TEAM_AND_ADMIN, body=lambda w: {}),
    R(
        "residents.detail",
        "GET",
        lambda w: f"/residents/{w['target'].id}",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "residents.edit",
        "GET",
        lambda w: f"/residents/{w['target'].id}/edit",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "residents.edit",
        "POST",
        lambda w: f"/residents/{w['target'].id}/edit",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R("residents.households", "GET", lambda w: "/residents/households", TEAM_AND_ADMIN),
    R(
        "residents.households",
        "POST",
        lambda w: "/residents/households",
        TEAM_AND_ADMIN,
        body=lambda w: {},
    ),
    R(
        "residents.caregivers",
        "GET",
        lambda w: f"/residents/{w['target'].id}/caregivers",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "residents.grant_caregiver",
        "POST",
        lambda w: f"/residents/{w['target'].id}/caregivers",
        GRANTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "residents.revoke_caregiver",
        "POST",
        lambda w: f"/residents/{w['target'].id}/caregivers/{w['link'].id}/revoke",
        GRANTORS,
        scoped=True,
        body=lambda w: {},
    ),
    # residents' pages: importing a register from CSV
    R(
        "residents.import_template",
        "GET",
        lambda w: "/residents/import/template.csv",
        TEAM_AND_ADMIN,
    ),
    R("residents.import_upload", "GET", lambda w: "/residents/import", TEAM_AND_ADMIN),
    R(
        "residents.import_upload",
        "POST",
        lambda w: "/residents/import",
        TEAM_AND_ADMIN,
        body=lambda w: {},
    ),
    R(
        "residents.import_preview",
        "GET",
        lambda w: f"/residents/import/{_import_batch(w).id}",
        UPLOADER_AND_ADMIN,
        scoped=True,
    ),
    R(
        "residents.import_confirm",
        "POST",
        lambda w: f"/residents/import/{_import_batch(w).id}/confirm",
        UPLOADER_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "residents.import_discard",
        "POST",
        lambda w: f"/residents/import/{_import_batch(w).id}/discard",
        UPLOADER_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    # API: auth and accounts
    R(
        "auth_api.Token",
        "POST",
        lambda w: "/api/v1/auth/token",
        PUBLIC,
        body=lambda w: {"username": "x", "password": "y"},
    ),
    R("accounts_api.Me", "GET", lambda w: "/api/v1/me", ALL),
    R("accounts_api.Organisations", "GET", lambda w: "/api/v1/organisations", STAFF),
    R(
        "accounts_api.Organisations",
        "POST",
        lambda w: "/api/v1/organisations",
        ADMIN,
        body=lambda w: {"code": "M1", "name": "m", "kind": "community_centre"},
    ),
    R(
        "accounts_api.OrganisationById",
        "GET",
        lambda w: f"/api/v1/organisations/{w['centre'].id}",
        STAFF,
    ),
    R(
        "accounts_api.OrganisationById",
        "PATCH",
        lambda w: f"/api/v1/organisations/{w['centre'].id}",
        ADMIN,
        body=lambda w: {"name": "n"},
    ),
    R("accounts_api.Users", "GET", lambda w: "/api/v1/users", ADMIN),
    R(
        "accounts_api.Users",
        "POST",
        lambda w: "/api/v1/users",
        ADMIN,
        body=lambda w: {
            "username": "m.x",
            "password": "long-enough-1",
            "display_name": "m",
            "role": "nurse",
        },
    ),
    R("accounts_api.UserById", "GET", lambda w: f"/api/v1/users/{w[Role.NURSE].id}", ADMIN),
    R(
        "accounts_api.UserById",
        "PATCH",
        lambda w: f"/api/v1/users/{w[Role.NURSE].id}",
        ADMIN,
        body=lambda w: {"display_name": "n"},
    ),
    R("accounts_api.Teams", "GET", lambda w: "/api/v1/teams", STAFF),
    R(
        "accounts_api.Teams",
        "POST",
        lambda w: "/api/v1/teams",
        ADMIN,
        body=lambda w: {"name": "t", "centre_id": w["centre"].id, "lead_id": w["spare_doctor"].id},
    ),
    R("accounts_api.TeamById", "GET", lambda w: f"/api/v1/teams/{w['team'].id}", STAFF),
    R(
        "accounts_api.TeamById",
        "PATCH",
        lambda w: f"/api/v1/teams/{w['team'].id}",
        ADMIN,
        body=lambda w: {"name": "t2"},
    ),
    R(
        "accounts_api.TeamMembers",
        "POST",
        lambda w: f"/api/v1/teams/{w['team'].id}/members",
        ADMIN,
        body=lambda w: {"user_id": w["spare_doctor"].id, "member_role": "doctor"},
    ),
    R(
        "accounts_api.TeamMemberById",
        "DELETE",
        lambda w: f"/api/v1/teams/{w['team'].id}/members/{w[Role.NURSE].id}",
        ADMIN,
    ),
    R(
        "accounts_api.TeamLead",
        "PUT",
        lambda w: f"/api/v1/teams/{w['team'].id}/lead",
        ADMIN,
        body=lambda w: {"user_id": w["spare_doctor"].id},
    ),
    # API: contracts
    R("contracts_api.Contracts", "GET", lambda w: "/api/v1/contracts", ALL),
    R(
        "contracts_api.Contracts",
        "POST",
        lambda w: "/api/v1/contracts",
        ALL - {Role.SPECIALIST},
        scoped=True,
        body=lambda w: {"resident_id": w["target"].id, "team_id": w["team"].id, "package": "basic"},
    ),
    R("contracts_api.Packages", "GET", lambda w: "/api/v1/contracts/packages", ALL),
    R(
        "contracts_api.ContractById",
        "GET",
        lambda w: f"/api/v1/contracts/{w['contract'].id}",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "contracts_api.ContractEvents",
        "GET",
        lambda w: f"/api/v1/contracts/{w['contract'].id}/events",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "contracts_api.Accept",
        "POST",
        lambda w: f"/api/v1/contracts/{w['contract'].id}/accept",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "contracts_api.Reject",
        "POST",
        lambda w: f"/api/v1/contracts/{w['contract'].id}/reject",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {"reason": "not now"},
    ),
    R(
        "contracts_api.Cancel",
        "POST",
        lambda w: f"/api/v1/contracts/{w['contract'].id}/cancel",
        ALL - {Role.SPECIALIST},
        scoped=True,
        body=lambda w: {},
    ),
    # The body asks for online consent, which only the resident themself can give.
    R(
        "contracts_api.Consent",
        "POST",
        lambda w: f"/api/v1/contracts/{w['contract'].id}/consent",
        frozenset({Role.RESIDENT}),
        scoped=True,
        body=lambda w: {"method": "online", "text_version": "2026-01"},
    ),
    R(
        "contracts_api.Terminate",
        "POST",
        lambda w: f"/api/v1/contracts/{w['contract'].id}/terminate",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {"reason": "moved away"},
    ),
    # contract figures (aggregates: each user sees their own teams' rows, so not scoped)
    R("contracts.stats", "GET", lambda w: "/contracts/stats", TEAM_AND_ADMIN),
    R(
        "contracts_stats_api.ContractStats",
        "GET",
        lambda w: "/api/v1/stats/contracts",
        TEAM_AND_ADMIN,
    ),
    # referral figures (aggregates within each user's teams or department, so not scoped)
    R("referral_stats.stats", "GET", lambda w: "/referrals/stats", STAFF),
    R(
        "referral_stats_api.ReferralStats",
        "GET",
        lambda w: "/api/v1/stats/referrals",
        STAFF,
    ),
    # contract pages (w["contract"]: team A's resident has asked to sign, status requested)
    R(
        "contracts.resident",
        "GET",
        lambda w: f"/contracts/resident/{w['target'].id}",
        RECORD_READERS,
        scoped=True,
    ),
    # Only the resident or a proxy caregiver requests (the world's caregiver has proxy scope).
    R(
        "contracts.request_signing",
        "POST",
        lambda w: f"/contracts/resident/{w['target'].id}/request",
        frozenset({Role.RESIDENT, Role.CAREGIVER}),
        scoped=True,
        body=lambda w: {},
    ),
    R("contracts.worklist", "GET", lambda w: "/contracts/worklist", frozenset(TEAM_ROLES)),
    R("contracts.index", "GET", lambda w: "/contracts/", TEAM_AND_ADMIN),
    R(
        "contracts.new",
        "GET",
        lambda w: f"/contracts/new?resident_id={w['target'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "contracts.new",
        "POST",
        lambda w: f"/contracts/new?resident_id={w['target'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "contracts.detail",
        "GET",
        lambda w: f"/contracts/{w['contract'].id}",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "contracts.accept",
        "POST",
        lambda w: f"/contracts/{w['contract'].id}/accept",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "contracts.reject",
        "POST",
        lambda w: f"/contracts/{w['contract'].id}/reject",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    # Each may try (the contract is not yet waiting for consent: 409); a specialist never sees it.
    R(
        "contracts.consent",
        "POST",
        lambda w: f"/contracts/{w['contract'].id}/consent",
        ALL - {Role.SPECIALIST},
        scoped=True,
        body=lambda w: {"text_version": "2026-01"},
    ),
    R(
        "contracts.cancel",
        "POST",
        lambda w: f"/contracts/{w['contract'].id}/cancel",
        ALL - {Role.SPECIALIST},
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "contracts.terminate",
        "POST",
        lambda w: f"/contracts/{w['contract'].id}/terminate",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    # notifications: everyone signed in has their own
    R("notifications.index", "GET", lambda w: "/notifications/", ALL),
    R("notifications.mark_read", "POST", lambda w: "/notifications/read", ALL, body=lambda w: {}),
    # API: referrals
    R("referral_api.Referrals", "GET", lambda w: "/api/v1/referrals", ALL),
    R(
        "referral_api.Referrals",
        "POST",
        lambda w: "/api/v1/referrals",
        DOCTORS,
        scoped=True,
        body=_referral_body,
    ),
    R("referral_api.ReferralById", "GET", _referral_path(""), ALL, scoped=True),
    R("referral_api.ReferralFhir", "GET", _referral_path("/fhir"), STAFF, scoped=True),
    R("referral_api.ReferralEvents", "GET", _referral_path("/events"), ALL, scoped=True),
    R("referral_api.Messages", "GET", _referral_path("/messages"), ALL, scoped=True),
    R(
        "referral_api.Send",
        "POST",
        _referral_path("/send"),
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.Seen",
        "POST",
        _referral_path("/seen"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.AskInfo",
        "POST",
        _referral_path("/ask_info"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {"body": "请补充检查"},
    ),
    R(
        "referral_api.Answer",
        "POST",
        _referral_path("/answer"),
        DOCTORS,
        scoped=True,
        body=lambda w: {"body": "已补充"},
    ),
    R(
        "referral_api.Accept",
        "POST",
        _referral_path("/accept"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {"slot_id": w["slot"].id},
    ),
    R(
        "referral_api.Reject",
        "POST",
        _referral_path("/reject"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {"reason": "不需要"},
    ),
    R(
        "referral_api.Cancel",
        "POST",
        _referral_path("/cancel"),
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.Admit",
        "POST",
        _referral_path("/admit"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.Complete",
        "POST",
        _referral_path("/complete"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.Return",
        "POST",
        _referral_path("/return"),
        SPECIALISTS,
        scoped=True,
        body=_return_body,
    ),
    R(
        "referral_api.AcceptReturn",
        "POST",
        _referral_path("/accept_return"),
        frozenset({Role.DOCTOR, Role.NURSE}),
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.Acknowledge",
        "POST",
        _referral_path("/acknowledge"),
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    # No file is sent: whoever gets through is told the file is missing (422).
    R(
        "referral_api.Attachments",
        "POST",
        _referral_path("/attachments"),
        STAFF,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral_api.AttachmentById",
        "GET",
        lambda w: f"/api/v1/referrals/{w['referral'].id}/attachments/{w['attachment'].id}",
        ALL,
        scoped=True,
    ),
    R(
        "referral_api.Slots",
        "GET",
        lambda w: f"/api/v1/slots?department_id={w['department'].id}",
        STAFF,
    ),
    R(
        "referral_api.Slots",
        "POST",
        lambda w: "/api/v1/slots",
        frozenset({Role.SPECIALIST, Role.ADMIN}),
        scoped=True,
        body=_slots_body,
    ),
    # referral pages (w["referral"]: team A's resident, sent to the world specialist's
    # department; a refused transition answers 409 with the page, which still got through)
    R("referral.index", "GET", lambda w: "/referrals/", ALL),
    R(
        "referral.new",
        "GET",
        lambda w: f"/referrals/new?resident_id={w['target'].id}",
        DOCTORS,
        scoped=True,
    ),
    R(
        "referral.new",
        "POST",
        lambda w: f"/referrals/new?resident_id={w['target'].id}",
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R("referral.detail", "GET", _referral_page(""), ALL, scoped=True),
    # No file is sent: whoever gets through is told to choose one (422).
    R(
        "referral.upload",
        "POST",
        _referral_page("/attachments"),
        UPLOADERS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral.attachment",
        "GET",
        lambda w: f"/referrals/{w['referral'].id}/attachments/{w['attachment'].id}",
        ALL,
        scoped=True,
    ),
    R("referral.send", "POST", _referral_page("/send"), DOCTORS, scoped=True, body=lambda w: {}),
    R(
        "referral.answer",
        "POST",
        _referral_page("/answer"),
        DOCTORS,
        scoped=True,
        body=lambda w: {"body": "已补充"},
    ),
    R(
        "referral.cancel",
        "POST",
        _referral_page("/cancel"),
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral.accept_return",
        "POST",
        _referral_page("/accept_return"),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral.acknowledge",
        "POST",
        _referral_page("/acknowledge"),
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R("referral.inbox", "GET", lambda w: "/referrals/inbox", SPECIALISTS),
    R("referral.slot_list", "GET", lambda w: "/referrals/slots", SPECIALISTS),
    R("referral.slot_list", "POST", lambda w: "/referrals/slots", SPECIALISTS, body=lambda w: {}),
    R(
        "referral.seen",
        "POST",
        _referral_page("/seen"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral.ask_info",
        "POST",
        _referral_page("/ask_info"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {"body": "请补充检查"},
    ),
    R(
        "referral.accept",
        "POST",
        _referral_page("/accept"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {"slot_id": w["slot"].id},
    ),
    R(
        "referral.reject",
        "POST",
        _referral_page("/reject"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {"rejection_reason": "不需要"},
    ),
    R(
        "referral.admit",
        "POST",
        _referral_page("/admit"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "referral.complete",
        "POST",
        _referral_page("/complete"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    R("referral.return_form", "GET", _referral_page("/return"), SPECIALISTS, scoped=True),
    R(
        "referral.return_form",
        "POST",
        _referral_page("/return"),
        SPECIALISTS,
        scoped=True,
        body=lambda w: {},
    ),
    # vitals pages (charts and CSV export of a resident's readings)
    R(
        "wearables.vitals",
        "GET",
        lambda w: f"/vitals/{w['target'].id}?range=day",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "wearables.vitals",
        "GET",
        lambda w: f"/vitals/{w['target'].id}?range=week",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "wearables.export",
        "GET",
        lambda w: f"/vitals/{w['target'].id}/export.csv",
        RECORD_READERS,
        scoped=True,
    ),
    # API: wearables
    R(
        "wearables_api.Ingest",
        "POST",
        lambda w: "/api/v1/ingest",
        PUBLIC,
        body=lambda w: {"readings": []},
    ),
    R(
        "wearables_api.Devices",
        "GET",
        lambda w: f"/api/v1/devices?resident_id={w['target'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "wearables_api.Devices",
        "POST",
        lambda w: "/api/v1/devices",
        TEAM_AND_ADMIN,
        body=lambda w: {"serial": "M-1", "kind": "watch"},
    ),
    R(
        "wearables_api.DeviceBind",
        "POST",
        _device_path("/bind"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {"resident_id": w["target"].id},
    ),
    R(
        "wearables_api.DeviceUnbind",
        "POST",
        _device_path("/unbind"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "wearables_api.DeviceLost",
        "POST",
        _device_path("/lost"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "wearables_api.DeviceRotateToken",
        "POST",
        _device_path("/rotate-token"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "wearables_api.Readings",
        "GET",
        lambda w: (
            f"/api/v1/residents/{w['target'].id}/readings?metric=heart_rate&since=2026-01-01T00:00:00%2B08:00&until=2030-01-01T00:00:00%2B08:00"
        ),
        ALL,
        scoped=True,
    ),
    R(
        "wearables_api.HourlyReadings",
        "GET",
        lambda w: (
            f"/api/v1/residents/{w['target'].id}/readings/hourly?metric=heart_rate&since=2026-01-01T00:00:00%2B08:00&until=2030-01-01T00:00:00%2B08:00"
        ),
        ALL,
        scoped=True,
    ),
    # device pages (a resident's devices; with an empty form the allowed user gets a 422)
    R("devices.resident_devices", "GET", _device_page(""), TEAM_AND_ADMIN, scoped=True),
    R(
        "devices.register",
        "POST",
        _device_page("/register"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "devices.bind",
        "POST",
        _device_page("/bind"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "devices.unbind",
        "POST",
        _device_page("/{device}/unbind"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "devices.mark_lost",
        "POST",
        _device_page("/{device}/lost"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "devices.rotate_token",
        "POST",
        _device_page("/{device}/rotate-token"),
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {},
    ),
    R("devices.dead_letters", "GET", lambda w: "/devices/dead-letters", ADMIN),
    R("dead_letters_api.DeadLetters", "GET", lambda w: "/api/v1/mqtt/dead-letters", ADMIN),
    # a calculator: no resident data, any signed-in role (an empty set answers a partial 0)
    R(
        "scores_api.News2Calculator",
        "POST",
        lambda w: "/api/v1/scores/news2",
        ALL,
        body=lambda w: {"heart_rate": 95},
    ),
    # a resident's alert rules: limits and the profile changed by a team doctor, with a
    # reason; ACVPU recorded by a doctor or nurse of the team
    R(
        "rules_api.AlertThresholds",
        "GET",
        lambda w: f"/api/v1/residents/{w['target'].id}/alert-thresholds",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "rules_api.AlertThresholdByMetric",
        "PUT",
        lambda w: f"/api/v1/residents/{w['target'].id}/alert-thresholds/systolic_bp",
        DOCTORS,
        scoped=True,
        body=lambda w: {"high": 170, "reason": REASON},
    ),
    R(
        "rules_api.AlertThresholdByMetric",
        "DELETE",
        lambda w: f"/api/v1/residents/{w['target'].id}/alert-thresholds/systolic_bp",
        DOCTORS,
        scoped=True,
        body=lambda w: {"reason": REASON},
    ),
    R(
        "rules_api.Monitoring",
        "GET",
        lambda w: f"/api/v1/residents/{w['target'].id}/monitoring",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "rules_api.Monitoring",
        "PUT",
        lambda w: f"/api/v1/residents/{w['target'].id}/monitoring",
        DOCTORS,
        scoped=True,
        body=lambda w: {"on_oxygen": False, "reason": REASON},
    ),
    R(
        "rules_api.ConsciousnessAssessments",
        "POST",
        lambda w: f"/api/v1/residents/{w['target'].id}/consciousness",
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"level": "A"},
    ),
    # one-tap acknowledge links in alert e-mails and SMS: no sign-in, the token decides
    R("alert_links.page", "GET", _ack_link, PUBLIC),
    R("alert_links.acknowledge", "POST", _ack_link, PUBLIC, body=lambda w: {}),
    # API: residents
    R("residents_api.Residents", "GET", lambda w: "/api/v1/residents", ALL),
    R(
        "residents_api.Residents",
        "POST",
        lambda w: "/api/v1/residents",
        TEAM_AND_ADMIN,
        body=lambda w: {},
    ),
    R(
        "residents_api.ResidentById",
        "GET",
        lambda w: f"/api/v1/residents/{w['target'].id}",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "residents_api.ResidentById",
        "PATCH",
        lambda w: f"/api/v1/residents/{w['target'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
        body=lambda w: {"address": "新地址"},
    ),
    R(
        "residents_api.ResidentCaregivers",
        "GET",
        lambda w: f"/api/v1/residents/{w['target'].id}/caregivers",
        RECORD_READERS,
        scoped=True,
    ),
    R(
        "residents_api.ResidentCaregivers",
        "POST",
        lambda w: f"/api/v1/residents/{w['target'].id}/caregivers",
        GRANTORS,
        scoped=True,
        body=_link_body,
    ),
    R(
        "residents_api.RevokeCaregiver",
        "POST",
        lambda w: f"/api/v1/residents/{w['target'].id}/caregivers/{w['link'].id}/revoke",
        GRANTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R("residents_api.Households", "GET", lambda w: "/api/v1/households", TEAM_AND_ADMIN),
    R(
        "residents_api.Households",
        "POST",
        lambda w: "/api/v1/households",
        TEAM_AND_ADMIN,
        body=lambda w: {},
    ),
    R(
        "residents_import_api.ResidentImports",
        "POST",
        lambda w: "/api/v1/residents/imports",
        TEAM_AND_ADMIN,
        body=lambda w: {},
    ),
    R(
        "residents_import_api.ConfirmResidentImport",
        "POST",
        lambda w: f"/api/v1/residents/imports/{_import_batch(w).id}/confirm",
        UPLOADER_AND_ADMIN,
        scoped=True,
    ),
    # alerts: the API, the pages (the queue sends caregivers and residents to their own
    # page and the other way round), the live stream, and the pages' script and style
    R("alerts_api.Alerts", "GET", lambda w: "/api/v1/alerts", ALL),
    R("alerts_api.AlertById", "GET", _alert(api=True), RECORD_READERS, scoped=True),
    R(
        "alerts_api.Acknowledge",
        "POST",
        _alert("/acknowledge", api=True),
        ALERT_ACTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "alerts_api.Resolve",
        "POST",
        _alert("/resolve", api=True),
        ALERT_ACTORS,
        scoped=True,
        body=lambda w: {"note": "matrix"},
    ),
    R(
        "alerts_api.Snooze",
        "POST",
        _alert("/snooze", api=True),
        ALERT_ACTORS,
        scoped=True,
        body=_snooze_body,
    ),
    R("alerts.queue", "GET", lambda w: "/alerts/", ALL),
    R("alerts.mine", "GET", lambda w: "/alerts/mine", ALL),
    R("alerts.stream", "GET", lambda w: "/alerts/stream", ALL),
    R("alerts.detail", "GET", _alert(), RECORD_READERS, scoped=True),
    R("alerts.card", "GET", _alert("/card"), RECORD_READERS, scoped=True),
    R(
        "alerts.acknowledge",
        "POST",
        _alert("/acknowledge"),
        ALERT_ACTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "alerts.resolve",
        "POST",
        _alert("/resolve"),
        ALERT_ACTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "alerts.snooze",
        "POST",
        _alert("/snooze"),
        ALERT_ACTORS,
        scoped=True,
        body=lambda w: {},
    ),
    R("alerts.static", "GET", lambda w: "/alerts/static/alerts.js", PUBLIC),
    # video visits: the JSON API (w["visit"]: team A's resident, booked with its lead doctor)
    R("visits_api.Weekly", "GET", lambda w: "/api/v1/availability", TEAM_STAFF),
    R(
        "visits_api.Weekly",
        "PUT",
        lambda w: "/api/v1/availability",
        TEAM_AND_ADMIN,  # an administrator is told they take no visits (422)
        body=lambda w: {"team_id": w["team"].id, "windows": []},
    ),
    R(
        "visits_api.add_exception",
        "POST",
        lambda w: "/api/v1/availability/exceptions",
        TEAM_AND_ADMIN,
        body=lambda w: {
            "team_id": w["team"].id,
            "on_date": (local_today() + timedelta(days=2)).isoformat(),
            "kind": "closed",
        },
    ),
    R(
        "visits_api.remove_exception",
        "DELETE",
        lambda w: f"/api/v1/availability/exceptions/{_availability_exception(w)}",
        CLINICIAN_AND_ADMIN_AVAILABILITY,
        scoped=True,
    ),
    R(
        "visits_api.slots",
        "GET",
        lambda w: f"/api/v1/visit-slots?resident_id={w['target'].id}&visit_type=video_consult",
        VISIT_USERS,
        scoped=True,
    ),
    R("visits_api.Visits", "GET", lambda w: "/api/v1/visits", ALL),
    R(
        "visits_api.Visits",
        "POST",
        lambda w: "/api/v1/visits",
        VISIT_USERS,
        scoped=True,
        body=_booking_body,
    ),
    R("visits_api.visit_detail", "GET", _visit_api(), RECORD_READERS, scoped=True),
    R(
        "visits_api.reschedule",
        "POST",
        _visit_api("/reschedule"),
        VISIT_USERS,
        scoped=True,
        body=lambda w: {"starts_at": _booking_body(w)["starts_at"]},
    ),
    R(
        "visits_api.cancel",
        "POST",
        _visit_api("/cancel"),
        VISIT_USERS,
        scoped=True,
        body=lambda w: {"reason": "matrix"},
    ),
    R("visits_api.end", "POST", _visit_api("/end"), TEAM_STAFF, scoped=True),
    R(
        "visits_api.save_form",
        "PUT",
        _visit_api("/form"),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"condition": "hypertension", "classification": "satisfactory"},
    ),
    R(
        "visits_api.save_notes",
        "PUT",
        _visit_api("/notes"),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"notes": "matrix"},
    ),
    R(
        "visits_api.invite",
        "POST",
        _visit_api("/participants"),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"role": "interpreter", "display_name": "matrix"},
    ),
    R(
        "visits_api.remove",
        "DELETE",
        lambda w: f"/api/v1/visits/{_visit(w).id}/participants/{_seat(w).id}",
        TEAM_STAFF,
        scoped=True,
    ),
    R("visits_api.start_recording", "POST", _visit_api("/recordings"), TEAM_STAFF, scoped=True),
    R("visits_api.stop_recording", "DELETE", _visit_api("/recordings"), TEAM_STAFF, scoped=True),
    # signed in, or holding a join link; no media process here, so a 503 for whoever passes
    R(
        "visits_api.device_check",
        "POST",
        lambda w: "/api/v1/device-check/offer",
        ALL,
        body=_offer_body,
    ),
    # the call API: the join link's token is the credential, whoever sends it
    R(
        "call_api.join",
        "POST",
        lambda w: "/api/v1/call/join",
        PUBLIC,
        body=lambda w: {"client": "browser"},
        headers=_join_headers,
    ),
    R("call_api.events", "GET", lambda w: "/api/v1/call/events", PUBLIC, headers=_join_headers),
    R(
        "call_api.signal",
        "POST",
        lambda w: "/api/v1/call/signal",
        PUBLIC,
        body=lambda w: {
            "to": _seat(w, ParticipantRole.DOCTOR).id,
            "kind": "offer",
            "payload": {"type": "offer", "sdp": "v=0"},
        },
        headers=_join_headers,
    ),
    R("call_api.leave", "POST", lambda w: "/api/v1/call/leave", PUBLIC, headers=_join_headers),
    R(
        "call_api.quality",
        "POST",
        lambda w: "/api/v1/call/quality",
        PUBLIC,
        body=lambda w: {"rtt_ms": 50},
        headers=_join_headers,
    ),
    R("call_api.consent", "POST", lambda w: "/api/v1/call/consent", PUBLIC, headers=_join_headers),
    R(
        "call_api.withdraw",
        "DELETE",
        lambda w: "/api/v1/call/consent",
        PUBLIC,
        headers=_join_headers,
    ),
    # the recorder reports its file (missing here: 422 for whoever holds its token)
    R(
        "call_api.recording_finished",
        "POST",
        lambda w: "/api/v1/call/recording-finished",
        PUBLIC,
        body=lambda w: {"bytes": 4, "sha256": "0" * 64, "seconds": 1.0},
        headers=_recorder_headers,
    ),
    # video-visit pages: the workbench sends the resident's side to their own page
    R("visits.static", "GET", lambda w: "/visits/static/visits.css", PUBLIC),
    R("visits.workbench", "GET", lambda w: "/visits/", VISIT_USERS),
    R("visits.mine", "GET", lambda w: "/visits/mine", frozenset({Role.RESIDENT, Role.CAREGIVER})),
    R("visits.waiting_json", "GET", lambda w: "/visits/waiting.json", TEAM_STAFF),
    R(
        "visits.book_pick",
        "GET",
        lambda w: f"/visits/book?resident_id={w['target'].id}",
        TEAM_STAFF,
    ),
    R("visits.book", "GET", lambda w: f"/visits/book/{w['target'].id}", VISIT_USERS, scoped=True),
    R(
        "visits.book",
        "POST",
        lambda w: f"/visits/book/{w['target'].id}",
        VISIT_USERS,
        scoped=True,
        body=lambda w: {},
    ),
    R("visits.booked", "GET", _visit_page("/booked"), RECORD_READERS, scoped=True),
    R("visits.record", "GET", _visit_page(), RECORD_READERS, scoped=True),
    R("visits.reschedule", "GET", _visit_page("/reschedule"), VISIT_USERS, scoped=True),
    R(
        "visits.reschedule",
        "POST",
        _visit_page("/reschedule"),
        VISIT_USERS,
        scoped=True,
        body=lambda w: {},
    ),
    R("visits.cancel", "GET", _visit_page("/cancel"), VISIT_USERS, scoped=True),
    R("visits.cancel", "POST", _visit_page("/cancel"), VISIT_USERS, scoped=True, body=lambda w: {}),
    R("visits.invite", "POST", _visit_page("/invite"), TEAM_STAFF, scoped=True, body=lambda w: {}),
    # the resident cannot be removed: the team is told so (422)
    R(
        "visits.remove_participant",
        "POST",
        lambda w: f"/visits/{_visit(w).id}/participants/{_seat(w).id}/remove",
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {},
    ),
    R("visits.end", "POST", _visit_page("/end"), TEAM_STAFF, scoped=True, body=lambda w: {}),
    R("visits.recording_file", "GET", _recording_file, TEAM_STAFF, scoped=True),
    R("visits.availability_edit", "GET", lambda w: "/visits/availability", TEAM_STAFF),
    R(
        "visits.availability_weekly",
        "POST",
        lambda w: f"/visits/availability/{w['team'].id}/weekly",
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "visits.availability_exception",
        "POST",
        lambda w: f"/visits/availability/{w['team'].id}/exceptions",
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {},
    ),
    R(
        "visits.availability_exception_remove",
        "POST",
        lambda w: f"/visits/availability/exceptions/{_availability_exception(w)}/remove",
        DOCTORS,
        scoped=True,
        body=lambda w: {},
    ),
    # the call pages: a join link needs no sign-in; the team opens its seat from the workbench
    R("call.static", "GET", lambda w: "/visits/call-static/call.js", PUBLIC),
    R("call.link_page", "GET", lambda w: f"/v/{make_token(_seat(w))}", PUBLIC),
    R("call.link_check", "GET", lambda w: f"/v/{make_token(_seat(w))}/check", PUBLIC),
    R("call.my_check", "GET", lambda w: "/visits/check", ALL),
    R("call.doctor_call", "GET", _visit_page("/call"), TEAM_STAFF, scoped=True),
    R("call.vitals", "GET", _visit_page("/call/vitals"), TEAM_STAFF, scoped=True),
    # follow-ups: the API and the pages
    R("followups_api.FollowUps", "GET", lambda w: "/api/v1/follow-ups", ALL),
    R(
        "followups_api.FollowUps",
        "POST",
        lambda w: "/api/v1/follow-ups",
        TEAM_STAFF,
        scoped=True,
        body=_plan_body,
    ),
    R("followups_api.FollowUpById", "GET", _follow_up(api=True), FOLLOW_UP_READERS, scoped=True),
    R(
        "followups_api.Result",
        "POST",
        _follow_up("/result", api=True),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"mode": "phone"},
    ),
    R(
        "followups_api.Cancel",
        "POST",
        _follow_up("/cancel", api=True),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"reason": "matrix"},
    ),
    R("followups.worklist", "GET", lambda w: "/followups/", TEAM_STAFF),
    R("followups.routes", "GET", lambda w: "/followups/routes", TEAM_STAFF),
    R("followups.detail", "GET", _follow_up(), FOLLOW_UP_READERS, scoped=True),
    R(
        "followups.record_result",
        "POST",
        _follow_up("/result"),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"mode": "phone"},
    ),
    R(
        "followups.cancel",
        "POST",
        _follow_up("/cancel"),
        TEAM_STAFF,
        scoped=True,
        body=lambda w: {"reason": "matrix"},
    ),
    R(
        "followups.new",
        "GET",
        lambda w: f"/followups/new?resident_id={w['target'].id}",
        TEAM_STAFF,
        scoped=True,
    ),
    R(
        "followups.new",
        "POST",
        lambda w: f"/followups/new?resident_id={w['target'].id}",
        TEAM_STAFF,
        scoped=True,
        body=_plan_page_body,
    ),
    # KPIs: the town's health office and the teams; a team's board is refused to team B
    R("kpis_api.Definitions", "GET", lambda w: "/api/v1/kpis", TEAM_AND_ADMIN),
    R(
        "kpis_api.Settings",
        "PUT",
        lambda w: "/api/v1/kpis/settings",
        ADMIN,
        body=lambda w: {"settings": {"signing_rate": {"target": 0.5}}, "reason": REASON},
    ),
    R(
        "kpis_api.Board",
        "GET",
        lambda w: f"/api/v1/kpis/board?area=team&area_id={w['team'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "kpis_api.Members",
        "GET",
        lambda w: f"/api/v1/kpis/signing_rate/residents?area=team&area_id={w['team'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    # the KPI pages (app/kpis/routes.py): the same access as the API
    R(
        "kpi_pages.board",
        "GET",
        lambda w: f"/kpis?area=team&area_id={w['team'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R(
        "kpi_pages.residents",
        "GET",
        lambda w: f"/kpis/signing_rate/residents?area=team&area_id={w['team'].id}",
        TEAM_AND_ADMIN,
        scoped=True,
    ),
    R("kpi_pages.settings", "GET", lambda w: "/kpis/settings", ADMIN),
    R("kpi_pages.settings", "POST", lambda w: "/kpis/settings", ADMIN, body=lambda w: {}),
    R("kpi_pages.static", "GET", lambda w: "/kpis/static/kpis.css", PUBLIC),
    # periodic reports (app/reports/): the town's administrators only
    R("reports_api.Reports", "GET", lambda w: "/api/v1/reports", ADMIN),
    R(
        "reports_api.Reports",
        "POST",
        lambda w: "/api/v1/reports",
        ADMIN,
        body=lambda w: {"kind": "weekly_check"},
    ),
    R("reports_api.ReportById", "GET", _report(""), ADMIN),
    R("reports_api.ReportPdf", "GET", _report(".pdf"), ADMIN),
    R("reports_api.ReportCsv", "GET", _report(".csv"), ADMIN),
    R("reports.index", "GET", lambda w: "/reports", ADMIN),
    R(
        "reports.generate",
        "POST",
        lambda w: "/reports",
        ADMIN,
        body=lambda w: {"kind": "weekly_check"},
    ),
    R("reports.pdf", "GET", _report(".pdf", api=False), ADMIN),
    R("reports.csv", "GET", _report(".csv", api=False), ADMIN),
]


class World(dict):
    """Objects by name and users by role (role keys are StrEnums: no name may equal a role)."""

    others: dict


@pytest.fixture
def world(make_team, make_org, make_user, make_resident, make_resident_user, make_link):
    """Team A with its resident, caregiver and staff; team B's users are the outsiders."""
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE)
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL)
    team_a, team_b = make_team(centre=centre), make_team(centre=centre)
    resident_a = make_resident(neighbourhood=team_a.neighbourhoods[0])
    resident_b = make_resident(neighbourhood=team_b.neighbourhoods[0])
    link_a = make_link(resident_a, scope=CaregiverScope.PROXY)
    link_b = make_link(resident_b, scope=CaregiverScope.PROXY)

    def nurse_of(team):
        return next(m.user for m in team.members if m.member_role == TeamMemberRole.NURSE)

    def specialist():
        return make_user(
            Role.SPECIALIST,
            organisation_id=make_org(OrganisationKind.DEPARTMENT, parent=hospital).id,
        )

    w = World()
    w.update(
        {
            "centre": centre,
            "team": team_a,
            "target": resident_a,
            "link": link_a,
            "spare_caregiver": make_user(Role.CAREGIVER),
            "spare_doctor": make_user(Role.DOCTOR),
            Role.RESIDENT: make_resident_user(resident_a),
            Role.CAREGIVER: link_a.caregiver,
            Role.DOCTOR: team_a.lead,
            Role.NURSE: nurse_of(team_a),
            Role.SPECIALIST: specialist(),
            Role.ADMIN: make_user(Role.ADMIN),
        }
    )
    w["contract"] = Contract(
        resident=resident_a,
        team=team_a,
        package=ServicePackage.BASIC,
        status=ContractStatus.REQUESTED,
        start_date=local_today(),
        end_date=local_today() + timedelta(days=365),
        requested_by_id=w[Role.RESIDENT].id,
    )
    db.session.add(w["contract"])
    db.session.flush()
    department = db.session.get(Organisation, w[Role.SPECIALIST].organisation_id)
    w["department"] = department
    w["referral"] = Referral(
        resident=resident_a,
        team=team_a,
        hospital=hospital,
        department=department,
        referring_doctor_id=team_a.lead.id,
        urgency=Urgency.ROUTINE,
        status=ReferralStatus.SENT,
        reason="复查",
        clinical_summary="血压偏高",
        sent_at=utcnow(),
    )
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    w["slot"] = AppointmentSlot(
        department=department,
        starts_at=start,
        ends_at=start + timedelta(minutes=15),
        reserved_for_referrals=False,
    )
    w["attachment"] = ReferralAttachment(
        referral=w["referral"],
        filename="ecg.pdf",
        content_type="application/pdf",
        size=9,
        data=b"%PDF-1.4\n",
        uploaded_by_id=team_a.lead.id,
    )
    w["device"] = Device(
        serial="W-MATRIX",
        kind=DeviceKind.WATCH,
        resident=resident_a,
        status=DeviceStatus.ACTIVE,
        token_digest="0" * 64,
    )
    db.session.add_all([w["referral"], w["slot"], w["attachment"], w["device"]])
    db.session.flush()
    w.others = {
        Role.RESIDENT: make_resident_user(resident_b),
        Role.CAREGIVER: link_b.caregiver,
        Role.DOCTOR: team_b.lead,
        Role.NURSE: nurse_of(team_b),
        Role.SPECIALIST: specialist(),
    }
    return w


def call(client, route: Route, world, user):
    path = route.path(world)
    body = route.body(world) if route.body else None
    headers = dict(route.headers(world)) if route.headers else {}
    if user is not None and user.role == Role.ADMIN:
        headers["X-Access-Reason"] = REASON
        if not route.is_api:
            path += ("&" if "?" in path else "?") + f"reason={REASON}"
    if route.is_api:
        if user is not None:
            headers["Authorization"] = f"Bearer {issue_token(user)[0]}"
        return client.open(path, method=route.method, json=body, headers=headers)
    if user is not None:
        sign_in(client, user)
    data = (
        {**(body or {}), "reason": REASON}
        if user is not None and user.role == Role.ADMIN and body is not None
        else body
    )
    return client.open(path, method=route.method, data=data, headers=headers)


def got_through(response, route: Route) -> bool:
    if route.allowed is PUBLIC:  # wrong credentials on a sign-in route answer 401 by design
        return response.status_code not in (403, 404) and response.status_code < 500
    if response.status_code in (401, 403, 404):
        return False
    sent_to_login = response.status_code == 302 and "/login" in response.headers["Location"]
    return route.ends_at_login or not sent_to_login


def refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


@pytest.fixture
def matrix_client(app, monkeypatch, tmp_path):
    # CSRF has its own tests; here every POST must reach the access decision.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    # No media process: the device check answers 503 at once (port 9 is "discard").
    monkeypatch.setitem(app.config, "MEDIA_URL", "http://127.0.0.1:9")
    monkeypatch.setitem(app.config, "RECORDINGS_DIR", str(tmp_path))
    return app.test_client


def test_every_route_is_in_the_matrix(app):
    covered = {(r.endpoint, r.method) for r in ROUTES}
    missing = [
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    ]
    assert missing == []


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_access(route, role, world, matrix_client):
    # The outsider goes first: a refused request changes nothing, while the allowed user's
    # request may (unbinding a device, say) and would change what the outsider meets.
    other = world.others.get(role)
    if route.scoped and other is not None:
        outsider = call(matrix_client(), route, world, other)
        assert outsider.status_code in (403, 404), f"outsider {role}: {outsider.status_code}"
    user = world[role] if role is not None else None
    response = call(matrix_client(), route, world, user)
    allowed = route.allowed is PUBLIC or (role is not None and role in route.allowed)
    if allowed:
        assert got_through(response, route), f"{role} refused: {response.status_code}"
    else:
        assert refused(response), f"{role} got through: {response.status_code}"
