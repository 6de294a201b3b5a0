"""JSON API: referrals up and down, slots, the thread, attachments. Transitions are POST
actions; a wrong one answers 409 with the current state."""

from io import BytesIO

from flask import current_app, request, send_file
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort

from app.accounts.models import Role
from app.audit.services import history
from app.policy import get_resident, roles_required
from app.schemas_common import SelectPage
from referral import attachments, queries, services, slots
from referral.fhir import referral_bundle
from referral.schemas import (
    AcceptSchema,
    AttachmentSchema,
    EventSchema,
    MessageSchema,
    OptionalReasonSchema,
    ReasonSchema,
    ReferralQuerySchema,
    ReferralSchema,
    ReturnSchema,
    SendSchema,
    SlotQuerySchema,
    SlotSchema,
    SlotSeriesSchema,
)

blp = Blueprint("referral_api", __name__, url_prefix="/api/v1", description="Referrals")

any_role = roles_required(*Role)
doctors = roles_required(Role.DOCTOR)
specialists = roles_required(Role.SPECIALIST)
clinicians = roles_required(Role.DOCTOR, Role.NURSE, Role.SPECIALIST, Role.ADMIN)


def _referral(referral_id: int):
    return services.get_referral(current_user, referral_id, request.headers.get("X-Access-Reason"))


@blp.route("/referrals")
class Referrals(MethodView):
    @any_role
    @blp.arguments(ReferralQuerySchema, location="query")
    @blp.response(200, ReferralSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Your team's referrals, your department's inbox, or a resident's own"""
        return queries.search(current_user, args, request.headers.get("X-Access-Reason"))

    @doctors
    @blp.arguments(ReferralSchema)
    @blp.response(201, ReferralSchema)
    def post(self, data):
        """Draft a referral (send it with POST .../send)"""
        resident = get_resident(current_user, data.pop("resident_id"))
        return services.draft_referral(current_user, resident, data)


@blp.route("/referrals/<int:referral_id>")
class ReferralById(MethodView):
    @any_role
    @blp.response(200, ReferralSchema)
    def get(self, referral_id):
        return _referral(referral_id)


@blp.route("/referrals/<int:referral_id>/fhir")
class ReferralFhir(MethodView):
    @clinicians
    @blp.response(200)
    def get(self, referral_id):
        """The referral as a FHIR R4 Bundle of a ServiceRequest and a Task"""
        return referral_bundle(_referral(referral_id))


@blp.route("/referrals/<int:referral_id>/events")
class ReferralEvents(MethodView):
    @any_role
    @blp.response(200, EventSchema(many=True))
    def get(self, referral_id):
        return history("referral", _referral(referral_id).id)


def _action(name, schema, roles, call, doc):
    """POST /referrals/<id>/<name>: one transition, through its service function."""

    class Action(MethodView):
        @roles
        @blp.arguments(schema)
        @blp.response(200, ReferralSchema)
        def post(self, data, referral_id):
            return call(current_user, _referral(referral_id), data)

    Action.post.__doc__ = doc
    Action.__name__ = "".join(part.title() for part in name.split("_"))
    blp.route(f"/referrals/<int:referral_id>/{name}")(Action)


_action(
    "send",
    SendSchema,
    doctors,
    lambda u, r, d: services.send(u, r, d["slot_id"]),
    "Send a draft to the department, booking a reserved slot if one is given",
)
_action(
    "seen",
    OptionalReasonSchema,
    specialists,
    lambda u, r, d: services.mark_seen(u, r),
    "Mark as seen by the department",
)
_action(
    "ask_info",
    MessageSchema,
    specialists,
    lambda u, r, d: services.ask_info(u, r, d["body"]),
    "Ask the referring doctor for more information",
)
_action(
    "answer",
    MessageSchema,
    doctors,
    lambda u, r, d: services.answer(u, r, d["body"]),
    "Answer the department's question",
)
_action(
    "accept",
    AcceptSchema,
    specialists,
    lambda u, r, d: services.accept(u, r, d["slot_id"]),
    "Accept, with the booked slot or one offered now",
)
_action(
    "reject",
    ReasonSchema,
    specialists,
    lambda u, r, d: services.reject(u, r, d["reason"]),
    "Reject (reason required)",
)
_action(
    "cancel",
    OptionalReasonSchema,
    doctors,
    lambda u, r, d: services.cancel(u, r, d.get("reason")),
    "Withdraw the referral",
)
_action(
    "admit",
    OptionalReasonSchema,
    specialists,
    lambda u, r, d: services.admit(u, r),
    "Admit the resident",
)
_action(
    "complete",
    OptionalReasonSchema,
    specialists,
    lambda u, r, d: services.complete(u, r),
    "Treatment completed",
)
_action(
    "return",
    ReturnSchema,
    specialists,
    lambda u, r, d: services.return_to_community(u, r, d),
    "Send the resident back down: discharge summary, diagnoses, medication, care plan",
)
_action(
    "accept_return",
    OptionalReasonSchema,
    roles_required(Role.DOCTOR, Role.NURSE),
    lambda u, r, d: services.accept_return(u, r),
    "Take the resident back; plans the follow-ups",
)
_action(
    "acknowledge",
    OptionalReasonSchema,
    doctors,
    lambda u, r, d: services.acknowledge(u, r),
    "The referring doctor closes the loop",
)


@blp.route("/referrals/<int:referral_id>/messages")
class Messages(MethodView):
    @any_role
    @blp.response(200, MessageSchema(many=True))
    def get(self, referral_id):
        """The thread between the department and the referring doctor"""
        return services.thread(_referral(referral_id))


@blp.route("/referrals/<int:referral_id>/attachments")
class Attachments(MethodView):
    @clinicians
    @blp.response(201, AttachmentSchema)
    def post(self, referral_id):
        """Attach a PDF, PNG or JPEG (multipart field `file`)"""
        # The body may be larger than the API's usual limit, up to the attachment limit.
        request.max_content_length = current_app.config["ATTACHMENT_MAX_BYTES"] + 64 * 1024
        referral = _referral(referral_id)
        upload = request.files.get("file")
        if upload is None:
            abort(422, errors={"files": {"file": ["Missing data for required field."]}})
        return attachments.attach(current_user, referral, upload.filename, upload.read())


@blp.route("/referrals/<int:referral_id>/attachments/<int:attachment_id>")
class AttachmentById(MethodView):
    @any_role
    def get(self, referral_id, attachment_id):
        """Download an attachment"""
        found = attachments.get_attachment(_referral(referral_id), attachment_id)
        return send_file(
            BytesIO(found.data),
            mimetype=found.content_type,
            download_name=found.filename,
            as_attachment=True,
        )


@blp.route("/slots")
class Slots(MethodView):
    @clinicians
    @blp.arguments(SlotQuerySchema, location="query")
    @blp.response(200, SlotSchema(many=True))
    def get(self, args):
        """Open future slots of a department (reserved ones for referrals)"""
        return slots.open_slots(args["department_id"], args["reserved_only"])

    @roles_required(Role.SPECIALIST, Role.ADMIN)
    @blp.arguments(SlotSeriesSchema)
    @blp.response(201, SlotSchema(many=True))
    def post(self, data):
        """Publish a series of slots; `reserved_share` of them are kept for referrals"""
        return slots.publish_series(current_user, data)
