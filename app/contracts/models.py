"""Family-doctor contracts: Shanghai's "1+1+1" signing of a resident with a team of the
community health service centre, optionally plus a district and a municipal hospital."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, Team, User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.residents.models import Resident


class ServicePackage(StrEnum):
    BASIC = "basic"
    ELDERLY = "elderly"
    HYPERTENSION = "hypertension"
    DIABETES = "diabetes"
    HOME_BED = "home_bed"


class ContractStatus(StrEnum):
    REQUESTED = "requested"  # asked for online by the resident or a proxy caregiver
    DRAFTED = "drafted"  # prepared by the team
    PENDING_CONSENT = "pending_consent"  # accepted by the team, waiting for consent
    ACTIVE = "active"
    EXPIRING = "expiring"  # active, within 30 days of its end
    RENEWED = "renewed"  # ended by a renewal that took over
    EXPIRED = "expired"
    TERMINATED = "terminated"
    REJECTED = "rejected"  # a request the team declined
    CANCELLED = "cancelled"  # withdrawn before it became active


IN_FORCE = (ContractStatus.ACTIVE, ContractStatus.EXPIRING)
OPEN = (ContractStatus.REQUESTED, ContractStatus.DRAFTED, ContractStatus.PENDING_CONSENT)


class ConsentMethod(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    PROXY = "proxy"  # a caregiver with proxy scope, on the resident's behalf


def _in(statuses) -> sa.TextClause:
    return sa.text("status IN (" + ", ".join(f"'{s.value}'" for s in statuses) + ")")


class Contract(db.Model):
    __tablename__ = "contracts"
    __table_args__ = (
        # At most one contract in force per resident, and one in the making: the database
        # enforces both, so two signings at once cannot both win.
        sa.Index(
            "uq_contracts_one_in_force",
            "resident_id",
            unique=True,
            sqlite_where=_in(IN_FORCE),
            postgresql_where=_in(IN_FORCE),
        ),
        sa.Index(
            "uq_contracts_one_open",
            "resident_id",
            unique=True,
            sqlite_where=_in(OPEN),
            postgresql_where=_in(OPEN),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    district_hospital_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    municipal_hospital_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    package: Mapped[ServicePackage] = mapped_column(enum_type(ServicePackage, "service_package"))
    status: Mapped[ContractStatus] = mapped_column(
        enum_type(ContractStatus, "contract_status"), index=True
    )
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date, index=True)  # exclusive
    # The days it was in force: set when it becomes active, cut short when it ends early.
    # The signing-rate figures for any date read these.
    active_from: Mapped[date | None] = mapped_column(sa.Date, index=True)
    active_until: Mapped[date | None] = mapped_column(sa.Date, index=True)  # exclusive
    renews_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contracts.id"))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    end_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship()
    team: Mapped[Team] = relationship()
    district_hospital: Mapped[Organisation | None] = relationship(
        foreign_keys=[district_hospital_id]
    )
    municipal_hospital: Mapped[Organisation | None] = relationship(
        foreign_keys=[municipal_hospital_id]
    )
    requested_by: Mapped[User] = relationship()
    renews: Mapped[Contract | None] = relationship(remote_side=[id])
    consents: Mapped[list[ContractConsent]] = relationship(
        back_populates="contract", order_by="ContractConsent.given_at"
    )

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE


class ContractConsent(db.Model):
    """How, by whom and when the resident agreed, and to which version of the text."""

    __tablename__ = "contract_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    method: Mapped[ConsentMethod] = mapped_column(enum_type(ConsentMethod, "consent_method"))
    # The account that consented online or as proxy; None when the resident consented in
    # person (many have no account) and a team member recorded it.
    given_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text_version: Mapped[str] = mapped_column(sa.String(32))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="consents")
    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
