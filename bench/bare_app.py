"""The bare baseline: a Flask endpoint that stores the same JSON readings in the same table
with SQLAlchemy Core and checks nothing (no token, no rate limit, no units, no window, no
duplicates). What the real ingest endpoint costs above this is the price of its rules.

Served by gunicorn exactly like the app: `gunicorn -w 2 bench.bare_app:app`, with
DATABASE_URL in the environment. The device arrives in the `X-Bench-Device` header as
"<device id>:<resident id>" because there is no token to find it by.
"""

import json
import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, request

engine = sa.create_engine(os.environ["DATABASE_URL"])
readings = sa.Table("readings", sa.MetaData(), autoload_with=engine)
# SQLite keeps naive UTC times (as the project's UTCDateTime does); PostgreSQL keeps them aware.
NAIVE = engine.dialect.name == "sqlite"

app = Flask(__name__)


def _utc(raw: str) -> datetime:
    value = datetime.fromisoformat(raw).astimezone(UTC)
    return value.replace(tzinfo=None) if NAIVE else value


@app.post("/api/v1/ingest")
def ingest():
    device_id, resident_id = (int(part) for part in request.headers["X-Bench-Device"].split(":"))
    now = _utc(datetime.now(UTC).isoformat())
    rows = [
        {
            "device_id": device_id,
            "resident_id": resident_id,
            "metric": item["metric"],
            "value": item["value"],
            "unit": item["unit"],
            "original_value": item["value"],
            "original_unit": item["unit"],
            "measured_at": _utc(item["measured_at"]),
            "received_at": now,
            "source": "json",
        }
        for item in json.loads(request.get_data())["readings"]
    ]
    with engine.begin() as conn:
        conn.execute(readings.insert(), rows)
    return {"accepted": len(rows), "duplicate": 0, "rejected": []}


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
