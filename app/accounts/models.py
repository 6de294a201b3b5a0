"""Organisations, user accounts, family-doctor teams and API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import StrEnum, UTCDateTime, enum_type, utcnow
from app.extensions import db


class OrganisationKind(StrEnum):
    COMMUNITY_CENTRE = "community_centre"
    DISTRICT_HOSPITAL = "district_hospital"
    MUNICIPAL_HOSPITAL = "municipal_hospital"
    NEIGHBOURHOOD_COMMITTEE = "neighbourhood_committee"
    DEPARTMENT = "department"


CARE_PROVIDER_KINDS = (
    OrganisationKind.COMMUNITY_CENTRE,
    OrganisationKind.DISTRICT_HOSPITAL,
    OrganisationKind.MUNICIPAL_HOSPITAL,
)
HOSPITAL_KINDS = (OrganisationKind.DISTRICT_HOSPITAL, OrganisationKind.MUNICIPAL_HOSPITAL)


class Role(StrEnum):
    RESIDENT = "resident"
    CAREGIVER = "caregiver"
    DOCTOR = "doctor"
    NURSE = "nurse"
    SPECIALIST = "specialist"
    ADMIN = "admin"


STAFF_ROLES = (Role.DOCTOR, Role.NURSE, Role.SPECIALIST, Role.ADMIN)
TEAM_ROLES = (Role.DOCTOR, Role.NURSE)


class TeamMemberRole(StrEnum):
    LEAD = "lead"
    DOCTOR = "doctor"
    NURSE = "nurse"
    PUBLIC_HEALTH = "public_health"


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind, "org_kind"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(default=True)
    # The head of a hospital department: urgent referrals left waiting are escalated to them.
    lead_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, name="fk_organisations_lead_user_id_users")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], back_populates="children")
    lead_user: Mapped[User | None] = relationship(foreign_keys=[lead_user_id])
    children: Mapped[list[Organisation]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    # Where alerts are e-mailed; optional (the platform and the SMS gateway reach people too).
    email: Mapped[str | None] = mapped_column(sa.String(200))
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    # A resident's own account points at their record in the register.
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("residents.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    large_text: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    memberships: Mapped[list[TeamMember]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def team_ids(self) -> list[int]:
        return [m.team_id for m in self.memberships if m.team.active]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


team_neighbourhoods = sa.Table(
    "team_neighbourhoods",
    db.Model.metadata,
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("neighbourhood_id", sa.ForeignKey("organisations.id"), primary_key=True),
)


class Team(db.Model):
    """A family-doctor team of a community health service centre."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # The panel size: how many residents the team may have under contract (None: no limit).
    capacity: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    centre: Mapped[Organisation] = relationship()
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.id"
    )
    neighbourhoods: Mapped[list[Organisation]] = relationship(
        secondary=team_neighbourhoods, order_by="Organisation.name"
    )

    @property
    def lead(self) -> User | None:
        return next((m.user for m in self.members if m.member_role == TeamMemberRole.LEAD), None)


class TeamMember(db.Model):
    __tablename__ = "team_members"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "user_id", name="uq_team_members_team_user"),
        # One lead per team, enforced by the database.
        sa.Index(
            "uq_team_members_one_lead",
            "team_id",
            unique=True,
            sqlite_where=sa.text("member_role = 'lead'"),
            postgresql_where=sa.text("member_role = 'lead'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    member_role: Mapped[TeamMemberRole] = mapped_column(enum_type(TeamMemberRole, "member_role"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
