"""The trend chart's labels: a year under the first month and each January, never two years
on top of each other; ticks say their unit; a month without a value breaks the line."""

from datetime import date

from reportlab.graphics.shapes import PolyLine, String

from app.kpis import registry
from app.kpis.board import months_up_to
from app.kpis.charts import svg, trend_drawing
from app.kpis.settings import Setting


def texts(drawing) -> list[str]:
    return [item.text for item in drawing.contents if isinstance(item, String)]


def points(last: date, values: list) -> list[dict]:
    return [
        {"month": month, "values": {"alert_ack_median": value}}
        for month, value in zip(months_up_to(last), values, strict=True)
    ]


def test_years_months_and_the_minutes_unit(app):
    kpi = registry.get("alert_ack_median")
    from_december = points(date(2026, 11, 1), [12, 14, None, 20, 18, 16, 15, 14, 13, 12, 11, 10])
    drawing = trend_drawing(from_december, kpi, Setting(15, 30, 50))
    labels = texts(drawing)
    assert labels.count("2026") == 1
    assert "2025" not in labels
    assert [t for t in labels if t.isdigit() and len(t) == 2][:3] == ["12", "01", "02"]
    assert {"0m", "10m", "20m"} <= set(labels)  # 0 to a round 20 over the data and target
    lines = [item for item in drawing.contents if isinstance(item, PolyLine)]
    assert len(lines) == 2  # broken at February, which has no value

    from_march = points(date(2027, 2, 1), [10] * 12)
    labels = texts(trend_drawing(from_march, kpi, Setting(15, 30, 50)))
    assert labels.count("2026") == 1
    assert labels.count("2027") == 1


def test_the_svg_names_itself_for_screen_readers(app):
    kpi = registry.get("signing_rate")
    data = [{"month": m, "values": {"signing_rate": 0.5}} for m in months_up_to(date(2026, 11, 1))]
    html = str(svg(trend_drawing(data, kpi, Setting(0.45, 0.35, 150)), "Signing rate by month"))
    assert html.startswith("<svg")
    assert 'role="img"' in html
    assert 'aria-label="Signing rate by month"' in html
    assert "<title>Signing rate by month</title>" in html
