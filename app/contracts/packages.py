"""What each service package includes (the basic package is in all of them). Shown to
residents when they choose, and on every contract."""

from flask_babel import lazy_gettext as _l

from app.contracts.models import ServicePackage

BASIC = [
    _l("A named family doctor and team, reachable by phone"),
    _l("Health record kept up to date"),
    _l("Priority booking of specialist appointments through referral"),
    _l("Health advice and education"),
]

INCLUDES = {
    ServicePackage.BASIC: BASIC,
    ServicePackage.ELDERLY: [
        *BASIC,
        _l("A yearly health check for residents aged 65 and over"),
        _l("Assessment of daily-living ability and fall risk"),
    ],
    ServicePackage.HYPERTENSION: [
        *BASIC,
        _l("At least four follow-ups a year (clinic, home, phone or video)"),
        _l("Long prescriptions for stable chronic disease"),
        _l("Home blood-pressure readings reviewed by the team"),
    ],
    ServicePackage.DIABETES: [
        *BASIC,
        _l("At least four follow-ups a year (clinic, home, phone or video)"),
        _l("Long prescriptions for stable chronic disease"),
        _l("Blood-glucose readings reviewed by the team"),
    ],
    ServicePackage.HOME_BED: [
        *BASIC,
        _l("Home visits by the doctor and nurse (family sickbed)"),
        _l("Nursing and rehabilitation guidance at home"),
        _l("Video visits for residents who cannot get about"),
    ],
}


def includes(package: ServicePackage) -> list[str]:
    return [str(item) for item in INCLUDES[package]]
