"""What a reading can be: each metric's LOINC code, canonical UCUM unit, the units accepted
and how they convert, and the physiologically possible range (outside it a reading is
refused: it is a sensor fault, not a patient)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Metric:
    name: str
    loinc: str | None
    unit: str | None  # canonical UCUM unit; None for events (fall, sos)
    low: float | None = None
    high: float | None = None
    # other accepted unit -> function converting a value into the canonical unit
    conversions: dict[str, Callable[[float], float]] = field(default_factory=dict)

    @property
    def is_event(self) -> bool:
        return self.unit is None

    def accepts(self, unit: str | None) -> bool:
        return unit == self.unit or unit in self.conversions


MMOL_PER_MG_DL_GLUCOSE = 1 / 18.016  # glucose: 1 mmol/L = 18.016 mg/dL
MMHG_PER_KPA = 7.50062

METRICS = {
    m.name: m
    for m in (
        Metric("heart_rate", "8867-4", "/min", 20, 300, {"bpm": float, "beats/min": float}),
        Metric("respiratory_rate", "9279-1", "/min", 2, 80, {"breaths/min": float}),
        Metric("spo2", "59408-5", "%", 50, 100),
        Metric(
            "systolic_bp",
            "8480-6",
            "mm[Hg]",
            50,
            300,
            {"mmHg": float, "kPa": lambda v: v * MMHG_PER_KPA},
        ),
        Metric(
            "diastolic_bp",
            "8462-4",
            "mm[Hg]",
            20,
            200,
            {"mmHg": float, "kPa": lambda v: v * MMHG_PER_KPA},
        ),
        Metric(
            "body_temperature",
            "8310-5",
            "Cel",
            25,
            45,
            {
                "°C": float,
                "C": float,
                "[degF]": lambda v: (v - 32) * 5 / 9,
                "°F": lambda v: (v - 32) * 5 / 9,
                "F": lambda v: (v - 32) * 5 / 9,
                "K": lambda v: v - 273.15,
            },
        ),
        Metric(
            "blood_glucose",
            "15074-8",
            "mmol/L",
            0.5,
            50,
            {"mg/dL": lambda v: v * MMOL_PER_MG_DL_GLUCOSE},
        ),
        Metric(
            "body_weight",
            "29463-7",
            "kg",
            2,
            400,
            {
                "[lb_av]": lambda v: v * 0.45359237,
                "lb": lambda v: v * 0.45359237,
                "g": lambda v: v / 1000,
            },
        ),
        Metric(
            "steps",
            "41950-7",
            "/d",
            0,
            200_000,
            {"steps": float, "{steps}": float, "{steps}/d": float},
        ),
        Metric("fall", None, None),
        Metric("sos", None, None),
    )
}
# Alternative LOINC codes of the same measurement (FHIR vital-signs profile: SpO2 2708-6).
LOINC_ALIASES = {"2708-6": "spo2", "59408-5": "spo2"}
LOINC_TO_METRIC = {m.loinc: m.name for m in METRICS.values() if m.loinc} | LOINC_ALIASES
BP_PANEL_LOINC = "85354-9"


@dataclass(frozen=True)
class Candidate:
    """One reading as a parser understood it, before the ingest rules judge it."""

    index: int  # position in the request, for the answer
    metric: str
    value: float | None
    unit: str | None
    measured_at: datetime  # timezone-aware


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str  # a message id (app.errors.N_), English in the API answer


class MalformedBody(ValueError):
    """The body as a whole cannot be read (400)."""
