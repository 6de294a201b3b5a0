"""call_parts.js on its own, in headless Chromium: the Server-Sent-Events reader over fetch()
(events split anywhere across network chunks, comments, ids, CRLF), the DTLS fingerprint of
an SDP, and the quality sample computed from two readings of a connection's statistics."""

from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _browser_missing_reason
from tests.conftest import IN_CI

SCRIPT = Path(__file__).resolve().parents[2] / "telecall" / "static" / "call_parts.js"
pytestmark = [pytest.mark.browser, pytest.mark.own_app]


@pytest.fixture(scope="module")
def browser():
    """A browser of this module's own: Playwright's sync API keeps an event loop running in
    this thread while it is open, which later tests' asyncio.run() would trip over."""
    reason = _browser_missing_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(f"browser tests cannot run here: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def parts(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><title>parts</title>")
    page.add_script_tag(path=str(SCRIPT))
    yield page
    context.close()


READ = """async (chunks) => {
    const encoder = new TextEncoder();
    const body = new ReadableStream({
        start(controller) {
            for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
            controller.close();
        },
    });
    const ids = [], events = [];
    await window.kangyangCallParts.readEvents(body, (id) => ids.push(id), (data) => events.push(data));
    return {ids, events};
}"""


def test_the_event_reader_joins_events_split_anywhere_and_skips_comments(parts):
    stream = (
        "retry: 2000\n: 41\n\n"
        'id: 42\ndata: {"kind":"joined"}\n\n'
        ": keep-alive\n\n"
        'id: 43\r\ndata: {"kind":\r\ndata: "offer"}\r\n\r\n'
        "id: 44\ndata:no-space\n\n"
        "id: 45\n\n"  # an id alone moves the cursor, dispatches nothing
        'data: {"unfinished": true}\n'  # the stream ended mid-event: never dispatched
    )
    for size in (len(stream), 1, 3, 7):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        found = parts.evaluate(READ, chunks)
        assert found["events"] == ['{"kind":"joined"}', '{"kind":\n"offer"}', "no-space"], size
        assert found["ids"] == ["42", "43", "44", "45"], size


def test_the_fingerprint_names_the_certificate_of_an_sdp(parts):
    sdp = "v=0\r\na=group:BUNDLE 0\r\na=fingerprint:sha-256 AB:CD:EF\r\na=setup:actpass\r\n"
    assert parts.evaluate("(s) => window.kangyangCallParts.fingerprint(s)", sdp) == (
        "sha-256 AB:CD:EF"
    )
    assert parts.evaluate("() => window.kangyangCallParts.fingerprint('v=0')") is None


def test_a_quality_sample_is_the_loss_and_bitrate_between_two_readings(parts):
    first = {"lost": 10, "received": 990, "bytes": 1_000_000, "at": 0, "rtt": 42.5}
    second = {"lost": 30, "received": 1970, "bytes": 1_625_000, "at": 10_000, "rtt": 40}
    sample = "([a, b]) => window.kangyangCallParts.sample(a, b)"
    assert parts.evaluate(sample, [None, first]) == {
        "rtt_ms": 42.5,
        "loss_percent": None,
        "bitrate_kbps": None,
    }
    got = parts.evaluate(sample, [first, second])
    assert got["rtt_ms"] == 40
    assert got["loss_percent"] == pytest.approx(2.0)  # 20 lost of 1000 in between
    assert got["bitrate_kbps"] == pytest.approx(500.0)  # 625 kB in 10 s
    silent = {**second, "at": 20_000, "rtt": None}
    assert parts.evaluate(sample, [second, silent]) == {
        "rtt_ms": None,
        "loss_percent": None,
        "bitrate_kbps": 0,
    }
