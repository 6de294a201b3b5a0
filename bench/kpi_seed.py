# ruff: noqa: S608  (SQL from this file's constants and integers only; nothing comes from outside)
"""A town for bench/kpi.py, written by the database itself: every table the KPIs read is
filled with INSERT ... SELECT over a series of numbers (PostgreSQL generate_series; SQLite a
recursive CTE), so 10 million readings take minutes, not hours.

The data cover the year before today. "Random" choices are fixed hashes of the row number
(`(n * prime) % 10007`), so every run builds the same town and prints the same figures:
- 20 neighbourhood committees; 40 teams, each serving one committee, every second team two;
- residents: a quarter aged 65+, ~30% hypertension, ~10% type-2 diabetes, some living alone,
  some in a wheelchair or bedridden; a tenth registered during the year;
- exactly `contracts` contracts in force today (the elderly and hypertensive first), started
  over the last eleven months, each renewing one of the year before (so the town has been
  signed all year round, as a town that has signed for years is);
- four chronic follow-ups a year per condition of each resident under contract (most on time,
  some late, missed, cancelled or still open; done ones classified), and an annual check of
  each contracted resident aged 65+;
- one watch each for 5% of the residents (at most one per contract); a seventh of them fell
  silent two months ago; `readings` readings spread over the year across the watches;
- alerts (0.3 per resident a year), acknowledged after 1 minute to 5 hours, some escalated,
  some never acknowledged, the last few still open; referrals (0.03 per resident), two in
  three returned and half closed; video visits (0.02 per resident), most completed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, timedelta

COMMITTEES, TEAMS = 20, 40
CENTRE, FIRST_COMMITTEE = 1, 2  # organisation ids; committees are 2..21
DISTRICT, MUNICIPAL, DISTRICT_DEPT, MUNICIPAL_DEPT = 22, 23, 24, 25
ADMIN = 1  # user ids: the administrator, then team t's doctor is user 1 + t
YEAR_DAYS = 365
PRIME = 10007
OPEN_ALERTS = 20  # the last alerts of the year are still open (one per device 1..20)

# every table the town is written to, in the order it is written (the row-count table too)
TABLES = (
    "organisations", "users", "teams", "team_members", "team_neighbourhoods", "residents",
    "resident_conditions", "contracts", "follow_ups", "devices", "readings", "alerts",
    "referrals", "referral_returns", "visits",
)  # fmt: skip
# the tables whose ids the statements give (the others take them from their sequence)
EXPLICIT_IDS = (
    "organisations", "users", "teams", "team_members", "residents", "contracts", "devices",
    "referrals", "visits",
)  # fmt: skip


@dataclass(frozen=True)
class Scale:
    residents: int
    contracts: int
    readings: int

    @property
    def devices(self) -> int:
        return max(OPEN_ALERTS, min(self.residents // 20, self.contracts))

    @property
    def alerts(self) -> int:
        return max(OPEN_ALERTS * 2, self.residents * 3 // 10)

    @property
    def referrals(self) -> int:
        return max(20, self.residents * 3 // 100)

    @property
    def visits(self) -> int:
        return max(20, self.residents // 50)


@dataclass(frozen=True)
class Sql:
    """What the two databases spell differently. Times are seconds after `epoch` (00:00
    Shanghai a year before today) and days are days after `day0` (that date)."""

    kind: str  # "postgresql" or "sqlite"
    epoch: int
    day0: date

    @property
    def pg(self) -> bool:
        return self.kind == "postgresql"

    def series(self, n: int, alias: str = "s") -> str:
        """Rows g = 1..n, as a FROM item named `alias`."""
        if self.pg:
            return f"generate_series(1::bigint, {int(n)}) AS {alias}(g)"
        return (
            f"(WITH RECURSIVE t(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM t WHERE g < {int(n)})"
            f" SELECT g FROM t) AS {alias}"
        )

    def at(self, seconds: str) -> str:
        """The instant `seconds` after the epoch (as SQLAlchemy stores it on SQLite)."""
        if self.pg:
            return f"to_timestamp({self.epoch} + ({seconds}))"
        return f"strftime('%Y-%m-%d %H:%M:%S.000000', {self.epoch} + ({seconds}), 'unixepoch')"

    def day(self, days: str) -> str:
        if self.pg:
            return f"(DATE '{self.day0}' + CAST({days} AS INTEGER))"
        return f"date('{self.day0}', printf('%+d days', {days}))"

    def digest(self, n: str) -> str:
        """64 characters, unique per n (stands in for an HMAC digest)."""
        if self.pg:
            return f"lpad(CAST({n} AS TEXT), 64, '0')"
        return f"printf('%064d', {n})"


def h(column: str, prime: int) -> str:
    """A fixed pseudo-random number in [0, 10007) for each row."""
    return f"((CAST({column} AS BIGINT) * {prime}) % {PRIME})"


def hypertensive(column: str) -> str:
    return f"{h(column, 7919)} < 3002"


def diabetic(column: str) -> str:
    return f"{h(column, 104729)} < 1001"


DAY = 86400


def statements(q: Sql, scale: Scale, now_s: int, cipher: str) -> list[tuple[str, str]]:
    """(table, SQL) in the order they run; `now_s`: seconds from the epoch to now."""
    n, c, d = scale.residents, scale.contracts, scale.devices
    old = q.at(f"{-400 * DAY}")
    return [
        ("organisations", _organisations(q, old)),
        ("users", _users(q, old)),
        (
            "teams",
            f"INSERT INTO teams (id, name, centre_id, active, created_at, capacity) "
            f"SELECT g, '家庭医生' || (100 + g) || '队', {CENTRE}, TRUE, {old}, NULL "
            f"FROM {q.series(TEAMS)}",
        ),
        (
            "team_members",
            f"INSERT INTO team_members (id, team_id, user_id, member_role, joined_at) "
            f"SELECT g, g, 1 + g, 'lead', {old} FROM {q.series(TEAMS)}",
        ),
        (
            "team_neighbourhoods",
            f"INSERT INTO team_neighbourhoods (team_id, neighbourhood_id) "
            f"SELECT g, {FIRST_COMMITTEE} + (g - 1) / 2 FROM {q.series(TEAMS)} "
            f"UNION ALL SELECT g, {FIRST_COMMITTEE} + ((g - 1) / 2 + 1) % {COMMITTEES} "
            f"FROM {q.series(TEAMS)} WHERE g % 2 = 0",
        ),
        ("residents", _residents(q, n, cipher)),
        (
            "resident_conditions",
            f"INSERT INTO resident_conditions (resident_id, condition, recorded_at) "
            f"SELECT id, 'hypertension', created_at FROM residents WHERE {hypertensive('id')} "
            f"UNION ALL SELECT id, 'type2_diabetes', created_at FROM residents "
            f"WHERE {diabetic('id')}",
        ),
        ("contracts", _renewed_contracts(q, c)),
        ("contracts", _contracts(q, c)),
        ("follow_ups", _chronic_follow_ups(q)),
        ("follow_ups", _annual_checks(q)),
        ("devices", _devices(q, d, now_s)),
        ("readings", _readings(q, scale, now_s)),
        ("alerts", _alerts(q, scale, now_s)),
        ("referrals", _referrals(q, scale, now_s)),
        ("referral_returns", _referral_returns(q, scale, now_s)),
        ("visits", _visits(q, scale, now_s)),
    ]


def _organisations(q: Sql, old: str) -> str:
    # columns left out are NULL (PostgreSQL types a bare NULL in a UNION as text)
    columns = "id, code, name, kind, parent_id, active, created_at"
    fixed = [
        (CENTRE, "BENCH-CENTRE", "基准社区卫生服务中心", "community_centre", CENTRE),
        (DISTRICT, "BENCH-DH", "基准区医院", "district_hospital", DISTRICT),
        (MUNICIPAL, "BENCH-MH", "基准市医院", "municipal_hospital", MUNICIPAL),
        (DISTRICT_DEPT, "BENCH-DH-CARD", "心内科", "department", DISTRICT),
        (MUNICIPAL_DEPT, "BENCH-MH-CARD", "心内科", "department", MUNICIPAL),
    ]
    rows = " UNION ALL ".join(
        f"SELECT {i}, '{code}', '{name}', '{kind}', "
        f"CASE WHEN {parent} = {i} THEN NULL ELSE {parent} END, TRUE, {old}"
        for i, code, name, kind, parent in fixed
    )
    return (
        f"INSERT INTO organisations ({columns}) {rows} "
        f"UNION ALL SELECT {FIRST_COMMITTEE - 1} + g, 'BENCH-NC' || g, '基准居委会' || (100 + g), "
        f"'neighbourhood_committee', {CENTRE}, TRUE, {old} FROM {q.series(COMMITTEES)}"
    )


def _users(q: Sql, old: str) -> str:
    columns = (
        "id, username, display_name, password_hash, role, organisation_id, active, "
        "failed_logins, large_text, created_at"
    )
    tail = f"TRUE, 0, FALSE, {old}"
    # '!' is no password hash: nobody signs in to the benchmark's town
    return (
        f"INSERT INTO users ({columns}) "
        f"SELECT {ADMIN}, 'bench-admin', '基准管理员', '!', 'admin', {CENTRE}, {tail} "
        f"UNION ALL SELECT 1 + g, 'bench-doctor-' || g, '基准医生' || g, '!', 'doctor', "
        f"{CENTRE}, {tail} FROM {q.series(TEAMS)}"
    )


def elderly(column: str) -> str:
    return f"{h(column, 7877)} % 4 = 0"


def registered_this_year(column: str) -> str:
    return f"{h(column, 3571)} % 10 = 1"


def _residents(q: Sql, n: int, cipher: str) -> str:
    # today is day 365; 65 years are at most 23,741 days, so 23,790 is 65+ with a margin
    birth = (
        f"CASE WHEN {elderly('g')} THEN {YEAR_DAYS} - 23790 - (g * 7) % 9125 "
        f"ELSE {YEAR_DAYS} - 7300 - (g * 13) % 15695 END"
    )
    created = (
        f"CASE WHEN {registered_this_year('g')} "
        f"THEN {q.at(f'((g * 7919) % 360) * {DAY} + 7200')} "
        f"ELSE {q.at(f'-{30 * DAY} - (g * 7) % {300 * DAY}')} END"
    )
    mobility = (
        f"CASE WHEN {h('g', 17)} % 100 < 3 THEN 'wheelchair' WHEN {h('g', 17)} % 100 < 4 "
        f"THEN 'bedridden' WHEN {h('g', 17)} % 100 < 15 THEN 'needs_assistance' "
        f"ELSE 'independent' END"
    )
    return (
        "INSERT INTO residents (id, name, sex, birth_date, phone, address, neighbourhood_id, "
        "household_id, national_id_ciphertext, national_id_digest, living_alone, mobility, "
        "created_at, updated_at) "
        f"SELECT g, '基准居民' || g, CASE WHEN {h('g', 4421)} % 2 = 0 THEN 'female' "
        f"ELSE 'male' END, {q.day(birth)}, NULL, '高行镇基准路' || (g % 500) || '号', "
        f"{FIRST_COMMITTEE} + g % {COMMITTEES}, NULL, '{cipher}', {q.digest('g')}, "
        f"{h('g', 31)} % 10 = 0, {mobility}, {created}, {created} FROM {q.series(n)}"
    )


CONTRACT_COLUMNS = (
    "id, resident_id, team_id, district_hospital_id, municipal_hospital_id, package, status, "
    "start_date, end_date, active_from, active_until, renews_id, requested_by_id, end_reason, "
    "created_at, updated_at"
)


def _ranked_residents(c: int) -> str:
    """The `c` residents under contract today, ranked 1..c (the ids of their contracts)."""
    # who signs first: the elderly, then hypertensive residents, then a hash; residents
    # registered this year last (a contract is never older than its resident's record)
    score = (
        f"{h('id', 4099)} % 1000 - CASE WHEN {elderly('id')} THEN 500 ELSE 0 END "
        f"- CASE WHEN {hypertensive('id')} THEN 200 ELSE 0 END "
        f"+ CASE WHEN {registered_this_year('id')} THEN 10000 ELSE 0 END"
    )
    team = f"2 * (id % {COMMITTEES}) + 1 + (id / {COMMITTEES}) % 2"  # serves their committee
    package = (
        f"CASE WHEN {elderly('id')} THEN 'elderly' WHEN {hypertensive('id')} "
        "THEN 'hypertension' ELSE 'basic' END"
    )
    ranked = (
        f"SELECT id, {team} AS team_id, {package} AS package, "
        f"{YEAR_DAYS - 1} - {h('id', 613)} % 330 AS start_day, "
        f"row_number() OVER (ORDER BY {score}, id) AS rn FROM residents"
    )
    return f"SELECT * FROM ({ranked}) ranked WHERE rn <= {int(c)}"


def _renewed_contracts(q: Sql, c: int) -> str:
    """The year before each contract in force (ids c + 1...): renewed into it, so the town
    was signed all year round, as a town that has been signing for years is."""
    return (
        f"INSERT INTO contracts ({CONTRACT_COLUMNS}) "
        f"SELECT {int(c)} + rn, id, team_id, {DISTRICT}, {MUNICIPAL}, package, 'renewed', "
        f"{q.day('start_day - 365')}, {q.day('start_day - 1')}, {q.day('start_day - 365')}, "
        f"{q.day('start_day')}, NULL, 1 + team_id, NULL, "
        f"{q.at(f'(start_day - 365) * {DAY} + 3600')}, {q.at(f'start_day * {DAY}')} "
        f"FROM ({_ranked_residents(c)}) r WHERE NOT ({registered_this_year('id')})"
    )


def _contracts(q: Sql, c: int) -> str:
    """The contracts in force today (ids 1..c), started over the last eleven months."""
    renews = f"CASE WHEN {registered_this_year('id')} THEN NULL ELSE {int(c)} + rn END"
    return (
        f"INSERT INTO contracts ({CONTRACT_COLUMNS}) "
        f"SELECT rn, id, team_id, {DISTRICT}, {MUNICIPAL}, package, 'active', "
        f"{q.day('start_day')}, {q.day('start_day + 364')}, {q.day('start_day')}, "
        f"{q.day('start_day + 364')}, {renews}, 1 + team_id, NULL, "
        f"{q.at(f'start_day * {DAY} + 3600')}, {q.at(f'start_day * {DAY} + 3600')} "
        f"FROM ({_ranked_residents(c)}) r"
    )


FOLLOW_UP_COLUMNS = (
    "resident_id, team_id, mode, due_date, status, source, source_id, purpose, created_at, "
    "done_at, condition, done_by_id, form, classification, next_id, referral_id, closed_reason"
)


def _chronic_follow_ups(q: Sql) -> str:
    due = "(c.resident_id * 37) % 91 + (k.g - 1) * 92"
    salt = "CASE WHEN rc.condition = 'hypertension' THEN 0 ELSE 41 END"
    each = (
        f"SELECT c.resident_id, c.team_id, rc.condition, k.g AS q, {due} AS due, "
        f"({h('c.resident_id', 53)} + k.g * 17 + {salt}) % 100 AS u "
        f"FROM contracts c JOIN resident_conditions rc ON rc.resident_id = c.resident_id "
        f"CROSS JOIN {q.series(4, 'k')} "
        f"WHERE c.status = 'active' AND rc.condition IN ('hypertension', 'type2_diabetes')"
    )
    fate = (
        f"CASE WHEN due >= {YEAR_DAYS} THEN 'ahead' WHEN u < 80 THEN 'on_time' "
        f"WHEN u < 88 AND due + 15 < {YEAR_DAYS} THEN 'late' WHEN u < 95 THEN 'missed' "
        "WHEN u < 97 THEN 'cancelled' ELSE 'open' END"
    )
    status = (
        "CASE WHEN fate IN ('on_time', 'late') THEN 'done' WHEN fate = 'missed' THEN 'missed' "
        "WHEN fate = 'cancelled' THEN 'cancelled' ELSE 'due' END"
    )
    done_at = (
        f"CASE WHEN fate = 'on_time' THEN {q.at(f'due * {DAY} + 3600 * (1 + u % 9)')} "
        f"WHEN fate = 'late' THEN {q.at(f'(due + 1 + u % 14) * {DAY} + 3 * 3600')} END"
    )
    v = f"({h('resident_id', 2903)} + q * 3 + team_id) % 20"
    classification = (
        f"CASE WHEN fate NOT IN ('on_time', 'late') THEN NULL WHEN {v} < 13 THEN 'satisfactory' "
        f"WHEN {v} < 18 THEN 'unsatisfactory' WHEN {v} = 18 THEN 'side_effects' "
        "ELSE 'complications' END"
    )
    mode = "CASE u % 3 WHEN 0 THEN 'clinic' WHEN 1 THEN 'phone' ELSE 'home' END"
    return (
        f"INSERT INTO follow_ups ({FOLLOW_UP_COLUMNS}) "
        f"SELECT resident_id, team_id, {mode}, {q.day('due')}, {status}, 'chronic_schedule', "
        f"NULL, '慢病随访', {q.at(f'(due - 91) * {DAY}')}, {done_at}, condition, "
        f"CASE WHEN fate IN ('on_time', 'late') THEN 1 + team_id END, NULL, {classification}, "
        f"NULL, NULL, NULL FROM (SELECT f.*, {fate} AS fate FROM ({each}) f) x"
    )


def _annual_checks(q: Sql) -> str:
    each = (
        "SELECT resident_id, team_id, (resident_id * 11) % 365 AS due, "
        f"{h('resident_id', 29)} % 100 AS u FROM contracts "
        f"WHERE status = 'active' AND {elderly('resident_id')}"
    )
    status = "CASE WHEN u < 80 THEN 'done' WHEN u < 90 THEN 'missed' ELSE 'due' END"
    return (
        f"INSERT INTO follow_ups ({FOLLOW_UP_COLUMNS}) "
        f"SELECT resident_id, team_id, 'clinic', {q.day('due')}, {status}, 'annual_check', NULL, "
        f"'年度体检', {q.at(f'(due - 30) * {DAY}')}, "
        f"CASE WHEN u < 80 THEN {q.at(f'due * {DAY} + 3600 * 2')} END, NULL, "
        f"CASE WHEN u < 80 THEN 1 + team_id END, NULL, NULL, NULL, NULL, NULL FROM ({each}) a"
    )


def _devices(q: Sql, d: int, now_s: int) -> str:
    ranked = (
        f"SELECT resident_id, row_number() OVER (ORDER BY {h('resident_id', 211)}, resident_id) "
        "AS rn FROM contracts WHERE status = 'active'"
    )
    return (
        "INSERT INTO devices (id, serial, kind, model, vendor, resident_id, status, "
        "token_digest, token_issued_at, last_seen_at, battery_level, created_at) "
        f"SELECT rn, 'BENCH-KPI-' || rn, 'watch', 'bench', 'bench', resident_id, 'active', "
        f"{q.digest('rn')}, {q.at('0')}, {q.at(f'{now_s} - 600')}, 80, {q.at('0')} "
        f"FROM ({ranked}) ranked WHERE rn <= {int(d)}"
    )


def _readings(q: Sql, scale: Scale, now_s: int) -> str:
    d = scale.devices
    per_device = math.ceil(scale.readings / d)
    # a seventh of the watches fell silent two months ago (wearable adherence below 100%)
    span = f"CASE WHEN dev % 7 = 0 THEN {now_s - 3600 - 60 * DAY} ELSE {now_s - 3600} END"
    numbered = (
        f"SELECT g, 1 + (g - 1) % {d} AS dev, (g - 1) / {d} AS k FROM {q.series(scale.readings)}"
    )
    timed = (
        f"SELECT g, dev, k, k * ({span}) / {per_device} + (dev * 13) % 300 AS m FROM ({numbered}) n"
    )
    metric = "CASE r.k % 3 WHEN 0 THEN 'heart_rate' WHEN 1 THEN 'spo2' ELSE 'respiratory_rate' END"
    value = "CASE r.k % 3 WHEN 0 THEN 60 + r.g % 40 WHEN 1 THEN 93 + r.g % 7 ELSE 12 + r.g % 8 END"
    unit = "CASE r.k % 3 WHEN 1 THEN '%' ELSE '/min' END"
    return (
        "INSERT INTO readings (device_id, resident_id, metric, value, unit, original_value, "
        "original_unit, measured_at, received_at, source) "
        f"SELECT d.id, d.resident_id, {metric}, {value}, {unit}, NULL, NULL, {q.at('r.m')}, "
        f"{q.at('r.m + 5 + r.g % 60')}, CASE WHEN r.g % 2 = 0 THEN 'json' ELSE 'mqtt' END "
        f"FROM ({timed}) r JOIN devices d ON d.id = r.dev"
    )


def _alerts(q: Sql, scale: Scale, now_s: int) -> str:
    a, d = scale.alerts, scale.devices
    span = now_s - 12 * 3600  # the slowest is resolved 10.5 hours after it opened
    first_open = a - OPEN_ALERTS
    each = (
        f"SELECT g, CASE WHEN g > {first_open} THEN g - {first_open} ELSE 1 + (g * 7) % {d} END "
        f"AS dev, g * {span} / {a} AS o, {h('g', 7919)} % 1000 AS m FROM {q.series(a)}"
    )
    # minutes to the first action: 70% within a quarter hour, 20% within the hour, 8% later,
    # 2% never acknowledged (resolved after ten hours)
    minutes = (
        "CASE WHEN m < 700 THEN 1 + m % 14 WHEN m < 900 THEN 15 + m % 45 "
        "WHEN m < 980 THEN 60 + m % 240 END"
    )
    facts = (
        f"SELECT g, dev, o, m, {minutes} AS mins, g > {first_open} AS still_open FROM ({each}) e"
    )
    rule = (
        "CASE x.g % 4 WHEN 0 THEN 'sos' WHEN 1 THEN 'heart_rate_high' WHEN 2 THEN 'spo2_low' "
        "ELSE 'fall' END"
    )
    severity = "CASE WHEN x.g % 4 IN (0, 3) THEN 'critical' ELSE 'high' END"
    status = (
        "CASE WHEN NOT x.still_open THEN 'resolved' WHEN x.g % 2 = 0 THEN 'acknowledged' "
        "ELSE 'open' END"
    )
    acted = "x.still_open AND x.g % 2 = 1"
    ack = f"CASE WHEN {acted} OR x.mins IS NULL THEN NULL ELSE {q.at('x.o + x.mins * 60')} END"
    ack_by = f"CASE WHEN {acted} OR x.mins IS NULL THEN NULL ELSE {ADMIN} END"
    later = q.at("x.o + (COALESCE(x.mins, 600) + 30) * 60")
    resolved = f"CASE WHEN x.still_open THEN NULL ELSE {later} END"
    step = "CASE WHEN x.m >= 960 THEN 2 WHEN x.m >= 850 THEN 1 ELSE 0 END"
    return (
        "INSERT INTO alerts (resident_id, rule, severity, status, message, params, device_id, "
        "opened_at, last_evidence_at, evidence_count, step, next_step_at, snoozed_until, "
        "acknowledged_at, acknowledged_by_id, resolved_at, resolved_by_id, resolution_note) "
        f"SELECT d.resident_id, {rule}, {severity}, {status}, 'bench', '{{}}', d.id, "
        f"{q.at('x.o')}, {q.at('x.o')}, 1, {step}, NULL, NULL, {ack}, {ack_by}, {resolved}, "
        f"CASE WHEN x.still_open THEN NULL ELSE {ADMIN} END, NULL "
        f"FROM ({facts}) x JOIN devices d ON d.id = x.dev"
    )


RETURNED = ("returned", "return_accepted", "closed")


def _referral_timing(scale: Scale, now_s: int, id_: str) -> tuple[int, str, str]:
    """(span, when referral `id_` was sent, days until it came back): both tables agree."""
    span = now_s - 2 * DAY
    return span, f"CAST({id_} AS BIGINT) * {span} / {scale.referrals}", f"(3 + {id_} % 18)"


def _referrals(q: Sql, scale: Scale, now_s: int) -> str:
    span, sent, back = _referral_timing(scale, now_s, "id")
    each = (
        f"SELECT g AS id, 1 + (g * 13) % {scale.contracts} AS cid, (g * 37) % 100 AS u "
        f"FROM {q.series(scale.referrals)}"
    )
    status = (
        "CASE WHEN u < 5 THEN 'draft' WHEN u < 10 THEN 'rejected' WHEN u < 15 THEN 'cancelled' "
        f"WHEN u < 30 OR {sent} + 21 * {DAY} > {span} THEN 'accepted' "
        "WHEN u < 45 THEN 'returned' WHEN u < 50 THEN 'return_accepted' ELSE 'closed' END"
    )
    facts = f"SELECT id, cid, {status} AS status FROM ({each}) e"
    _span, sent, back = _referral_timing(scale, now_s, "x.id")
    returned = f"({sent} + {back} * {DAY})"
    return (
        "INSERT INTO referrals (id, resident_id, team_id, referring_doctor_id, hospital_id, "
        "department_id, urgency, status, source, reason, clinical_summary, current_medication, "
        "other_hospital_reason, vitals, rejection_reason, created_at, sent_at, accepted_at, "
        "escalated_at, closed_at) "
        f"SELECT x.id, c.resident_id, c.team_id, 1 + c.team_id, "
        f"CASE WHEN x.id % 2 = 0 THEN {DISTRICT} ELSE {MUNICIPAL} END, "
        f"CASE WHEN x.id % 2 = 0 THEN {DISTRICT_DEPT} ELSE {MUNICIPAL_DEPT} END, 'routine', "
        f"x.status, 'doctor', '基准转诊', '基准病情摘要', NULL, NULL, NULL, NULL, "
        f"{q.at(f'{sent} - 3600')}, "
        f"CASE WHEN x.status = 'draft' THEN NULL ELSE {q.at(sent)} END, "
        f"CASE WHEN x.status IN ('accepted', {_quoted(RETURNED)}) "
        f"THEN {q.at(f'{sent} + 3600')} END, "
        f"NULL, CASE WHEN x.status = 'closed' THEN {q.at(f'{returned} + {DAY}')} END "
        f"FROM ({facts}) x JOIN contracts c ON c.id = x.cid"
    )


def _referral_returns(q: Sql, scale: Scale, now_s: int) -> str:
    _span, sent, back = _referral_timing(scale, now_s, "id")
    returned = q.at(f"{sent} + {back} * {DAY}")
    return (
        "INSERT INTO referral_returns (referral_id, discharge_summary, diagnoses, "
        "medication_changes, long_prescription, care_plan, follow_up_actions, returned_by_id, "
        "returned_at, accepted_by_id, accepted_at, acknowledged_by_id, acknowledged_at, "
        "overdue_flagged_at) "
        f"SELECT id, '基准出院小结', '基准诊断', NULL, FALSE, '基准照护计划', '[]', {ADMIN}, "
        f"{returned}, NULL, NULL, NULL, NULL, NULL FROM referrals "
        f"WHERE status IN ({_quoted(RETURNED)})"
    )


def _visits(q: Sql, scale: Scale, now_s: int) -> str:
    span = now_s - 2 * 3600
    each = (
        f"SELECT g, 1 + (g * 17) % {scale.contracts} AS cid, g * {span} / {scale.visits} AS o, "
        f"(g * 29) % 100 AS u FROM {q.series(scale.visits)}"
    )
    status = (
        "CASE WHEN x.u < 80 THEN 'completed' WHEN x.u < 88 THEN 'cancelled' "
        "WHEN x.u < 95 THEN 'no_show' ELSE 'missed_by_team' END"
    )
    kind = (
        "CASE x.g % 3 WHEN 0 THEN 'video_consult' WHEN 1 THEN 'online_revisit' "
        "ELSE 'remote_follow_up' END"
    )
    held = "x.u < 80"
    return (
        "INSERT INTO visits (id, resident_id, team_id, doctor_id, visit_type, status, starts_at, "
        "ends_at, reason, booked_by_id, cancel_reason, started_at, ended_at, notes, form, "
        "follow_up_id, reminded_day_before_at, reminded_soon_at, created_at, updated_at) "
        f"SELECT x.g, c.resident_id, c.team_id, 1 + c.team_id, {kind}, {status}, {q.at('x.o')}, "
        f"{q.at('x.o + 1200')}, '基准视频随访', 1 + c.team_id, NULL, "
        f"CASE WHEN {held} THEN {q.at('x.o + 60')} END, "
        f"CASE WHEN {held} THEN {q.at('x.o + 1200')} END, '', NULL, NULL, NULL, NULL, "
        f"{q.at(f'x.o - 3 * {DAY}')}, {q.at('x.o + 1200')} "
        f"FROM ({each}) x JOIN contracts c ON c.id = x.cid"
    )


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# --- running it ----------------------------------------------------------------------------------

# Loaded with their indexes, unique keys and foreign keys set aside and rebuilt after, in the
# same transaction: 10 million readings take about a minute instead of four. The table ends
# with the same definition; its indexes are freshly built (compact, unlike a year of ingest).
BULK = ("readings",)

_SECONDARY_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = CAST(%(t)s AS regclass) AND NOT i.indisprimary AND NOT EXISTS (
    SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid
)
"""
_KEYS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST(%(t)s AS regclass) AND contype IN ('u', 'f')
"""


def _set_aside_indexes(connection, table: str) -> list[str]:
    """Drop `table`'s secondary indexes, unique keys and foreign keys; return the DDL that
    puts them back (indexes first, then the keys, which check the rows once each)."""
    indexes = connection.exec_driver_sql(_SECONDARY_INDEXES, {"t": table}).all()
    keys = connection.exec_driver_sql(_KEYS, {"t": table}).all()
    for name, _definition in keys:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in keys
    ]


def seed(engine, scale: Scale, cipher: str, progress=print) -> float:
    """Write the town through `engine` (one transaction a statement), then gather the
    planner's statistics; returns the seconds it took."""
    import sqlalchemy as sa

    from app.kpis.areas import day_start
    from app.timeutil import local_today

    if scale.contracts > scale.residents:
        raise ValueError("--contracts: more contracts than residents")
    day0 = local_today() - timedelta(days=YEAR_DAYS)
    epoch = int(day_start(day0).timestamp())
    now_s = int(time.time()) - epoch
    q = Sql(engine.dialect.name, epoch, day0)
    began = time.perf_counter()
    for table, sql in statements(q, scale, now_s, cipher):
        started = time.perf_counter()
        with engine.begin() as connection:
            if q.pg and table in BULK:
                restore = _set_aside_indexes(connection, table)
            done = connection.execute(sa.text(sql.replace(":", r"\:")))
            if q.pg and table in BULK:
                connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
                for ddl in restore:
                    connection.exec_driver_sql(ddl)
        progress(f"  {table}: {done.rowcount:,} rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    if q.pg:
        # ids were given explicitly: move the sequences past them for the rows the app adds
        with engine.begin() as connection:
            for table in EXPLICIT_IDS:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    progress(f"  statistics (VACUUM ANALYZE / ANALYZE): {time.perf_counter() - started:.1f} s")
    return time.perf_counter() - began
