"""The formats devices send readings in; each parser returns candidates and rejections."""

from dataclasses import dataclass

from wearables.formats import native
from wearables.metrics import Candidate, Rejection
from wearables.models import ReadingSource


def parser_for(mimetype: str, body):
    """Which format the body is in: the content type says FHIR; plain JSON is ours
    ({"readings": ...}) or Open mHealth data points ({header, body}). FHIR and Open mHealth
    load their schemas on first use, so they are imported then."""
    if mimetype == "application/fhir+json":
        from wearables.formats import fhir

        return fhir.parse, ReadingSource.FHIR
    looks_like_omh = isinstance(body, list) or (isinstance(body, dict) and "header" in body)
    if looks_like_omh:
        from wearables.formats import omh

        return omh.parse, ReadingSource.OMH
    return native.parse, ReadingSource.JSON


@dataclass(frozen=True)
class Parsed:
    candidates: list[Candidate]
    rejections: list[Rejection]
    source: ReadingSource
    battery: int | None  # only Kangyang's own JSON carries it


def parse(mimetype: str, body) -> Parsed:
    """A body in any accepted format, as HTTP and MQTT ingest both read it. Raises
    MalformedBody when the body as a whole cannot be read."""
    parser, source = parser_for(mimetype, body)
    candidates, rejections = parser(body)
    battery = native.battery(body) if source == ReadingSource.JSON else None
    return Parsed(candidates, rejections, source, battery)
