"""Translated labels for every enum value shown on a page (one place, so none is missed)."""

from flask_babel import lazy_gettext as _l

LABELS = {
    # roles
    "resident": _l("Resident"),
    "caregiver": _l("Caregiver"),
    "doctor": _l("Doctor"),
    "nurse": _l("Nurse"),
    "specialist": _l("Specialist"),
    "admin": _l("Administrator"),
    # organisation kinds
    "community_centre": _l("Community health service centre"),
    "district_hospital": _l("District hospital"),
    "municipal_hospital": _l("Municipal hospital"),
    "neighbourhood_committee": _l("Neighbourhood committee"),
    "department": _l("Department"),
    # team member roles
    "lead": _l("Team lead"),
    "public_health": _l("Public-health doctor"),
    # sex
    "male": _l("Male"),
    "female": _l("Female"),
    # mobility
    "independent": _l("Independent"),
    "needs_assistance": _l("Needs assistance"),
    "wheelchair": _l("Wheelchair"),
    "bedridden": _l("Bedridden"),
    # chronic conditions
    "hypertension": _l("Hypertension"),
    "type2_diabetes": _l("Type 2 diabetes"),
    "coronary_heart_disease": _l("Coronary heart disease"),
    "stroke": _l("Stroke"),
    "copd": _l("COPD"),
    "chronic_kidney_disease": _l("Chronic kidney disease"),
    "dementia": _l("Dementia"),
    "severe_mental_disorder": _l("Severe mental disorder"),
    # caregiver relationships, scopes and link states
    "family_member": _l("Family member"),
    "volunteer": _l("Volunteer"),
    "care_worker": _l("Care worker"),
    "view": _l("View the record"),
    "care": _l("View and act (alerts, visits)"),
    "proxy": _l("Full proxy (may sign and consent)"),
    "active": _l("Active"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
    "inactive": _l("Inactive"),
    # Values that clash with another enum's are keyed "EnumName.value" (looked up first).
    # family-doctor contract states
    "ContractStatus.requested": _l("Requested"),
    "ContractStatus.drafted": _l("Prepared by the team"),
    "ContractStatus.pending_consent": _l("Waiting for agreement"),
    "ContractStatus.active": _l("In force"),
    "ContractStatus.expiring": _l("In force, ending soon"),
    "ContractStatus.renewed": _l("Renewed"),
    "ContractStatus.expired": _l("Ended"),
    "ContractStatus.terminated": _l("Terminated"),
    "ContractStatus.rejected": _l("Declined"),
    "ContractStatus.cancelled": _l("Cancelled"),
    # service packages
    "ServicePackage.basic": _l("Basic package"),
    "ServicePackage.elderly": _l("Package for residents aged 65 and over"),
    "ServicePackage.hypertension": _l("High blood pressure package"),
    "ServicePackage.diabetes": _l("Diabetes package"),
    "ServicePackage.home_bed": _l("Family sickbed package (care at home)"),
    # how the resident agreed to a contract
    "ConsentMethod.in_person": _l("In person, recorded by the team"),
    "ConsentMethod.online": _l("Online, by the resident"),
    "ConsentMethod.proxy": _l("Online, by a proxy caregiver"),
    # referral states (keyed by enum: "cancelled", "rejected", "completed" clash elsewhere)
    "ReferralStatus.draft": _l("Draft, not sent"),
    "ReferralStatus.sent": _l("Sent, waiting for the hospital"),
    "ReferralStatus.seen": _l("Seen by the hospital"),
    "ReferralStatus.info_requested": _l("Hospital asked for more information"),
    "ReferralStatus.accepted": _l("Accepted, appointment booked"),
    "ReferralStatus.rejected": _l("Declined by the hospital"),
    "ReferralStatus.cancelled": _l("Withdrawn"),
    "ReferralStatus.admitted": _l("Admitted to hospital"),
    "ReferralStatus.completed": _l("Hospital treatment finished"),
    "ReferralStatus.returned": _l("Sent back to the community"),
    "ReferralStatus.return_accepted": _l("Taken back by the team"),
    "ReferralStatus.closed": _l("Loop closed"),
    # how urgent a referral is
    "Urgency.routine": _l("Routine"),
    "Urgency.urgent": _l("Urgent"),
    "Urgency.emergency": _l("Emergency"),
    # appointment slots of hospital departments
    "SlotStatus.open": _l("Free"),
    "SlotStatus.booked": _l("Booked"),
    "SlotStatus.cancelled": _l("Cancelled"),
    # the thread between a hospital department and the referring doctor
    "MessageKind.question": _l("Question"),
    "MessageKind.answer": _l("Answer"),
    "MessageKind.note": _l("Note"),
    # how a follow-up is done
    "FollowUpMode.clinic": _l("At the clinic"),
    "FollowUpMode.home": _l("Home visit"),
    "FollowUpMode.phone": _l("By phone"),
    "FollowUpMode.video": _l("By video"),
    # what a wearable or home device measures (wearables.metrics), and its alarms
    "Metric.heart_rate": _l("Heart rate"),
    "Metric.spo2": _l("Blood oxygen saturation"),
    "Metric.systolic_bp": _l("Systolic blood pressure"),
    "Metric.diastolic_bp": _l("Diastolic blood pressure"),
    "Metric.body_temperature": _l("Body temperature"),
    "Metric.respiratory_rate": _l("Respiratory rate"),
    "Metric.blood_glucose": _l("Blood glucose"),
    "Metric.steps": _l("Steps"),
    "Metric.body_weight": _l("Body weight"),
    "Metric.fall": _l("Fall"),
    "Metric.sos": _l("Emergency call"),
    # wearables and home devices: kinds, states, and why an MQTT message was not stored
    "DeviceKind.watch": _l("Smart watch"),
    "DeviceKind.blood_pressure_monitor": _l("Blood pressure monitor"),
    "DeviceKind.pulse_oximeter": _l("Pulse oximeter"),
    "DeviceKind.glucometer": _l("Blood glucose meter"),
    "DeviceKind.thermometer": _l("Thermometer"),
    "DeviceKind.scale": _l("Weighing scale"),
    "DeviceKind.fall_detector": _l("Fall detector"),
    "DeviceKind.sos_button": _l("Emergency call button"),
    "DeviceKind.gateway": _l("Home gateway"),
    "DeviceStatus.active": _l("In use"),
    "DeviceStatus.unbound": _l("Not bound to anyone"),
    "DeviceStatus.lost": _l("Lost"),
    "DeadLetterReason.not_json": _l("Not JSON"),
    "DeadLetterReason.unknown_token": _l("Unknown or refused device token"),
    "DeadLetterReason.wrong_topic": _l("Topic does not match the device"),
    "DeadLetterReason.malformed": _l("Body could not be read"),
    "DeadLetterReason.rejected_readings": _l("Some readings refused"),
}


def label(value, kind: str | None = None) -> str:
    """The label of an enum member (or of a stored value, with its enum's name as `kind`)."""
    key = getattr(value, "value", value)
    kind = kind or (type(value).__name__ if hasattr(value, "value") else None)
    found = LABELS.get(f"{kind}.{key}") if kind else None
    return str(found if found is not None else LABELS.get(key, key))


def choices(enum_cls) -> list[tuple[str, str]]:
    return [(member.value, label(member)) for member in enum_cls]
