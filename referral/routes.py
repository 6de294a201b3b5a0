"""Referral pages: the blueprint, one referral's page (thread, attachments, return, history)
and the helpers every referral page shares. The referring team's pages (list, referral form,
its actions) are in team_routes.py; the hospital's (inbox, slots, the department's actions,
the return form) in hospital_routes.py; both on this blueprint.

An action the services refuse shows the referral again with the reason and the service's
status (403, 409 with the present state, 422 next to the field); one that succeeds says so
and redirects (303). The services decide; the pages only hide buttons that would be refused.
"""

from io import BytesIO
from types import SimpleNamespace

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.accounts.models import Role, User
from app.audit.services import history, record_access
from app.contracts.services import current_contract
from app.errors import N_, DomainError, Forbidden, InvalidInput
from app.extensions import csrf, db
from app.labels import label
from app.policy import roles_required
from app.residents.forms import ReasonForm
from app.residents.routes import given_reason
from referral import attachments, services, slots
from referral.forms import (
    AttachmentForm,
    CancelForm,
    MessageForm,
    RejectForm,
    SlotChoiceForm,
)
from referral.models import Referral, ReferralStatus, Urgency

bp = Blueprint("referral", __name__, url_prefix="/referrals", template_folder="templates")

any_role = roles_required(*Role)
uploaders = roles_required(Role.DOCTOR, Role.NURSE, Role.SPECIALIST)
FORM_ERROR = 422
SEE_OTHER = 303
S = ReferralStatus

# What happens next, in plain words, for everyone who reads the referral.
NEXT_STEP = {
    S.DRAFT: _l("Not sent yet. Nothing happens until a doctor of the team sends it."),
    S.SENT: _l("Waiting for the hospital department to look at it."),
    S.SEEN: _l(
        "The department has read it and is deciding: it accepts it with an appointment, "
        "asks the family doctor a question, or declines it with a reason."
    ),
    S.INFO_REQUESTED: _l(
        "The department asked the family doctor a question (see the messages). "
        "It decides once the doctor answers."
    ),
    S.ACCEPTED: _l(
        "Accepted. Please go to the appointment shown, with your ID card, your medical "
        "insurance card and the medicines you take."
    ),
    S.REJECTED: _l(
        "The department declined it, for the reason shown. The family doctor will talk with "
        "the resident about what to do next."
    ),
    S.CANCELLED: _l("The family doctor withdrew it. Nothing more happens."),
    S.ADMITTED: _l(
        "The resident is in hospital. When they leave, the hospital sends them back to the "
        "family-doctor team with a discharge summary and a care plan."
    ),
    S.COMPLETED: _l(
        "Treatment at the hospital is finished. The hospital now sends the resident back to "
        "the family-doctor team with a discharge summary and a care plan."
    ),
    S.RETURNED: _l(
        "The hospital sent the resident back with a discharge summary and a care plan. The "
        "family-doctor team now takes the resident back and plans the follow-ups."
    ),
    S.RETURN_ACCEPTED: _l(
        "The family-doctor team took the resident back and planned the follow-ups. The "
        "referring doctor confirms reading the return, which closes the loop."
    ),
    S.CLOSED: _l(
        "The loop is closed: the family doctor has read the hospital's return and the "
        "follow-ups are planned."
    ),
}
# Recorded events that are not transitions, shown in the history in the reader's language.
EVENT_NAMES = {
    "referral.escalated": _l("Not accepted in time: the head of the department was alerted"),
    "referral.return_overdue": _l("Return not acknowledged in time"),
    "referral.attachment_added": _l("File attached"),
}
NO_SLOT = _l("No appointment now: the department offers one when it accepts")
SLOT_CHOICES = 12  # the first free slots offered on the page


# --- helpers shared with hospital_routes -----------------------------------------------------


def ask_reason():
    """Ask an administrator why they open the record; the other arguments are kept."""
    form = ReasonForm(request.args)
    if "reason" in request.args:
        form.validate()
    keep = {key: value for key, value in request.args.items() if key != "reason"}
    return render_template("referral/reason.html", form=form, action=request.path, keep=keep)


def visible_referral(referral_id: int, reason: str | None) -> Referral | None:
    """The referral if the user may see it (else 404), audited; None while an administrator
    has not given a reason."""
    try:
        return services.get_referral(current_user, referral_id, reason)
    except Forbidden as exc:
        if exc.field != "reason":
            raise
        return None


def status_text(value) -> str:
    return label(value, "ReferralStatus")


def wrong_state(current: str) -> str:
    return _(
        "This cannot be done in the referral's present state. It is now: %(status)s.",
        status=status_text(current),
    )


def sentences(*parts: str) -> str:
    """Sentences one after another: Chinese sets none between them, English a space."""
    return ("" if str(get_locale()).startswith("zh") else " ").join(parts)


def next_step(referral: Referral) -> str:
    text = str(NEXT_STEP[referral.status])
    if referral.status in services.WAITING_FOR_HOSPITAL and referral.urgency != Urgency.ROUTINE:
        hours = current_app.config[
            "REFERRAL_EMERGENCY_ACCEPT_HOURS"
            if referral.urgency == Urgency.EMERGENCY
            else "REFERRAL_URGENT_ACCEPT_HOURS"
        ]
        alert = _(
            "If it is not accepted within %(hours)s hours of sending, the head of the "
            "department is alerted.",
            hours=hours,
        )
        return sentences(text, alert)
    return text


def audit_listed(reason: str | None = None):
    """Records each referral shown in a list as an audited read ("list")."""
    return lambda r: record_access("list", r.resident_id, "referral", r.id, reason=reason)


def page_helpers() -> dict:
    """Functions the referral templates call."""
    return {"next_step": next_step, "status_text": status_text}


def available_actions(referral: Referral) -> dict[str, bool]:
    """What the current user may do to the referral in its state (the services decide)."""
    hospital = services.is_hospital_side(current_user, referral)
    team = services.is_referring_side(current_user, referral)
    doctor = team and current_user.role == Role.DOCTOR
    who = {
        "send": doctor,
        "mark_seen": hospital,
        "ask_info": hospital,
        "answer": doctor,
        "accept": hospital,
        "reject": hospital,
        "cancel": doctor,
        "admit": hospital,
        "complete": hospital,
        "return": hospital,
        "accept_return": team,
        "acknowledge": doctor,
    }
    actions = {
        name: allowed and referral.status in services.TRANSITIONS[name][0]
        for name, allowed in who.items()
    }
    actions["attach"] = (team or hospital) and referral.status not in attachments.ENDED
    return actions


# Each action's form as the page first shows it (no submitted data).
FORMS = {
    "send": lambda r: SlotChoiceForm(formdata=None).setup(
        slots.open_slots(r.department_id, reserved_only=True, limit=SLOT_CHOICES), NO_SLOT
    ),
    "accept": lambda r: SlotChoiceForm(formdata=None).setup(
        [] if r.slot else slots.open_slots(r.department_id, limit=SLOT_CHOICES)
    ),
    "ask_info": lambda r: MessageForm(formdata=None),
    "answer": lambda r: MessageForm(formdata=None),
    "reject": lambda r: RejectForm(formdata=None),
    "cancel": lambda r: CancelForm(formdata=None),
    "attach": lambda r: AttachmentForm(formdata=None),
}


def _history(referral: Referral) -> list[SimpleNamespace]:
    events = history("referral", referral.id)
    ids = {e.actor_id for e in events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    rows = []
    for event in events:
        what = EVENT_NAMES.get(event.name)
        # A person's reason is kept as written; the platform's own events are named instead.
        why = str(what) if what else (_(event.reason) if event.reason else "")
        rows.append(SimpleNamespace(event=event, actor=actors.get(event.actor_id), why=why))
    return rows


def detail_page(referral, reason=None, error=None, failed=None, form=None, status=200):
    actions = available_actions(referral)
    forms = {name: build(referral) for name, build in FORMS.items() if actions.get(name)}
    if failed and form is not None:
        forms[failed] = form
    return render_template(
        "referral/detail.html",
        referral=referral,
        actions=actions,
        can_act=any(allowed for name, allowed in actions.items() if name != "attach"),
        forms=forms,
        thread=services.thread(referral),
        history=_history(referral),
        signed=signed_hospital_ids(referral.resident_id),
        error=error,
        reason=reason,
        max_mb=round(current_app.config["ATTACHMENT_MAX_BYTES"] / 1024 / 1024, 1),
        **page_helpers(),
    ), status


def signed_hospital_ids(resident_id: int) -> set[int]:
    contract = current_contract(resident_id)
    if contract is None:
        return set()
    return {h for h in (contract.district_hospital_id, contract.municipal_hospital_id) if h}


def act(referral: Referral | int, action: str, do, done, form=None):
    """Run one action; on refusal show the referral again with why, on success go back (303).

    `referral` is the referral or its id; `do(referral)` calls the service; `done` is the
    message, or a function of the referral that makes it.
    """
    if not isinstance(referral, Referral):
        referral = services.get_referral(current_user, referral)
    if form is not None and not form.validate_on_submit():
        message = _("Please correct the fields marked below.")
        return detail_page(referral, None, message, action, form, FORM_ERROR)
    try:
        do(referral)
    except DomainError as exc:
        db.session.rollback()  # show the referral as it is, not half-changed
        field_error = form is not None and form.show_error(exc) is None
        message = _("Please correct the fields marked below.") if field_error else exc.translated()
        if exc.extra.get("current"):  # a wrong transition: say what state it is in now
            message = wrong_state(exc.extra["current"])
        return detail_page(referral, None, message, action, form, exc.status)
    flash(done(referral) if callable(done) else done, "info")
    return redirect(url_for(".detail", referral_id=referral.id), SEE_OTHER)


# --- one referral ----------------------------------------------------------------------------


@bp.get("/<int:referral_id>")
@any_role
def detail(referral_id):
    reason = given_reason(request.args)
    referral = visible_referral(referral_id, reason)
    if referral is None:
        return ask_reason()
    return detail_page(referral, reason)


@bp.post("/<int:referral_id>/attachments")
@csrf.exempt  # checked by the form below, once the larger body limit applies
@uploaders
def upload(referral_id):
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    request.max_content_length = limit + 64 * 1024
    referral = services.get_referral(current_user, referral_id)
    try:
        request.files  # noqa: B018  (reads the body, within the limit set above)
    except RequestEntityTooLarge:
        form = AttachmentForm(formdata=None)
        too_large = InvalidInput(
            N_("the file is larger than %(mb)s MB"),
            field="file",
            params={"mb": round(limit / 1024**2, 1)},
        )
        form.file.errors = [too_large.translated()]
        message = _("Please correct the fields marked below.")
        return detail_page(referral, None, message, "attach", form, 413)
    form = AttachmentForm()
    upload = form.file.data
    if form.is_submitted() and form.validate() and not (upload and upload.filename):
        form.file.errors = [_("Choose a file to attach.")]
    if form.errors:
        if "csrf_token" in form.errors:
            abort(400, description=form.errors["csrf_token"][0])
        message = _("Please correct the fields marked below.")
        return detail_page(referral, None, message, "attach", form, FORM_ERROR)
    return act(
        referral,
        "attach",
        lambda r: attachments.attach(current_user, r, upload.filename, upload.read()),
        _("The file is attached."),
        form,
    )


@bp.get("/<int:referral_id>/attachments/<int:attachment_id>")
@any_role
def attachment(referral_id, attachment_id):
    reason = given_reason(request.args)
    referral = visible_referral(referral_id, reason)
    if referral is None:
        return ask_reason()
    found = attachments.get_attachment(referral, attachment_id)
    return send_file(
        BytesIO(found.data),
        mimetype=found.content_type,
        download_name=found.filename,
        as_attachment=True,
    )


# The team's and the hospital's pages and actions register themselves on `bp`.
from referral import hospital_routes, team_routes  # noqa: E402, F401
