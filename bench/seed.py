"""Builds a benchmark database: the project's migrations, then one administrator, residents
and bound devices made through the project's own services, as a real deployment would.

Run as `python -m bench.seed N` with DATABASE_URL (and the keys) in the environment, in a
process of its own, because the configuration is read from the environment at import.
The last line of its output is JSON: one {"id", "resident_id", "token"} per device.
"""

import json
import secrets
import sys
from datetime import date

from flask_migrate import upgrade

from app import create_app, idcard
from app.accounts import services as accounts
from app.accounts.models import OrganisationKind, Role
from app.extensions import db
from app.residents import services as residents
from app.residents.models import Sex
from wearables import devices

BIRTH = date(1948, 3, 9)


def _resident(admin, neighbourhood_id: int, n: int):
    number = idcard.make(f"310115{BIRTH:%Y%m%d}{n % 1000:03d}")
    data = {
        "name": f"基准居民{n}",
        "sex": Sex.FEMALE if n % 2 else Sex.MALE,
        "birth_date": BIRTH,
        "address": "高行镇基准路1号",
        "neighbourhood_id": neighbourhood_id,
        "national_id": number,
    }
    return residents.register_resident(admin, data)


def seed(count: int) -> list[dict]:
    neighbourhood = accounts.create_organisation(
        {"code": "BENCH", "name": "基准居委会", "kind": OrganisationKind.NEIGHBOURHOOD_COMMITTEE}
    )
    admin = accounts.create_user(
        {
            "username": "bench-admin",
            "display_name": "Bench admin",
            "role": Role.ADMIN,
            "password": secrets.token_urlsafe(16),
        }
    )
    made = []
    for n in range(1, count + 1):
        resident = _resident(admin, neighbourhood.id, n)
        device, token = devices.register(
            admin, {"serial": f"BENCH-{n:04d}", "kind": "watch", "resident_id": resident.id}
        )
        made.append({"id": device.id, "resident_id": resident.id, "token": token})
    db.session.commit()
    return made


def main() -> None:
    count = int(sys.argv[1])
    app = create_app()
    with app.app_context():
        upgrade()
        made = seed(count)
    print(json.dumps(made))


if __name__ == "__main__":
    main()
