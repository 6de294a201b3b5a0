"""A doctor and a resident sign in, see their home pages, in Chinese and in English."""

import re

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.own_app]


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def switch_to_english(page):
    page.get_by_role("button", name="English").click()


def test_doctor_home_in_chinese_then_english_and_it_sticks(page, screenshot):
    sign_in(page, "dr.wang")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.get_by_text("王建国家庭医生团队")).to_be_visible()
    screenshot("doctor-home-zh")
    switch_to_english(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Workbench")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workbench")
    screenshot("doctor-home-en")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_resident_home_in_chinese_and_english(page, screenshot):
    sign_in(page, "zhang.guiying")
    expect(page.get_by_role("heading", level=1)).to_have_text("张桂英，您好")
    expect(page.get_by_text("我的家庭医生团队")).to_be_visible()
    # the national ID is shown masked only
    expect(page.get_by_text(re.compile(r"^3101\*{10}\d{3}[\dX]$"))).to_be_visible()
    screenshot("resident-home-zh")
    switch_to_english(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, 张桂英")
    expect(page.get_by_text("My family-doctor team")).to_be_visible()


def test_large_text_mode_makes_text_and_buttons_bigger(page, screenshot):
    # Preferences stick to the account, so this test uses an account no other test switches.
    sign_in(page, "li.ming")
    body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="大字模式").click()
    expect(page.get_by_role("button", name="标准字号")).to_be_visible()  # the page came back
    expect(page.locator("html")).to_have_class("large-text")
    # the new page's stylesheet may still be loading when its button is visible
    page.wait_for_load_state("load")
    large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size < 18 <= large / 1.333  # at least 18 pt (24 px) in the large-text mode
    button = page.get_by_role("button", name="退出登录").bounding_box()
    assert button["height"] >= 60
    assert button["width"] >= 60
    screenshot("caregiver-home-large-text")
