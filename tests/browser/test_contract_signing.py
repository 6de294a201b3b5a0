"""A resident without a contract asks to sign, the family doctor accepts on the worklist, the
resident agrees and sees the contract in force: three sign-ins, in Chinese, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.own_app]

RESIDENT = "wang.deming"  # 王德明, demo resident with an account and no contract
TEAM = "王建国家庭医生团队"


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def new_page(browser, live_server):
    """Another person's browser: a context of its own, so no cookies are shared."""
    contexts = []

    def _open():
        context = browser.new_context(base_url=live_server, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield _open
    for context in contexts:
        context.close()


def test_resident_requests_doctor_accepts_resident_agrees(page, new_page, screenshot):
    # The resident asks to sign, from their home page.
    sign_in(page, RESIDENT)
    page.get_by_role("link", name="我的家庭医生签约").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的家庭医生签约")
    expect(page.get_by_role("radio", name=re.compile(TEAM))).to_be_checked()
    expect(page.get_by_role("radio", name="65 岁及以上老年人服务包")).to_be_checked()
    screenshot("contract-request-form-zh")
    page.get_by_role("button", name="申请签约").click()
    expect(page.get_by_role("status").filter(has_text="申请已提交")).to_be_visible()
    expect(page.locator("#in-making")).to_contain_text("已申请")
    page.get_by_role("button", name="退出登录").click()

    # The family doctor finds it on the worklist and accepts it.
    doctor = new_page()
    sign_in(doctor, "dr.wang")
    doctor.get_by_role("link", name="签约待办").first.click()
    expect(doctor.get_by_role("heading", level=1)).to_have_text("签约待办")
    shot(doctor, "contract-worklist-zh")
    doctor.locator("#to-review").locator("..").get_by_role("link", name="王德明").click()
    doctor.get_by_role("button", name="接受申请").click()
    expect(doctor.locator("dl.facts").first).to_contain_text("待本人确认")
    shot(doctor, "contract-accepted-doctor-zh")

    # The resident signs in again, reads the agreement and agrees.
    sign_in(page, RESIDENT)
    page.get_by_role("link", name="我的家庭医生签约").click()
    expect(page.get_by_role("heading", name="家庭医生签约服务协议")).to_be_visible()
    page.get_by_role("button", name="我同意").click()
    expect(page.get_by_role("status").filter(has_text="签约已生效")).to_be_visible()
    in_force = page.locator("section", has=page.locator("#in-force"))
    expect(in_force).to_contain_text("服务中")
    expect(in_force).to_contain_text(TEAM)
    expect(in_force.locator('a[href="tel:13900000001"]')).to_be_visible()  # the doctor
    expect(in_force.locator('a[href="tel:021-58620000"]')).to_be_visible()  # the centre
    expect(page.get_by_role("button", name="申请签约")).to_have_count(0)
    screenshot("contract-in-force-zh")
