"""The follow-up form: the national basic public health service's hypertension and type-2
diabetes follow-up record (symptoms, signs, lifestyle, medication adherence, side effects,
the classification and the next visit). Filled in at a contact (app/followups) and during a
video visit (telecall)."""

from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from app.schemas_common import StrictSchema, text


def _range(low, high):
    return validate.Range(min=low, max=high)


def _choice(values):
    return validate.OneOf(values)


SYMPTOMS = (
    "none",
    "headache_dizziness",
    "nausea_vomiting",
    "blurred_vision_tinnitus",
    "breathing_difficulty",
    "palpitations_chest_tightness",
    "nosebleed",
    "numb_limbs",
    "swollen_ankles",
    "thirst_hunger_urination",  # diabetes: polydipsia, polyphagia, polyuria
    "infection",
    "weight_loss",
)
CONDITIONS = ("hypertension", "type2_diabetes")  # as the register names them
LEVELS = ("good", "fair", "poor")
SALT = ("light", "moderate", "heavy")
ADHERENCE = ("regular", "intermittent", "none")
CLASSIFICATIONS = ("satisfactory", "unsatisfactory", "side_effects", "complications")


class FollowUpFormSchema(StrictSchema):
    condition = fields.String(required=True, validate=_choice(CONDITIONS))
    symptoms = fields.List(fields.String(validate=_choice(SYMPTOMS)), load_default=list)
    other_symptoms = text(300, required=False)
    systolic = fields.Integer(validate=_range(50, 300), allow_none=True)
    diastolic = fields.Integer(validate=_range(30, 200), allow_none=True)
    weight_kg = fields.Float(validate=_range(20, 300), allow_none=True)
    target_weight_kg = fields.Float(validate=_range(20, 300), allow_none=True)
    heart_rate = fields.Integer(validate=_range(20, 250), allow_none=True)
    fasting_glucose = fields.Float(validate=_range(1, 40), allow_none=True)  # mmol/L
    cigarettes_per_day = fields.Integer(validate=_range(0, 100), allow_none=True)
    alcohol_liang_per_day = fields.Float(validate=_range(0, 50), allow_none=True)
    exercise_times_per_week = fields.Integer(validate=_range(0, 21), allow_none=True)
    exercise_minutes = fields.Integer(validate=_range(0, 600), allow_none=True)
    salt_intake = fields.String(validate=_choice(SALT), allow_none=True)
    psychological_adjustment = fields.String(validate=_choice(LEVELS), allow_none=True)
    compliance = fields.String(validate=_choice(LEVELS), allow_none=True)
    medication_adherence = fields.String(validate=_choice(ADHERENCE), allow_none=True)
    side_effects = fields.Boolean(load_default=False)
    side_effects_detail = text(300, required=False)
    classification = fields.String(required=True, validate=_choice(CLASSIFICATIONS))
    next_visit_date = fields.Date(allow_none=True)

    @validates_schema
    def _pressures(self, data, **kwargs):
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if (systolic is None) != (diastolic is None):
            raise ValidationError("give both pressures or neither", "diastolic")
        if systolic is not None and diastolic >= systolic:
            raise ValidationError("must be below the systolic pressure", "diastolic")
        if data.get("side_effects") and not data.get("side_effects_detail"):
            raise ValidationError("say which side effects", "side_effects_detail")
