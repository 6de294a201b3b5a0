"""Caregiver-link pages: who may help a resident, and for how long.

Whoever may see the record sees its links; only the resident themself or a doctor of their
team (policy.may_grant_caregivers) grants and revokes, everyone else gets 403 on a POST.
Residents use this page themselves, so it stays plain: one form, big buttons.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.services import find_user
from app.policy import may_grant_caregivers
from app.residents import services
from app.residents.forms import UNKNOWN_CAREGIVER, GrantCaregiverForm, RevokeForm, message_for
from app.residents.models import LinkStatus
from app.residents.routes import (
    FORM_ERROR,
    FormRefused,
    any_role,
    ask_reason,
    bp,
    given_reason,
    visible_resident,
)


def _may_change(resident_id: int):
    """The resident, if the user may grant and revoke their links: 404 unseen, 403 not allowed."""
    resident = visible_resident(resident_id, "view", given_reason(request.form))
    if resident is None or not may_grant_caregivers(current_user, resident):
        abort(403)
    return resident


def _page(resident, grant_form=None, revoke_form=None, error=None, failed_link_id=None):
    may_grant = may_grant_caregivers(current_user, resident)
    return render_template(
        "residents/caregivers.html",
        resident=resident,
        links=resident.caregiver_links,
        may_grant=may_grant,
        grant_form=grant_form or (GrantCaregiverForm(formdata=None).setup() if may_grant else None),
        revoke_form=revoke_form or RevokeForm(formdata=None),
        error=error,
        failed_link_id=failed_link_id,
        reason=given_reason(request.args),
        active=LinkStatus.ACTIVE,
    )


@bp.get("/<int:resident_id>/caregivers")
@any_role
def caregivers(resident_id):
    resident = visible_resident(resident_id, "view", given_reason(request.args))
    if resident is None:
        return ask_reason()
    return _page(resident)


@bp.post("/<int:resident_id>/caregivers")
@any_role
def grant_caregiver(resident_id):
    resident = _may_change(resident_id)
    form = GrantCaregiverForm().setup()
    error = None
    if form.validate_on_submit():
        caregiver = find_user(form.caregiver.data)
        if caregiver is None:
            form.caregiver.errors = [*form.caregiver.errors, str(UNKNOWN_CAREGIVER)]
        else:
            try:
                link = services.grant_caregiver(
                    current_user, resident, form.service_data(caregiver.id)
                )
            except FormRefused as exc:
                error = form.show_error(exc)
            else:
                flash(
                    _(
                        "%(name)s can now help, until %(date)s.",
                        name=link.caregiver.display_name,
                        date=link.ends_on.isoformat(),
                    ),
                    "info",
                )
                return redirect(url_for(".caregivers", resident_id=resident.id))
    return _page(resident, grant_form=form, error=error), FORM_ERROR


@bp.post("/<int:resident_id>/caregivers/<int:link_id>/revoke")
@any_role
def revoke_caregiver(resident_id, link_id):
    resident = _may_change(resident_id)
    link = services.get_link(resident, link_id)
    form = RevokeForm()
    error = None
    if form.validate_on_submit():
        try:
            services.revoke_caregiver(current_user, link, form.reason.data or None)
        except FormRefused as exc:
            error = message_for(exc)
        else:
            flash(
                _("%(name)s can no longer see your record.", name=link.caregiver.display_name)
                if current_user.resident_id == resident.id
                else _("The caregiver's access is revoked."),
                "info",
            )
            return redirect(url_for(".caregivers", resident_id=resident.id))
    return _page(resident, revoke_form=form, error=error, failed_link_id=link.id), FORM_ERROR
