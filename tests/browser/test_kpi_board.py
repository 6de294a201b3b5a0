"""The town's KPI board in a real browser, in Chinese: the administrator opens it from the
menu, sees a card per KPI and the trend charts, and follows a figure to the residents behind
it, giving the reason the audit log keeps."""

import re

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from app.kpis import registry

pytestmark = [pytest.mark.browser, pytest.mark.own_app]


def test_admin_opens_the_board_and_the_residents_behind_a_figure(page, screenshot):
    page.goto("/login")
    page.get_by_label("用户名或手机号").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    chinese = page.get_by_role("button", name="中文")  # other tests may leave it in English
    if chinese.count():
        chinese.click()

    page.locator('header nav a[href="/kpis"]').click()
    expect(page).to_have_url(re.compile(r"/kpis$"))
    cards = page.locator(".kpi-card")
    expect(cards).to_have_count(len(registry.all_kpis()))
    signing = page.locator('.kpi-card[data-kpi="signing_rate"]')
    expect(signing.get_by_role("heading", name="签约率")).to_be_visible()
    expect(signing.locator(".kpi-badge")).to_have_text(re.compile("达标|接近|未达标"))
    expect(signing).to_contain_text(re.compile(r"\d+\.\d%.*\d+ / \d+", re.S))
    chart = page.locator('svg[role="img"]').first
    expect(chart).to_be_visible()
    assert "签约率" in chart.get_attribute("aria-label")
    screenshot("kpi-board-admin")

    signing.locator("a.kpi-drill").click()
    reason = page.locator('input[name="reason"]')
    expect(reason).to_be_focused()
    reason.fill("季度考核核对")
    reason.press("Enter")
    expect(page).to_have_url(re.compile(r"/kpis/signing_rate/residents\?.*reason="))
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.get_by_role("link", name="张桂英")).to_be_visible()
    screenshot("kpi-drilldown-admin")
