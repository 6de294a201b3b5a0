"""The residents' register: residents, households, chronic conditions, caregiver links."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, User
from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.timeutil import local_today


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Mobility(StrEnum):
    INDEPENDENT = "independent"
    NEEDS_ASSISTANCE = "needs_assistance"
    WHEELCHAIR = "wheelchair"
    BEDRIDDEN = "bedridden"


class ChronicCondition(StrEnum):
    HYPERTENSION = "hypertension"
    TYPE2_DIABETES = "type2_diabetes"
    CORONARY_HEART_DISEASE = "coronary_heart_disease"
    STROKE = "stroke"
    COPD = "copd"
    CHRONIC_KIDNEY_DISEASE = "chronic_kidney_disease"
    DEMENTIA = "dementia"
    SEVERE_MENTAL_DISORDER = "severe_mental_disorder"


class CaregiverRelationship(StrEnum):
    FAMILY_MEMBER = "family_member"
    VOLUNTEER = "volunteer"
    CARE_WORKER = "care_worker"


class CaregiverScope(StrEnum):
    """What a linked caregiver may do; each scope includes the ones before it."""

    VIEW = "view"  # see the record, vitals and alerts
    CARE = "care"  # also act on alerts, book and join visits
    PROXY = "proxy"  # also sign and consent on the resident's behalf


SCOPE_ORDER = [CaregiverScope.VIEW, CaregiverScope.CARE, CaregiverScope.PROXY]


class LinkStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Household(db.Model):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    address: Mapped[str] = mapped_column(sa.String(300))
    neighbourhood_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    neighbourhood: Mapped[Organisation] = relationship()
    residents: Mapped[list[Resident]] = relationship(back_populates="household")


class Resident(db.Model):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, "sex"))
    birth_date: Mapped[date] = mapped_column(sa.Date, index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(300))
    neighbourhood_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id"), index=True)
    # The national ID is stored encrypted (Fernet); the keyed digest finds duplicates
    # without decrypting every row.
    national_id_ciphertext: Mapped[str] = mapped_column(sa.Text)
    national_id_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    living_alone: Mapped[bool] = mapped_column(default=False)
    mobility: Mapped[Mobility] = mapped_column(
        enum_type(Mobility, "mobility"), default=Mobility.INDEPENDENT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    neighbourhood: Mapped[Organisation] = relationship()
    household: Mapped[Household | None] = relationship(back_populates="residents")
    condition_rows: Mapped[list[ResidentCondition]] = relationship(
        cascade="all, delete-orphan", order_by="ResidentCondition.condition"
    )
    caregiver_links: Mapped[list[CaregiverLink]] = relationship(
        back_populates="resident", order_by="CaregiverLink.priority"
    )

    @property
    def conditions(self) -> list[ChronicCondition]:
        return [row.condition for row in self.condition_rows]

    @property
    def age(self) -> int:
        today = local_today()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday

    @property
    def active_caregiver_links(self) -> list[CaregiverLink]:
        return [link for link in self.caregiver_links if link.in_force]


class ResidentCondition(db.Model):
    __tablename__ = "resident_conditions"

    resident_id: Mapped[int] = mapped_column(
        sa.ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    condition: Mapped[ChronicCondition] = mapped_column(
        enum_type(ChronicCondition, "chronic_condition"), primary_key=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaregiverLink(db.Model):
    """A caregiver's access to one resident, granted by the resident or a doctor."""

    __tablename__ = "caregiver_links"
    __table_args__ = (
        sa.Index(
            "uq_caregiver_links_one_active",
            "resident_id",
            "caregiver_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), index=True)
    caregiver_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    relationship_kind: Mapped[CaregiverRelationship] = mapped_column(
        enum_type(CaregiverRelationship, "caregiver_relationship")
    )
    scope: Mapped[CaregiverScope] = mapped_column(enum_type(CaregiverScope, "caregiver_scope"))
    ends_on: Mapped[date] = mapped_column(sa.Date)
    # Order in which caregivers are called (1 first), used by alert escalation.
    priority: Mapped[int] = mapped_column(default=1)
    status: Mapped[LinkStatus] = mapped_column(
        enum_type(LinkStatus, "link_status"), default=LinkStatus.ACTIVE, index=True
    )
    granted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    resident: Mapped[Resident] = relationship(back_populates="caregiver_links")
    caregiver: Mapped[User] = relationship(foreign_keys=[caregiver_id])
    granted_by: Mapped[User] = relationship(foreign_keys=[granted_by_id])

    @property
    def in_force(self) -> bool:
        """Active and not past its end date (the nightly job only catches up the status)."""
        return self.status == LinkStatus.ACTIVE and self.ends_on >= local_today()

    def allows(self, scope: CaregiverScope) -> bool:
        return self.in_force and SCOPE_ORDER.index(self.scope) >= SCOPE_ORDER.index(scope)
