"""JSON API: devices, the ingest endpoint devices push to, and a resident's readings.

`POST /api/v1/ingest` is a public contract vendors integrate with: docs/WEARABLES.md.
"""

import hashlib

from flask import current_app, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort

from app.accounts.models import Role
from app.extensions import limiter
from app.policy import get_resident, roles_required
from wearables import devices, formats, ingest, rollups
from wearables.metrics import METRICS, MalformedBody
from wearables.schemas import (
    BindSchema,
    DeviceQuerySchema,
    DeviceSchema,
    DeviceWithTokenSchema,
    IngestResultSchema,
    ReadingQuerySchema,
    ReadingSchema,
    RollupSchema,
)

blp = Blueprint("wearables_api", __name__, url_prefix="/api/v1", description="Wearables")
managers = roles_required(Role.DOCTOR, Role.NURSE, Role.ADMIN)


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _device_key() -> str:
    """Rate limits count per device token (its digest), not per address: many devices of
    one care home share an address."""
    return "device:" + hashlib.sha256((_bearer() or request.remote_addr or "").encode()).hexdigest()


@blp.route("/ingest")
class Ingest(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["INGEST_RATE_LIMIT"], key_func=_device_key)
    ]

    @blp.response(200, IngestResultSchema)
    @blp.alt_response(401, description="unknown, revoked or lost device token")
    def post(self):
        """Push readings (JSON, FHIR R4 Observation/Bundle, or Open mHealth data points)"""
        device = devices.authenticate(_bearer())
        if device is None:
            abort(401, message="unknown or revoked device token")
        if request.mimetype not in ("application/json", "application/fhir+json"):
            abort(415, message="send application/json or application/fhir+json")
        request.max_content_length = current_app.config["INGEST_MAX_BYTES"]
        body = request.get_json(silent=True)
        if body is None:
            abort(400, message="the body is not JSON")
        try:
            parsed = formats.parse(request.mimetype, body)
        except MalformedBody as exc:
            abort(400, message=str(exc))
        return ingest.store(
            device, parsed.candidates, parsed.rejections, parsed.source, parsed.battery
        ).as_dict()


@blp.route("/devices")
class Devices(MethodView):
    decorators = [managers]

    @blp.arguments(DeviceQuerySchema, location="query")
    @blp.response(200, DeviceSchema(many=True))
    def get(self, args):
        """A resident's devices"""
        get_resident(
            current_user, args["resident_id"], reason=request.headers.get("X-Access-Reason")
        )
        return devices.for_resident(current_user, args["resident_id"])

    @blp.arguments(DeviceSchema)
    @blp.response(201, DeviceWithTokenSchema)
    def post(self, data):
        """Register a device (optionally bound to a resident); the token is shown this once"""
        device, token = devices.register(current_user, data)
        device.shown_token = token  # answered this once, never stored
        return device


def _device_action(name, call, schema=None, with_token=False):
    class Action(MethodView):
        decorators = [managers]

        if schema is not None:

            @blp.arguments(schema)
            @blp.response(200, DeviceWithTokenSchema if with_token else DeviceSchema)
            def post(self, data, device_id):
                return call(current_user, devices.get_device(current_user, device_id), data)

        else:

            @blp.response(200, DeviceWithTokenSchema if with_token else DeviceSchema)
            def post(self, device_id):
                return call(current_user, devices.get_device(current_user, device_id), None)

    Action.__name__ = "Device" + "".join(p.title() for p in name.split("-"))
    blp.route(f"/devices/<int:device_id>/{name}")(Action)


def _rotate(user, device, _data):
    device, token = devices.rotate_token(user, device)
    device.shown_token = token
    return device


_device_action("bind", lambda u, d, data: devices.bind(u, d, data["resident_id"]), BindSchema)
_device_action("unbind", lambda u, d, _: devices.unbind(u, d))
_device_action("lost", lambda u, d, _: devices.mark_lost(u, d))
_device_action("rotate-token", _rotate, with_token=True)


@blp.route("/residents/<int:resident_id>/readings")
class Readings(MethodView):
    @roles_required(*Role)
    @blp.arguments(ReadingQuerySchema, location="query")
    @blp.response(200, ReadingSchema(many=True))
    def get(self, args, resident_id):
        """A resident's readings of one metric over a time range"""
        resident = get_resident(
            current_user, resident_id, reason=request.headers.get("X-Access-Reason")
        )
        if args["metric"] not in METRICS:
            abort(422, errors={"query": {"metric": ["unknown metric"]}})
        return ingest.readings_of(resident.id, args["metric"], args["since"], args["until"])


@blp.route("/residents/<int:resident_id>/readings/hourly")
class HourlyReadings(MethodView):
    @roles_required(*Role)
    @blp.arguments(ReadingQuerySchema, location="query")
    @blp.response(200, RollupSchema(many=True))
    def get(self, args, resident_id):
        """A resident's hourly roll-ups of one metric: count, lowest, highest and mean of
        the hours that start in [since, until), as of the last refresh (every 10 minutes)"""
        resident = get_resident(
            current_user, resident_id, reason=request.headers.get("X-Access-Reason")
        )
        if args["metric"] not in METRICS:
            abort(422, errors={"query": {"metric": ["unknown metric"]}})
        return rollups.hourly(resident.id, args["metric"], args["since"], args["until"])
