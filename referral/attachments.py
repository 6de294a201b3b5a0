"""Attachments of a referral: PDFs and images only, checked by their first bytes (not the
name or the type the browser claims), and bounded in size."""

from flask import current_app

from app.accounts.models import User
from app.audit.services import record_event
from app.errors import N_, Forbidden, InvalidInput, NotFound
from app.extensions import db
from referral.models import Referral, ReferralAttachment, ReferralStatus
from referral.services import is_hospital_side, is_referring_side

SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
ENDED = (ReferralStatus.CLOSED, ReferralStatus.CANCELLED, ReferralStatus.REJECTED)


def content_type_of(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def attach(user: User, referral: Referral, filename: str, data: bytes) -> ReferralAttachment:
    if not (is_referring_side(user, referral) or is_hospital_side(user, referral)):
        raise Forbidden(N_("only the referring team or the receiving department can attach files"))
    if referral.status in ENDED:
        raise InvalidInput(N_("the referral is over; nothing more can be attached"), field="file")
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        raise InvalidInput(N_("the file is empty"), field="file")
    if len(data) > limit:
        raise InvalidInput(
            N_("the file is larger than %(mb)s MB"),
            field="file",
            params={"mb": round(limit / 1024 / 1024, 1)},
        )
    kind = content_type_of(data)
    if kind is None:
        raise InvalidInput(N_("only PDF, PNG and JPEG files can be attached"), field="file")
    attachment = ReferralAttachment(
        referral=referral,
        filename=(filename or "attachment")[-200:],
        content_type=kind,
        size=len(data),
        data=data,
        uploaded_by_id=user.id,
    )
    db.session.add(attachment)
    db.session.flush()
    record_event(
        "referral",
        referral.id,
        "referral.attachment_added",
        actor=user,
        data={"attachment_id": attachment.id, "type": kind, "size": len(data)},
    )
    return attachment


def get_attachment(referral: Referral, attachment_id: int) -> ReferralAttachment:
    attachment = db.session.get(ReferralAttachment, attachment_id)
    if attachment is None or attachment.referral_id != referral.id:
        raise NotFound(N_("attachment not found"))
    return attachment
