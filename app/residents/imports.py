"""Importing a neighbourhood committee's residents' register from a CSV file: the rules.

Upload -> preview -> confirm. The preview checks every row at once against the rules of
services.register_resident (a few queries for the whole file, nothing written) and lists every
reason; the confirmation checks again, then registers each row through register_resident
itself, all in one savepoint: every row is imported, or none. Reading the file (headings,
cells, codes) is import_csv's; two rows with one ID are found here.
"""

import re
from dataclasses import dataclass

import sqlalchemy as sa

from app import crypto, idcard
from app.accounts.models import Organisation, OrganisationKind, Role, User
from app.audit.services import record_event
from app.errors import N_, Conflict, DomainError, NotFound
from app.extensions import db
from app.policy import neighbourhood_ids_served
from app.residents import import_csv, services
from app.residents.import_csv import RowResult, decode
from app.residents.import_models import ImportStatus, ResidentImport
from app.residents.models import Resident
from app.timeutil import local_today, utcnow

REGISTERED = N_("a resident with this national ID is registered already")
# The service names the ids it was given; the file has codes.
SERVICE_FIELDS = {"neighbourhood_id": "neighbourhood_code", "household_id": "household_code"}


@dataclass
class Preview:
    batch: ResidentImport
    rows: list[RowResult]

    @property
    def bad_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.errors]

    def problems(self) -> list[dict]:
        """Every reason, as the API gives it: [{row, field, reason}] in English."""
        return [
            {"row": row.number, "field": exc.field, "reason": exc.message}
            for row in self.bad_rows
            for exc in row.errors
        ]


class ImportHasErrors(Conflict):
    def __init__(self, preview: Preview):
        self.preview = preview
        super().__init__(
            N_("the file has rows with errors; nothing was imported"),
            field="file",
            error_count=len(preview.bad_rows),
            row_errors=preview.problems(),
        )


def _flag_duplicates(rows: list[RowResult]) -> None:
    by_number: dict[str, list[RowResult]] = {}
    for row in rows:
        if row.national_id:
            by_number.setdefault(row.national_id, []).append(row)
    for same in by_number.values():
        for row in same if len(same) > 1 else ():
            others = "、".join(str(other.number) for other in same if other is not row)
            message = N_("the same national ID is also on row %(rows)s")
            row.refuse(message, "national_id", rows=others)


def _flag_registered(rows: list[RowResult]) -> None:
    digests = {crypto.digest(row.national_id): row for row in rows if row.national_id}
    chunks = list(digests)
    for start in range(0, len(chunks), 500):
        query = sa.select(Resident.national_id_digest)
        query = query.where(Resident.national_id_digest.in_(chunks[start : start + 500]))
        for found in db.session.scalars(query):
            digests[found].refuse(REGISTERED, "national_id")


def _flag_rules(user: User, sheet: import_csv.Sheet) -> None:
    """services.register_resident's rules (and messages), for every row at once: running the
    service row by row in savepoints costs about 5 ms a row, too slow to preview 5000 rows."""
    served = neighbourhood_ids_served(user)
    households = {h.id: h for h in sheet.households.values()}
    today = local_today()
    for row in sheet.rows:
        neighbourhood_id, born = row.parsed["neighbourhood_id"], row.parsed["birth_date"]
        if neighbourhood_id is not None and served is not None and neighbourhood_id not in served:
            row.refuse(N_("your teams do not serve this neighbourhood"), "neighbourhood_code")
        household = households.get(row.parsed["household_id"])
        if household and neighbourhood_id and household.neighbourhood_id != neighbourhood_id:
            row.refuse(N_("the household is in another neighbourhood"), "household_code")
        if born and born > today:
            row.refuse(N_("cannot be in the future"), "birth_date")
        elif born and row.national_id and idcard.birth_date(row.national_id) != born:
            row.refuse(N_("does not match the birth date in the national ID"), "birth_date")


def check(user: User, text: str) -> import_csv.Sheet:
    """Every row of the file and everything wrong with it. Writes nothing."""
    sheet = import_csv.read(text)
    _flag_duplicates(sheet.rows)
    _flag_registered(sheet.rows)
    _flag_rules(user, sheet)
    return sheet


def _register_all(user: User, sheet: import_csv.Sheet) -> None:
    """Each row through services.register_resident, the last word on the rules; the first
    refusal (a change made since the check) undoes them all."""
    savepoint = db.session.begin_nested()
    for row in sheet.rows:
        try:
            services.register_resident(user, row.data)
        except DomainError as exc:
            exc.field = SERVICE_FIELDS.get(exc.field, exc.field)
            row.errors.append(exc)
        except sa.exc.IntegrityError:  # registered by someone else at this very moment
            row.refuse(REGISTERED, "national_id")
        except BaseException:
            savepoint.rollback()
            raise
        if row.errors:
            savepoint.rollback()
            return
    savepoint.commit()


# --- the batch -----------------------------------------------------------------------------


def upload(user: User, filename: str, raw: bytes) -> Preview:
    text = decode(raw, filename)
    rows = check(user, text).rows
    name = re.split(r"[/\\]", filename or "")[-1].strip()[:255] or "upload.csv"
    batch = ResidentImport(
        uploaded_by_id=user.id,
        filename=name,
        content=crypto.encrypt(text),
        row_count=len(rows),
        error_count=sum(1 for row in rows if row.errors),
        status=ImportStatus.PREVIEWED,
    )
    db.session.add(batch)
    db.session.flush()
    record_event(
        "resident_import",
        batch.id,
        "resident_import.uploaded",
        None,
        ImportStatus.PREVIEWED,
        data={"rows": batch.row_count, "bad_rows": batch.error_count},
        actor=user,
    )
    return Preview(batch, rows)


def get_batch(user: User, batch_id: int) -> ResidentImport:
    """The uploader's batch (an administrator sees every one); anyone else: not found."""
    batch = db.session.get(ResidentImport, batch_id)
    if batch is None or not (batch.uploaded_by_id == user.id or user.role == Role.ADMIN):
        raise NotFound(N_("import not found"))
    return batch


def preview(user: User, batch: ResidentImport) -> Preview:
    """Checked again, as the register stands now; an ended batch is only read."""
    if batch.status != ImportStatus.PREVIEWED:
        return Preview(batch, [])
    return Preview(batch, check(user, crypto.decrypt(batch.content)).rows)


_ENDED = {
    ImportStatus.IMPORTED: N_("this file is imported already"),
    ImportStatus.DISCARDED: N_("this file was discarded"),
}


def _still_open(batch: ResidentImport) -> None:
    """Locks the batch, so two confirmations at once import it once."""
    db.session.refresh(batch, with_for_update=True)
    if batch.status != ImportStatus.PREVIEWED:
        raise Conflict(_ENDED[batch.status], field="status", current=batch.status.value)


def confirm(user: User, batch: ResidentImport) -> int:
    """Every row into the register, or none (ImportHasErrors, with the rows and reasons)."""
    _still_open(batch)
    sheet = check(user, crypto.decrypt(batch.content))
    result = Preview(batch, sheet.rows)
    if not result.bad_rows:
        _register_all(user, sheet)
    if result.bad_rows:  # found by the check, or by the service since
        raise ImportHasErrors(result)
    count = len(sheet.rows)
    batch.status, batch.imported_at = ImportStatus.IMPORTED, utcnow()
    db.session.flush()
    record_event(
        "resident_import",
        batch.id,
        "resident_import.imported",
        ImportStatus.PREVIEWED,
        ImportStatus.IMPORTED,
        data={"imported": count},
        actor=user,
    )
    return count


def discard(user: User, batch: ResidentImport) -> None:
    _still_open(batch)
    batch.status = ImportStatus.DISCARDED
    db.session.flush()
    record_event(
        "resident_import",
        batch.id,
        "resident_import.discarded",
        ImportStatus.PREVIEWED,
        ImportStatus.DISCARDED,
        actor=user,
    )


def served_neighbourhoods(user: User) -> list[Organisation]:
    """The committees whose codes this user may put in a file (for the page and the template)."""
    query = sa.select(Organisation).where(
        Organisation.kind == OrganisationKind.NEIGHBOURHOOD_COMMITTEE, Organisation.active.is_(True)
    )
    served = neighbourhood_ids_served(user)
    if served is not None:
        query = query.where(Organisation.id.in_(served))
    return list(db.session.scalars(query.order_by(Organisation.code)))


def template_csv(user: User) -> str:
    served = served_neighbourhoods(user)
    return import_csv.template(served[0].code if served else "")
