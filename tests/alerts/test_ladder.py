"""The escalation ladder with a controlled clock: caregivers in their order, then the team,
then the on-call contact; nobody told twice; an acknowledged alert never notified again."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.alerts import services
from app.alerts.models import AlertDelivery, AlertStatus, Channel, Severity
from app.extensions import db
from app.notifications.models import Notification
from app.timeutil import utcnow


@pytest.fixture
def family(app, make_team, make_resident, make_link, make_user):
    team = make_team()
    resident = make_resident(neighbourhood=team.neighbourhoods[0])
    daughter = make_user(role=Role.CAREGIVER, username="daughter")
    son = make_user(role=Role.CAREGIVER, username="son")
    make_link(resident, caregiver=son, priority=2)
    make_link(resident, caregiver=daughter, priority=1)
    app.config["ALERT_ON_CALL_PHONE"] = "13800000000"
    app.config["ALERT_WEBHOOK_URL"] = "http://127.0.0.1:9/hook"
    yield {"team": team, "resident": resident, "daughter": daughter, "son": son}
    app.config["ALERT_ON_CALL_PHONE"] = None
    app.config["ALERT_WEBHOOK_URL"] = None


def told(alert) -> list[tuple[int, str, str]]:
    rows = db.session.execute(
        sa.select(AlertDelivery.step, AlertDelivery.recipient_key, AlertDelivery.channel)
        .where(AlertDelivery.alert_id == alert.id)
        .order_by(AlertDelivery.step, AlertDelivery.recipient_key, AlertDelivery.channel)
    ).all()
    return [(step, key, channel.value) for step, key, channel in rows]


def fall(resident, now):
    return services.raise_alert(
        resident.id, "event:fall", Severity.CRITICAL, "A fall was detected", now=now
    )[0]


def test_the_ladder_runs_caregivers_in_order_then_the_team_then_on_call(family):
    start = utcnow()
    alert = fall(family["resident"], start)
    daughter, son = family["daughter"].id, family["son"].id
    assert told(alert) == [(1, f"user:{daughter}", "live")]
    assert alert.next_step_at == start + timedelta(minutes=2)

    assert services.escalate_due(start + timedelta(minutes=1)) == 0  # not yet
    assert services.escalate_due(start + timedelta(minutes=2)) == 1
    assert services.escalate_due(start + timedelta(minutes=2)) == 0  # a second run: nothing
    assert told(alert)[-1] == (2, f"user:{son}", "live")
    assert alert.status == AlertStatus.ESCALATED

    services.escalate_due(start + timedelta(minutes=4))
    staff = {u.id for u in [family["team"].lead]}
    step3 = {key for step, key, _ in told(alert) if step == 3}
    assert {f"user:{i}" for i in staff} <= step3
    services.escalate_due(start + timedelta(minutes=6))
    assert told(alert)[-1] == (4, "on-call", "webhook")
    assert alert.next_step_at is None  # the ladder is exhausted
    assert services.escalate_due(start + timedelta(hours=1)) == 0


def test_an_acknowledged_alert_is_never_notified_again(family):
    start = utcnow()
    alert = fall(family["resident"], start)
    services.acknowledge(family["daughter"], alert, now=start + timedelta(seconds=30))
    assert services.escalate_due(start + timedelta(hours=1)) == 0
    assert [step for step, _, _ in told(alert)] == [1]
    again, created = services.raise_alert(
        family["resident"].id, "event:fall", Severity.CRITICAL, "A fall was detected"
    )
    assert (again.id, created) == (alert.id, False)
    assert [step for step, _, _ in told(alert)] == [1]


def test_further_evidence_attaches_to_the_open_alert(family):
    alert, created = services.raise_alert(
        family["resident"].id,
        "threshold:heart_rate:high",
        Severity.HIGH,
        "Heart rate high",
        evidence=[{"metric": "heart_rate", "value": 131}],
    )
    same, again = services.raise_alert(
        family["resident"].id,
        "threshold:heart_rate:high",
        Severity.HIGH,
        "Heart rate high",
        evidence=[{"metric": "heart_rate", "value": 135}],
    )
    assert created
    assert not again
    assert same.id == alert.id
    assert [e.value for e in alert.evidence] == [131, 135]
    notes = db.session.scalars(sa.select(Notification).where(Notification.kind == "alert")).all()
    assert len(notes) == 1


def test_resolving_needs_a_note_and_ends_the_alert(family):
    from app.errors import InvalidInput

    alert = fall(family["resident"], utcnow())
    with pytest.raises(InvalidInput) as refused:
        services.resolve(family["team"].lead, alert, "  ")
    assert refused.value.field == "note"
    services.resolve(family["team"].lead, alert, "上门查看，无外伤")
    assert alert.status == AlertStatus.RESOLVED
    fresh, created = services.raise_alert(
        family["resident"].id, "event:fall", Severity.CRITICAL, "A fall was detected"
    )
    assert created
    assert fresh.id != alert.id


def test_a_snoozed_alert_waits_then_goes_on(family):
    start = utcnow()
    alert = fall(family["resident"], start)
    services.snooze(family["daughter"], alert, start + timedelta(minutes=30), now=start)
    assert services.escalate_due(start + timedelta(minutes=29)) == 0
    assert services.escalate_due(start + timedelta(minutes=30)) == 1
    assert told(alert)[-1][0] == 2


def test_channel_values():
    assert Channel.LIVE.value == "live"


def test_a_view_only_caregiver_is_not_a_step_of_the_ladder(family, make_user, make_link):
    from app.residents.models import CaregiverScope

    cousin = make_user(role=Role.CAREGIVER, username="cousin")
    make_link(family["resident"], caregiver=cousin, scope=CaregiverScope.VIEW, priority=0)
    alert = fall(family["resident"], utcnow())
    assert told(alert) == [(1, f"user:{family['daughter'].id}", "live")]
