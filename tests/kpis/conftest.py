"""A town whose KPIs are known by construction, and the figures worked out by hand.

The period P is the whole month two months before this one (Shanghai), so "today" never
reaches into it: S is its first day, E its last, "day n" the n-th day of P, and `stop` is
00:00 Shanghai of E+1. Times below are Shanghai's. Two neighbourhood committees, N1 and N2;
team A serves N1, team B serves N2. Everyone was registered 100 days before S unless noted.

Residents (65+ means 65 or older on E; OLD = born exactly 65 years before E):
 id  lives  born      conditions  mobility    contract in force on E?
 a1  N1     OLD       HT          -           A, from E (its first day is E): yes
 a2  N1     1950      HT, T2D     -           A: yes
 a3  N1     1975      T2D         -           A: yes
 a4  N1     OLD+1 d   HT          -           A, until E (exclusive, expired): no; not 65+
 a5  N1     1950      -           alone       none; registered at E 23:59
 a6  N1     1975      -           -           B (team B, though living in N1): yes
 a7  N1     1950      -           -           A: yes, but registered at E+1 00:00: not counted
 b1  N2     1950      HT          wheelchair  B: yes
 b2  N2     1950      T2D         -           B from E+1: no
 b3  N2     1975      -           -           B: yes
 b4  N2     1975      HT          bedridden   none

Signing on E. Town: registered a1-a6, b1-b4 = 10; signed a1 a2 a3 a6 b1 b3 = 6 (0.6).
  65+: a1 a2 a5 b1 b2 = 5, signed a1 a2 b1 = 3 (0.6). HT: a1 a2 a4 b1 b4 = 5, signed 3.
  T2D: a2 a3 b2 = 3, signed 2. Alone: a5 = 1, signed 0. Disabled: b1 b4 = 2, signed 1.
  N1 (= team A, which serves it): 6 / 4; 65+ 3 / 2; HT 3 / 2; T2D 2 / 2; alone 1 / 0;
  disabled 0 / 0. N2 (= team B): 4 / 2; 65+ 2 / 1; HT 2 / 1; T2D 1 / 0; alone 0; disabled 2 / 1.

Team panels on E (a resident's facts without a team of their own fall to it): A = a1 a2 a3
(a7 has no facts), B = a6 b1 b3. a4, a5, b2, b4 are in no team.

Follow-ups (team, resident, due, what happened):
 f1 A a1 day 5 done day 5 10:00: on time     f6 A a5 E       done E 12:00: on time
 f2 A a2 day 10 done day 10 23:30: on time   f7 A a1 E+1     due: after P, not counted
 f3 A a3 day 10 done day 11 00:10: late      f8 A a2 S-1     done day 2: before P
 f4 A a4 day 15 missed                       f9 A b2 day 20  never done: counts, not met
 f5 A a1 day 15 cancelled: not counted       g1 B b1 day 3   done day 2: on time
 g2 B b3 day 20 done day 25: late            g3 B a6 day 6   done day 6: on time
 Town 9 / 5. A: f1 f2 f3 f4 f6 f9 = 6 / 3. B: 3 / 2. N1: f1 f2 f3 f4 f6 g3 = 6 / 4.
 N2: f9 g1 g2 = 3 / 1.

Classified follow-ups (all due S-45, so none is in the on-time count):
 HT: a1 unsatisfactory S-40 then satisfactory day 4 (controlled); a2 satisfactory S-40 then
 unsatisfactory day 11 (not); a4 satisfactory S-5, then unsatisfactory E+2 after P (still
 controlled); b1 complications day 8 (not); b4 done day 9 unclassified (not counted).
 Town 4 / 2; A (a1 a2 a4) 3 / 2; B (b1) 1 / 0; N1 3 / 2; N2 1 / 0.
 T2D: a2 satisfactory day 12 (team A); a3 side effects day 6 (A); b2 satisfactory E 23:30 (B).
 Town 3 / 2; A 2 / 1; B 1 / 1; N1 2 / 1; N2 1 / 1.

Alerts (resident, opened, first action after, step):
 al1 a1 day 2 10:00  ack 5 min (resolved later)  0     al6 b1 day 7   resolved 30, no ack  0
 al2 a2 day 3        ack 12                      0     al7 b3 day 8   never acted on       1
 al3 a3 day 4        ack 20                      0     al8 b4 E 23:59 ack 3                0
 al4 a5 day 5        ack 45                      1     al9 b4 E+1 00:00: after P
 al5 a6 day 6        ack 90                      2     al10 a1 S-1 23:59: before P
 Town: [3 5 12 20 30 45 90]: median 20; p90 at (7-1)*0.9 = 5.4: 45 + 0.4*45 = 63;
   escalated al4 al5 al7 = 3 of 8.
 N1 (a1 a2 a3 a5 a6): [5 12 20 45 90]: median 20; p90 at 3.6: 45 + 0.6*45 = 72; esc 2 / 5.
 N2 (b1 b3 b4): [3 30]: median 16.5; p90 at 0.9: 3 + 0.9*27 = 27.3; esc 1 / 3.
 A (a1 a2 a3): [5 12 20]: median 12; p90 at 1.8: 12 + 0.8*8 = 18.4; esc 0 / 3.
 B (a6 b1 b3): [30 90] (al7 has no time): median 60; p90 at 0.9: 30 + 0.9*60 = 84; esc 2 / 3.

Referrals (team, resident, sent, returned, status):
 r1 A a1 day 2, -, sent          r6  A a1 draft, never sent
 r2 A a2 day 5, day 10, closed   r7  B a6 S-40, day 15, closed
 r3 A a3 S-20, day 3, returned   r8  B b1 S-60, S-30, closed: outside P
 r4 B b1 E 23:30, -, accepted    r9  A a2 day 20, E+2, returned: up only
 r5 B b3 E+1 00:00: outside P    r10 B b3 S-10, day 8, return accepted
 Up: town 4 (r1 r2 r4 r9); A 3; B 1; N1 3; N2 1.
 Down: town 4 (r2 r3 r7 r10), closed r2 r7 = 0.5; A r2 r3 1 / 2; B r7 r10 1 / 2;
 N1 r2 r3 r7 2 / 3; N2 r10 0 / 1.

Devices bound now (readings by arrival; the window is [stop - 24 h, stop)):
 d1 a1 stop-1h: yes   d2 a2 stop-25h: no   d3 a3 stop+1h: no   d4 b1 stop-24h exactly: yes
 d5 b3 stop-2h and stop-3h: yes (once)     d6 unbound, d7 b4 lost: not counted.
 Town 3 / 5; N1 = A (a1 a2 a3) 1 / 3; N2 = B (b1 b3) 2 / 2.

Video visits completed, started in P: v1 A a1 day 3, v2 A a2 E 23:30, v4 B b1 day 6,
 v6 B a6 day 8 (v3 A cancelled, v5 B starts E+1 00:00). Town 4; A 2; B 2; N1 3; N2 1.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.accounts.models import OrganisationKind, Role
from app.alerts.models import Alert, AlertStatus, Severity
from app.contracts.models import Contract, ContractStatus, ServicePackage
from app.extensions import db
from app.followups.models import (
    Classification,
    FollowUp,
    FollowUpMode,
    FollowUpSource,
    FollowUpStatus,
)
from app.kpis.areas import TOWN_ID, AreaKind, Period
from app.residents.models import ChronicCondition, Mobility
from app.timeutil import LOCAL_TZ, add_months, born_on_or_before, local_today
from referral.models import Referral, ReferralReturn, ReferralStatus, Urgency
from telecall.models import Visit, VisitStatus, VisitType
from wearables.models import Device, DeviceKind, DeviceStatus, Reading, ReadingSource

P = Period.month(add_months(local_today().replace(day=1), -2))
S, E = P.start, P.end
OLD = born_on_or_before(65, E)
HT, T2D = ChronicCondition.HYPERTENSION, ChronicCondition.TYPE2_DIABETES


def day(n: int) -> date:
    """The n-th day of P."""
    return S + timedelta(days=n - 1)


def sh(on: date, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time, as an aware UTC datetime."""
    return datetime.combine(on, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


def share(met, of):
    return (met / of if of else None, met, of)


def count(n):
    return (n, None, None)


def minutes(value, n):
    return (value, None, n)


def groups(all_, aged, ht, t2d, alone, disabled):
    """registered / signed per key group, as pairs."""
    pairs = {
        "all": all_,
        "aged_65_plus": aged,
        "hypertension": ht,
        "type2_diabetes": t2d,
        "living_alone": alone,
        "disabled": disabled,
    }
    return {
        name: {"registered": of, "signed": met, "rate": met / of if of else None}
        for name, (of, met) in pairs.items()
    }


# Every KPI of every area: (value, numerator, denominator), worked out in the docstring.
_N1 = {
    "signing_rate": share(4, 6),
    "signing_rate_aged_65": share(2, 3),
    "follow_ups_on_time": share(4, 6),
    "hypertension_control": share(2, 3),
    "diabetes_control": share(1, 2),
    "referrals_up": count(3),
    "referrals_down": count(3),
    "referral_loop_closure": share(2, 3),
    "alert_ack_median": minutes(20.0, 5),
    "alert_ack_p90": minutes(72.0, 5),
    "alerts_escalated": share(2, 5),
    "wearable_adherence": share(1, 3),
    "video_visits": count(3),
}
_N2 = {
    "signing_rate": share(2, 4),
    "signing_rate_aged_65": share(1, 2),
    "follow_ups_on_time": share(1, 3),
    "hypertension_control": share(0, 1),
    "diabetes_control": share(1, 1),
    "referrals_up": count(1),
    "referrals_down": count(1),
    "referral_loop_closure": share(0, 1),
    "alert_ack_median": minutes(16.5, 2),
    "alert_ack_p90": minutes(27.3, 2),
    "alerts_escalated": share(1, 3),
    "wearable_adherence": share(2, 2),
    "video_visits": count(1),
}
EXPECTED = {
    "town": {
        "signing_rate": share(6, 10),
        "signing_rate_aged_65": share(3, 5),
        "follow_ups_on_time": share(5, 9),
        "hypertension_control": share(2, 4),
        "diabetes_control": share(2, 3),
        "referrals_up": count(4),
        "referrals_down": count(4),
        "referral_loop_closure": share(2, 4),
        "alert_ack_median": minutes(20.0, 7),
        "alert_ack_p90": minutes(63.0, 7),
        "alerts_escalated": share(3, 8),
        "wearable_adherence": share(3, 5),
        "video_visits": count(4),
    },
    "N1": _N1,
    "N2": _N2,
    "A": _N1
    | {
        "follow_ups_on_time": share(3, 6),
        "hypertension_control": share(2, 3),
        "diabetes_control": share(1, 2),
        "referrals_down": count(2),
        "referral_loop_closure": share(1, 2),
        "alert_ack_median": minutes(12.0, 3),
        "alert_ack_p90": minutes(18.4, 3),
        "alerts_escalated": share(0, 3),
        "video_visits": count(2),
    },
    "B": _N2
    | {
        "follow_ups_on_time": share(2, 3),
        "hypertension_control": share(0, 1),
        "diabetes_control": share(1, 1),
        "referrals_down": count(2),
        "referral_loop_closure": share(1, 2),
        "alert_ack_median": minutes(60.0, 2),
        "alert_ack_p90": minutes(84.0, 2),
        "alerts_escalated": share(2, 3),
        "video_visits": count(2),
    },
}
# The signing rate's key groups (registered, signed).
GROUPS = {
    "town": groups((10, 6), (5, 3), (5, 3), (3, 2), (1, 0), (2, 1)),
    "N1": groups((6, 4), (3, 2), (3, 2), (2, 2), (1, 0), (0, 0)),
    "N2": groups((4, 2), (2, 1), (2, 1), (1, 0), (0, 0), (2, 1)),
}
GROUPS["A"], GROUPS["B"] = GROUPS["N1"], GROUPS["N2"]
AREAS = {
    "town": AreaKind.TOWN,
    "N1": AreaKind.NEIGHBOURHOOD,
    "N2": AreaKind.NEIGHBOURHOOD,
    "A": AreaKind.TEAM,
    "B": AreaKind.TEAM,
}


@dataclass
class Town:
    """The population: areas, people and staff by the names the docstring uses."""

    areas: dict  # name -> (AreaKind, id)
    teams: dict
    committees: dict
    people: dict
    admin: object

    def area(self, name: str) -> tuple[AreaKind, int]:
        return self.areas[name]

    def query(self, name: str) -> str:
        kind, area_id = self.areas[name]
        if kind == AreaKind.TOWN:
            return f"area=town&start={S}&end={E}"
        return f"area={kind.value}&area_id={area_id}&start={S}&end={E}"


@pytest.fixture
def town(make_org, make_team, make_neighbourhood, make_resident, make_user):
    n1 = make_neighbourhood(name="东一居委")
    n2 = make_neighbourhood(name="东二居委")
    centre = make_org(OrganisationKind.COMMUNITY_CENTRE)
    team_a = make_team(name="Team A", neighbourhoods=[n1], centre=centre)
    team_b = make_team(name="Team B", neighbourhoods=[n2], centre=centre)
    registered = sh(S - timedelta(days=100), 12)

    def person(area, born, conditions=(), created_at=registered, **kw):
        return make_resident(
            neighbourhood=area,
            birth_date=born,
            conditions=conditions,
            created_at=created_at,
            **kw,
        )

    y1950, y1975 = date(1950, 5, 17), date(1975, 3, 8)
    p = {
        "a1": person(n1, OLD, (HT,)),
        "a2": person(n1, y1950, (HT, T2D)),
        "a3": person(n1, y1975, (T2D,)),
        "a4": person(n1, OLD + timedelta(days=1), (HT,)),
        "a5": person(n1, y1950, living_alone=True, created_at=P.stop - timedelta(minutes=1)),
        "a6": person(n1, y1975),
        "a7": person(n1, y1950, created_at=P.stop),
        "b1": person(n2, y1950, (HT,), mobility=Mobility.WHEELCHAIR),
        "b2": person(n2, y1950, (T2D,)),
        "b3": person(n2, y1975),
        "b4": person(n2, y1975, (HT,), mobility=Mobility.BEDRIDDEN),
    }

    def contract(who, team, start, until, status=ContractStatus.ACTIVE):
        db.session.add(
            Contract(
                resident=p[who],
                team=team,
                package=ServicePackage.BASIC,
                status=status,
                start_date=start,
                end_date=until,
                active_from=start,
                active_until=until,
                requested_by_id=team.lead.id,
            )
        )

    long_ago, later = S - timedelta(days=30), E + timedelta(days=200)
    contract("a1", team_a, E, E + timedelta(days=365))
    for who in ("a2", "a3", "a7"):
        contract(who, team_a, long_ago, later)
    contract("a4", team_a, S - timedelta(days=300), E, ContractStatus.EXPIRED)
    for who in ("a6", "b1", "b3"):
        contract(who, team_b, long_ago, later)
    contract("b2", team_b, E + timedelta(days=1), E + timedelta(days=366))
    db.session.flush()

    _follow_ups(p, team_a, team_b)
    _alerts(p)
    _referrals(p, team_a, team_b, make_org, make_user)
    _devices(p)
    _visits(p, team_a, team_b)
    db.session.flush()
    return Town(
        areas={
            "town": (AreaKind.TOWN, TOWN_ID),
            "N1": (AreaKind.NEIGHBOURHOOD, n1.id),
            "N2": (AreaKind.NEIGHBOURHOOD, n2.id),
            "A": (AreaKind.TEAM, team_a.id),
            "B": (AreaKind.TEAM, team_b.id),
        },
        teams={"A": team_a, "B": team_b},
        committees={"N1": n1, "N2": n2},
        people=p,
        admin=make_user(Role.ADMIN),
    )


def _follow_ups(p, team_a, team_b):
    def follow_up(who, team, due, status=FollowUpStatus.DUE, done_at=None, **kw):
        db.session.add(
            FollowUp(
                resident_id=p[who].id,
                team_id=team.id,
                mode=FollowUpMode.CLINIC,
                due_date=due,
                status=status,
                source=kw.pop("source", FollowUpSource.MANUAL),
                purpose="复查",
                done_at=done_at,
                **kw,
            )
        )

    done, a, b = FollowUpStatus.DONE, team_a, team_b
    follow_up("a1", a, day(5), done, sh(day(5), 10))  # f1
    follow_up("a2", a, day(10), done, sh(day(10), 23, 30))  # f2
    follow_up("a3", a, day(10), done, sh(day(11), 0, 10))  # f3
    follow_up("a4", a, day(15), FollowUpStatus.MISSED)  # f4
    follow_up("a1", a, day(15), FollowUpStatus.CANCELLED)  # f5
    follow_up("a5", a, E, done, sh(E, 12))  # f6
    follow_up("a1", a, E + timedelta(days=1))  # f7
    follow_up("a2", a, S - timedelta(days=1), done, sh(day(2), 10))  # f8
    follow_up("b2", a, day(20))  # f9
    follow_up("b1", b, day(3), done, sh(day(2), 9))  # g1
    follow_up("b3", b, day(20), done, sh(day(25), 9))  # g2
    follow_up("a6", b, day(6), done, sh(day(6), 15))  # g3

    def classified(who, team, condition, done_at, classification):
        follow_up(
            who,
            team,
            S - timedelta(days=45),
            done,
            done_at,
            source=FollowUpSource.CHRONIC_SCHEDULE,
            condition=condition,
            classification=classification,
        )

    ok, bad = Classification.SATISFACTORY, Classification.UNSATISFACTORY
    before = S - timedelta(days=40)
    classified("a1", a, "hypertension", sh(before, 10), bad)
    classified("a1", a, "hypertension", sh(day(4), 10), ok)
    classified("a2", a, "hypertension", sh(before, 10), ok)
    classified("a2", a, "hypertension", sh(day(11), 10), bad)
    classified("a4", a, "hypertension", sh(S - timedelta(days=5), 10), ok)
    classified("a4", a, "hypertension", sh(E + timedelta(days=2), 10), bad)
    classified("b1", b, "hypertension", sh(day(8), 10), Classification.COMPLICATIONS)
    classified("b4", b, "hypertension", sh(day(9), 10), None)
    classified("a2", a, "type2_diabetes", sh(day(12), 10), ok)
    classified("a3", a, "type2_diabetes", sh(day(6), 10), Classification.SIDE_EFFECTS)
    classified("b2", b, "type2_diabetes", sh(E, 23, 30), ok)


def _alerts(p):
    seq = iter(range(1, 100))

    def alert(who, opened, ack=None, resolved=None, step=0):
        if resolved is not None:
            status = AlertStatus.RESOLVED
        elif ack is not None:
            status = AlertStatus.ACKNOWLEDGED
        else:
            status = AlertStatus.ESCALATED if step else AlertStatus.OPEN
        db.session.add(
            Alert(
                resident_id=p[who].id,
                rule=f"threshold:kpi_test:{next(seq)}",
                severity=Severity.HIGH,
                status=status,
                message="test",
                opened_at=opened,
                last_evidence_at=opened,
                step=step,
                acknowledged_at=None if ack is None else opened + timedelta(minutes=ack),
                resolved_at=None if resolved is None else opened + timedelta(minutes=resolved),
            )
        )

    alert("a1", sh(day(2), 10), ack=5, resolved=60)  # al1
    alert("a2", sh(day(3), 10), ack=12)  # al2
    alert("a3", sh(day(4), 10), ack=20)  # al3
    alert("a5", sh(day(5), 10), ack=45, step=1)  # al4
    alert("a6", sh(day(6), 10), ack=90, step=2)  # al5
    alert("b1", sh(day(7), 10), resolved=30)  # al6
    alert("b3", sh(day(8), 10), step=1)  # al7
    alert("b4", sh(E, 23, 59), ack=3)  # al8
    alert("b4", sh(E + timedelta(days=1)), ack=1)  # al9
    alert("a1", sh(S - timedelta(days=1), 23, 59), ack=1)  # al10


def _referrals(p, team_a, team_b, make_org, make_user):
    hospital = make_org(OrganisationKind.DISTRICT_HOSPITAL, name="浦东区人民医院")
    cardiology = make_org(OrganisationKind.DEPARTMENT, parent=hospital, name="心内科")
    specialist = make_user(Role.SPECIALIST, organisation_id=cardiology.id)
    S_ = ReferralStatus

    def referral(who, team, sent, status, returned=None):
        row = Referral(
            resident=p[who],
            team=team,
            referring_doctor_id=team.lead.id,
            hospital=hospital,
            department=cardiology,
            urgency=Urgency.ROUTINE,
            status=status,
            reason="复查",
            clinical_summary="血压偏高",
            sent_at=sent,
            closed_at=None if status != S_.CLOSED else (returned + timedelta(days=1)),
        )
        db.session.add(row)
        if returned is not None:
            db.session.add(
                ReferralReturn(
                    referral=row,
                    discharge_summary="好转",
                    diagnoses="高血压",
                    care_plan="随访",
                    returned_by_id=specialist.id,
                    returned_at=returned,
                )
            )

    a, b = team_a, team_b
    referral("a1", a, sh(day(2), 10), S_.SENT)  # r1
    referral("a2", a, sh(day(5), 10), S_.CLOSED, sh(day(10), 10))  # r2
    referral("a3", a, sh(S - timedelta(days=20), 10), S_.RETURNED, sh(day(3), 10))  # r3
    referral("b1", b, sh(E, 23, 30), S_.ACCEPTED)  # r4
    referral("b3", b, sh(E + timedelta(days=1)), S_.SENT)  # r5
    referral("a1", a, None, S_.DRAFT)  # r6
    referral("a6", b, sh(S - timedelta(days=40), 10), S_.CLOSED, sh(day(15), 10))  # r7
    referral(
        "b1", b, sh(S - timedelta(days=60), 10), S_.CLOSED, sh(S - timedelta(days=30), 10)
    )  # r8
    referral("a2", a, sh(day(20), 10), S_.RETURNED, sh(E + timedelta(days=2), 10))  # r9
    referral("b3", b, sh(S - timedelta(days=10), 10), S_.RETURN_ACCEPTED, sh(day(8), 10))  # r10


def _devices(p):
    stop = P.stop
    seq = iter(range(1, 100))

    def device(who, *arrived, status=DeviceStatus.ACTIVE, bound=True):
        n = next(seq)
        row = Device(
            serial=f"KPI-{n}",
            kind=DeviceKind.WATCH,
            resident=p[who] if bound else None,
            status=status,
            token_digest=f"{n:064d}",
        )
        db.session.add(row)
        db.session.flush()
        for when in arrived:
            db.session.add(
                Reading(
                    device_id=row.id,
                    resident_id=p[who].id,
                    metric="heart_rate",
                    value=72,
                    unit="/min",
                    measured_at=when - timedelta(minutes=1),
                    received_at=when,
                    source=ReadingSource.JSON,
                )
            )

    def hours(n):
        return timedelta(hours=n)

    device("a1", stop - hours(1))  # d1
    device("a2", stop - hours(25))  # d2
    device("a3", stop + hours(1))  # d3
    device("b1", stop - hours(24))  # d4
    device("b3", stop - hours(2), stop - hours(3))  # d5
    device("a1", stop - hours(1), status=DeviceStatus.UNBOUND, bound=False)  # d6
    device("b4", stop - hours(1), status=DeviceStatus.LOST)  # d7


def _visits(p, team_a, team_b):
    def visit(who, team, starts, status=VisitStatus.COMPLETED):
        db.session.add(
            Visit(
                resident=p[who],
                team=team,
                doctor_id=team.lead.id,
                visit_type=VisitType.VIDEO_CONSULT,
                status=status,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=20),
                booked_by_id=team.lead.id,
            )
        )

    visit("a1", team_a, sh(day(3), 10))  # v1
    visit("a2", team_a, sh(E, 23, 30))  # v2
    visit("a3", team_a, sh(day(4), 10), VisitStatus.CANCELLED)  # v3
    visit("b1", team_b, sh(day(6), 10))  # v4
    visit("b3", team_b, sh(E + timedelta(days=1)))  # v5
    visit("a6", team_b, sh(day(8), 10))  # v6
