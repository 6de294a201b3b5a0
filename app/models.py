"""Imports every model so that SQLAlchemy and Alembic see all tables."""

from app.accounts.models import (  # noqa: F401
    ApiToken,
    Organisation,
    Team,
    TeamMember,
    User,
    team_neighbourhoods,
)
from app.alerts.models import (  # noqa: F401, E402
    Alert,
    AlertDelivery,
    AlertEvidence,
    ConsciousnessAssessment,
    DeliveryAttempt,
    MonitoringProfile,
    ThresholdOverride,
)
from app.audit.models import AuditEntry, Event  # noqa: F401
from app.contracts.models import Contract, ContractConsent  # noqa: F401, E402
from app.followups.models import FollowUp  # noqa: F401, E402
from app.kpis.models import KpiSetting, KpiSnapshot  # noqa: F401, E402
from app.notifications.models import Notification  # noqa: F401, E402
from app.reports.models import Report  # noqa: F401, E402
from app.residents.import_models import ResidentImport  # noqa: F401
from app.residents.models import (  # noqa: F401
    CaregiverLink,
    Household,
    Resident,
    ResidentCondition,
)
from referral.models import (  # noqa: F401, E402
    AppointmentSlot,
    Referral,
    ReferralAttachment,
    ReferralMessage,
    ReferralReturn,
)
from telecall.models import (  # noqa: F401, E402
    Availability,
    AvailabilityException,
    QualitySample,
    Recording,
    RecordingConsent,
    Signal,
    SlotClaim,
    Visit,
    VisitParticipant,
)
from wearables.models import Device, Reading  # noqa: F401, E402
