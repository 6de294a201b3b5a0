"""The call page and the device-check page.

- `/v/<token>`: a join link, no sign-in. A refused link says why and what to do (403; 410
  when the visit is over); before the room opens, the visit's time, a countdown and the
  device check; then the call page.
- `/v/<token>/check` and, signed in, `/visits/check`: the device check (the media process
  echoes the caller's own camera and microphone back).
- `/visits/<id>/call`: the same call page for whoever runs the visit (records.may_run), in
  the doctor's seat, with the side panel; `/visits/<id>/call/vitals` feeds its vitals.

The pages only render: the call itself is call.js talking to the call API with the
participant's token. Every answer here carries a token or personal data, so none is cached.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.accounts.models import Role
from app.audit.services import record_access
from app.extensions import db
from app.i18n import LARGE_TEXT_COOKIE, large_text_enabled
from app.labels import label
from app.policy import roles_required
from app.templating import localtime
from app.timeutil import utcnow
from telecall import calls, ice, records
from telecall.availability import CLINICIAN_ROLES
from telecall.models import ParticipantRole, Visit, VisitParticipant, VisitType
from telecall.recording import consents, live_recording
from telecall.tokens import JoinRefused, call_opens_at, make_token, participant_of, read_token
from wearables.routes import latest_reading, unit_shown

bp = Blueprint(
    "call",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/visits/call-static",
)

GONE = 410
VITALS = (
    "systolic_bp",
    "diastolic_bp",
    "heart_rate",
    "spo2",
    "body_temperature",
    "blood_glucose",
    "respiratory_rate",
    "body_weight",
)
VITALS_LOOKBACK = timedelta(days=7)
VISIT_TYPES = {
    VisitType.VIDEO_CONSULT: _l("Video consult"),
    VisitType.ONLINE_REVISIT: _l("Online re-visit"),
    VisitType.REMOTE_FOLLOW_UP: _l("Remote follow-up"),
}
CONSENTING = (ParticipantRole.RESIDENT, ParticipantRole.DOCTOR)
# JoinRefused messages that mean the visit is over for good (410), not a bad link (403).
ENDED_MESSAGES = (
    "this link has expired: the visit is over",
    "this visit is over",
    "this visit was cancelled",
)


@bp.after_request
def _private(response):
    # The token in the address is a credential: keep it out of caches, logs and indexes.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _large_text() -> bool:
    """Large by default on the link pages: an older resident reads them on a phone or a
    tablet; "Standard text" in the header still switches it off."""
    return request.cookies.get(LARGE_TEXT_COOKIE) != "0" or large_text_enabled()


def _centre_phone(visit: Visit | None) -> str | None:
    return visit.team.centre.phone if visit is not None else None


def _refused(exc: JoinRefused, visit: Visit | None = None, record_url: str | None = None):
    over = exc.message_id in ENDED_MESSAGES
    page = render_template(
        "visits/call_refused.html",
        reason=exc.translated(),
        over=over,
        phone=_centre_phone(visit),
        record_url=record_url,
        large_text=_large_text() if record_url is None else large_text_enabled(),
    )
    return page, GONE if over else 403


def _visit_facts(visit: Visit) -> dict:
    return {
        "visit": visit,
        "visit_type": VISIT_TYPES[visit.visit_type],
        "doctor_name": visit.doctor.display_name,
        "starts": localtime(visit.starts_at),
        "ends": localtime(visit.ends_at, "HH:mm"),
    }


def _before_opening(participant: VisitParticipant, check_url: str):
    opens = call_opens_at(participant)
    return render_template(
        "visits/call_waiting.html",
        **_visit_facts(participant.visit),
        opens=localtime(opens, "HH:mm"),
        seconds=max(0, math.ceil((opens - utcnow()).total_seconds())),
        check_url=check_url,
        phone=_centre_phone(participant.visit),
        large_text=_large_text() if not current_user.is_authenticated else large_text_enabled(),
    )


def _room(participant: VisitParticipant, check_url: str, record_url: str | None = None):
    """The call page, or why not yet (or not any more)."""
    try:
        calls.may_join_call(participant)
    except JoinRefused as exc:
        if exc.message_id in ENDED_MESSAGES:
            return _refused(exc, participant.visit, record_url)
        return _before_opening(participant, check_url)
    return None


def _call_data(participant: VisitParticipant) -> dict:
    api = "/api/v1/call/"
    return {
        "token": make_token(participant),
        "participant": calls.describe(participant),
        "may_consent": participant.role in CONSENTING,
        "consented": participant.role in consents(participant.visit),
        "recording": live_recording(participant.visit) is not None,
        "api": {n: api + n for n in ("join", "events", "signal", "leave", "quality", "consent")},
    }


def _render_call(participant: VisitParticipant, panel: dict | None = None):
    data = _call_data(participant)
    if panel is not None:
        data["panel"] = panel["urls"] | {"csrf": generate_csrf()}
    return render_template(
        "visits/call.html",
        **_visit_facts(participant.visit),
        me=participant,
        data=data,
        panel=panel,
        large_text=_large_text() if panel is None else large_text_enabled(),
    )


def _visit_of_expired(token: str) -> Visit | None:
    """The visit of a genuine link that has only run out (for the centre's phone)."""
    try:
        return participant_of(token).visit
    except JoinRefused:
        return None


@bp.get("/v/<token>")
def link_page(token: str):
    try:
        participant = read_token(token)
    except JoinRefused as exc:
        return _refused(exc, _visit_of_expired(token))
    check_url = url_for("call.link_check", token=token)
    return _room(participant, check_url) or _render_call(participant)


def _check_ice(participant: VisitParticipant | None) -> list[dict]:
    if participant is not None:
        return ice.servers_for(participant.id)
    return ice.configured()


def _render_check(participant: VisitParticipant | None, token: str | None, back_url: str):
    data = {
        "offer_url": url_for("visits_api.device_check"),
        "token": token,
        "csrf": None if token else generate_csrf(),
        "ice_servers": _check_ice(participant),
    }
    return render_template(
        "visits/check.html",
        data=data,
        back_url=back_url,
        large_text=_large_text() if token else large_text_enabled(),
    )


@bp.get("/v/<token>/check")
def link_check(token: str):
    try:
        participant = read_token(token)
    except JoinRefused as exc:
        return _refused(exc, _visit_of_expired(token))
    return _render_check(participant, token, url_for("call.link_page", token=token))


@bp.get("/visits/check")
@roles_required(*Role)
def my_check():
    return _render_check(None, None, url_for("web.home"))


def _doctor_seat(visit: Visit) -> VisitParticipant:
    seats = [
        p for p in visit.participants if p.role == ParticipantRole.DOCTOR and p.removed_at is None
    ]
    if not seats:
        abort(404)
    return seats[0]


def _record_url(visit: Visit) -> str:
    return f"/visits/{visit.id}"  # the visit record page (telecall/record_routes.py)


def _panel(visit: Visit) -> dict:
    base = f"/api/v1/visits/{visit.id}"
    people = [p for p in visit.participants if p.role != ParticipantRole.RECORDER]
    return {
        "urls": {
            "form": base + "/form",
            "notes": base + "/notes",
            "end": base + "/end",
            "invite": base + "/participants",
            "record": base + "/recordings",
            "vitals": url_for("call.vitals", visit_id=visit.id),
        },
        "record_url": _record_url(visit),
        "people": [p for p in people if p.removed_at is None],
        "present_ids": {p.id for p in calls.present(visit)},
        "resident": visit.resident,
        "form": visit.form or {},
        "notes": visit.notes or "",
        "recording": live_recording(visit) is not None,
    }


@bp.get("/visits/<int:visit_id>/call")
@roles_required(*CLINICIAN_ROLES)
def doctor_call(visit_id: int):
    visit = records.get_visit(current_user, visit_id, running=True)
    seat = _doctor_seat(visit)
    check_url = url_for("call.my_check")
    record_url = _record_url(visit)
    return _room(seat, check_url, record_url) or _render_call(seat, _panel(visit))


def _reading(metric: str, resident_id: int, since, until) -> dict | None:
    found = latest_reading(resident_id, metric, since, until)
    if found is None:
        return None
    return {
        "metric": metric,
        "label": label(metric, "Metric"),
        "value": round(found.value, 1),
        "unit": unit_shown(found.unit),
        "measured_at": found.measured_at.isoformat(),
        "time": localtime(found.measured_at, "MM-dd HH:mm"),
    }


@bp.get("/visits/<int:visit_id>/call/vitals")
@roles_required(*CLINICIAN_ROLES)
def vitals(visit_id: int):
    """The resident's latest vitals for the side panel (polled; one audit entry a poll)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or not records.may_see(current_user, visit):
        abort(404)
    if not records.may_run(current_user, visit):
        abort(403)
    record_access("view", visit.resident_id, "vitals", visit.resident_id, actor=current_user)
    now = utcnow()
    found = [_reading(m, visit.resident_id, now - VITALS_LOOKBACK, now) for m in VITALS]
    return jsonify(
        vitals=[r for r in found if r is not None],
        as_of=now.isoformat(),
        empty=_("No readings from a wearable in the last 7 days."),
    )
