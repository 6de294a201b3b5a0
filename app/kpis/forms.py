"""The KPI pages' forms: the board's period (GET), and the settings sheet (POST, CSRF), one
row of target / yellow edge / weight per scored KPI.

Shares are typed and shown as per cent (85 for 0.85); `SettingsForm.changes()` gives
settings.update() its 0..1 values. A service refusal names a field like
"signing_rate.weight"; the form's field for it is "signing_rate-weight".
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.kpis import registry
from app.kpis.labels import kpi_label
from app.kpis.registry import SHARE, Kpi
from app.kpis.settings import Setting
from app.residents.forms import REASON_MAX, REQUIRED, FormWithServiceErrors, InRange, strip

PARTS = ("target", "yellow", "weight")


class PeriodForm(FlaskForm):
    """The board's period (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    start = DateField(_l("First day of the period"), validators=[Optional()])
    end = DateField(_l("Last day of the period"), validators=[Optional()])


class NumberField(FloatField):
    """A float shown as typed: 45, not 45.0."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"


def scored(kpi: Kpi) -> bool:
    """A KPI the settings sheet lets a town set: one with a better direction."""
    return kpi.better is not None


def field_name(key: str, part: str) -> str:
    return f"{key}-{part}"


def _as_shown(kpi: Kpi, number: float | None) -> float | None:
    """A stored target or edge as typed on the page (a share in per cent)."""
    if number is None:
        return None
    return round(number * 100, 4) if kpi.unit == SHARE else number


def _as_stored(kpi: Kpi, number: float | None) -> float | None:
    if number is None:
        return None
    return round(number / 100, 6) if kpi.unit == SHARE else number


class SettingsForm(FormWithServiceErrors):
    """Built per request by `settings_form()`: the KPIs' fields are added to a subclass."""

    reason = StringField(
        _l("Reason for the change"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_MAX)],
    )

    def show_error(self, exc) -> str | None:
        if exc.field and "." in exc.field:
            key, part = exc.field.split(".", 1)
            self.service_fields = {exc.field: field_name(key, part)}
        return super().show_error(exc)

    def rows(self) -> list[dict]:
        """One row per KPI, in the board's order, with its three fields (None: not set
        here, a count without a better direction)."""
        rows = []
        for kpi in registry.all_kpis():
            fields = {part: self._fields.get(field_name(kpi.key, part)) for part in PARTS}
            rows.append({"kpi": kpi, **fields})
        return rows

    def entered_total(self) -> int | None:
        weights = [self[field_name(k.key, "weight")].data for k in registry.all_kpis() if scored(k)]
        return None if any(w is None for w in weights) else sum(weights)

    def changes(self, current: dict[str, Setting]) -> dict[str, dict]:
        """What differs from `current`, in settings.update()'s terms (shares as 0..1)."""
        changes = {}
        for kpi in filter(scored, registry.all_kpis()):
            old = current[kpi.key]
            new = {
                "target": _as_stored(kpi, self[field_name(kpi.key, "target")].data),
                "yellow": _as_stored(kpi, self[field_name(kpi.key, "yellow")].data),
                "weight": self[field_name(kpi.key, "weight")].data,
            }
            changed = {k: v for k, v in new.items() if not _same(v, getattr(old, k))}
            if changed:
                changes[kpi.key] = changed
        return changes


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-9


def settings_form(current: dict[str, Setting], formdata=None) -> SettingsForm:
    """The settings sheet with every scored KPI's fields, filled from `current` on GET."""

    class Form(SettingsForm):
        pass

    data = {}
    for kpi in filter(scored, registry.all_kpis()):
        name = kpi_label(kpi.key)
        top = 100 if kpi.unit == SHARE else None
        for part, label in (
            ("target", gettext("%(kpi)s: target", kpi=name)),
            ("yellow", gettext("%(kpi)s: yellow edge", kpi=name)),
        ):
            setattr(
                Form,
                field_name(kpi.key, part),
                NumberField(
                    label,
                    validators=[Optional(), InRange(min=0, max=top)],
                    render_kw={"inputmode": "decimal", "step": "any"},
                ),
            )
            data[field_name(kpi.key, part)] = _as_shown(kpi, getattr(current[kpi.key], part))
        setattr(
            Form,
            field_name(kpi.key, "weight"),
            IntegerField(
                gettext("%(kpi)s: weight", kpi=name),
                validators=[InputRequired(message=REQUIRED), InRange(min=0, max=1000)],
                render_kw={"inputmode": "numeric", "step": "1"},
            ),
        )
        data[field_name(kpi.key, "weight")] = current[kpi.key].weight
    if formdata is None:
        return Form(formdata=None, data=data)
    return Form(formdata=formdata)
