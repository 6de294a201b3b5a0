"""A referral as FHIR R4: a ServiceRequest (what is asked, of whom, why) and a Task (where
the request stands), in a collection Bundle. Structure is validated with fhir.resources
(R4B) in the tests."""

from app.timeutil import to_local
from referral.models import Referral, ReferralStatus, Urgency

S = ReferralStatus
# Task.status for each referral state (FHIR Task status value set).
TASK_STATUS = {
    S.DRAFT: "draft",
    S.SENT: "requested",
    S.SEEN: "received",
    S.INFO_REQUESTED: "on-hold",
    S.ACCEPTED: "accepted",
    S.REJECTED: "rejected",
    S.CANCELLED: "cancelled",
    S.ADMITTED: "in-progress",
    S.COMPLETED: "completed",
    S.RETURNED: "completed",
    S.RETURN_ACCEPTED: "completed",
    S.CLOSED: "completed",
}
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "stat"}
BASE = "urn:kangyang"


def _ref(kind: str, ident: int, display: str | None = None) -> dict:
    reference = {"reference": f"{kind}/{ident}"}
    if display:
        reference["display"] = display
    return reference


def _time(value) -> str | None:
    return to_local(value).isoformat() if value is not None else None


def service_request(referral: Referral) -> dict:
    status = {S.DRAFT: "draft", S.CANCELLED: "revoked", S.REJECTED: "revoked"}.get(
        referral.status, "completed" if referral.status == S.CLOSED else "active"
    )
    resource = {
        "resourceType": "ServiceRequest",
        "id": f"referral-{referral.id}",
        "identifier": [{"system": f"{BASE}:referral", "value": str(referral.id)}],
        "status": status,
        "intent": "order",
        "priority": PRIORITY[referral.urgency],
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "3457005",
                        "display": "Patient referral",
                    }
                ]
            }
        ],
        "code": {"text": referral.reason},
        "subject": _ref("Patient", referral.resident_id),
        "requester": _ref("Practitioner", referral.referring_doctor_id)
        if referral.referring_doctor_id
        else _ref("Organization", referral.team.centre_id),
        "performer": [_ref("Organization", referral.department_id, referral.department.name)],
        "reasonCode": [{"text": referral.reason}],
        "note": [{"text": referral.clinical_summary}],
        "authoredOn": _time(referral.sent_at or referral.created_at),
    }
    if referral.slot is not None:
        resource["occurrencePeriod"] = {
            "start": _time(referral.slot.starts_at),
            "end": _time(referral.slot.ends_at),
        }
    return resource


def task(referral: Referral) -> dict:
    resource = {
        "resourceType": "Task",
        "id": f"referral-task-{referral.id}",
        "status": TASK_STATUS[referral.status],
        "intent": "order",
        "priority": PRIORITY[referral.urgency],
        "basedOn": [{"reference": f"ServiceRequest/referral-{referral.id}"}],
        "focus": {"reference": f"ServiceRequest/referral-{referral.id}"},
        "for": _ref("Patient", referral.resident_id),
        "authoredOn": _time(referral.created_at),
        "lastModified": _time(
            referral.closed_at or referral.accepted_at or referral.sent_at or referral.created_at
        ),
        "requester": _ref("Organization", referral.team.centre_id),
        "owner": _ref("Organization", referral.department_id, referral.department.name),
    }
    if referral.status == S.REJECTED and referral.rejection_reason:
        resource["statusReason"] = {"text": referral.rejection_reason}
    if referral.discharge is not None:
        resource["output"] = [
            {
                "type": {"text": "discharge summary"},
                "valueString": referral.discharge.discharge_summary,
            },
            {"type": {"text": "care plan"}, "valueString": referral.discharge.care_plan},
        ]
    return resource


def referral_bundle(referral: Referral) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": f"{BASE}:ServiceRequest:{referral.id}",
                "resource": service_request(referral),
            },
            {"fullUrl": f"{BASE}:Task:{referral.id}", "resource": task(referral)},
        ],
    }
