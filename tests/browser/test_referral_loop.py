"""The whole referral loop in a real browser, in Chinese: the family doctor refers 张桂英 up to
the Seventh People's Hospital's cardiology with a reserved slot, the specialist accepts her and
sends her back with a discharge summary and a care plan, the team takes her back and the doctor
closes the loop; she sees her appointment."""

import re

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.own_app]

RESIDENT = "张桂英"  # demo resident 1: signed, with the Seventh People's Hospital as district
HOSPITAL = "上海市第七人民医院"


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    # The language sticks to the account, and other tests switch some to English.
    chinese = page.get_by_role("button", name="中文")
    if chinese.count():
        chinese.click()
        expect(page.get_by_role("button", name="English")).to_be_visible()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def status_is(page, text: str) -> None:
    expect(page.locator("#status")).to_contain_text(text)


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


def test_refer_up_accept_return_and_close_the_loop(page, new_page, screenshot):
    # The family doctor opens 张桂英's record and refers her to cardiology.
    sign_in(page, "dr.wang")
    page.get_by_role("navigation").get_by_role("link", name="居民", exact=True).click()
    page.get_by_role("link", name=RESIDENT).first.click()
    page.get_by_role("link", name="转诊到医院").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"为 {RESIDENT} 转诊到医院")
    department = page.get_by_label("医院科室")
    expect(department.locator("optgroup").first).to_have_attribute(
        "label", f"{HOSPITAL} · 与居民签约"
    )
    department.select_option(label=f"心内科 · {HOSPITAL} (已签约)")
    page.get_by_role("radio", name="紧急").check()
    page.get_by_label("转诊原因").fill("血压控制不佳，反复胸闷一周")
    page.get_by_label("病情摘要").fill(
        "高血压 10 年。近两周家庭自测血压 170/100 mmHg 左右，活动后胸闷。"
    )
    page.get_by_label("目前用药").fill("氨氯地平 5mg 每日一次")
    screenshot("referral-new-zh")
    page.get_by_role("button", name="保存草拟").click()
    expect(page.get_by_role("status").filter(has_text="草稿已保存")).to_be_visible()
    status_is(page, "草稿，未发送")

    # Send it with the first free reserved slot.
    slots = page.locator("fieldset#slot_id").get_by_role("radio")
    expect(slots.nth(1)).to_be_checked()  # the first reserved slot, not "no appointment"
    booked = page.locator("fieldset#slot_id label").nth(1).inner_text().split("·")[0].strip()
    assert "转诊预留" in page.locator("fieldset#slot_id label").nth(1).inner_text()
    screenshot("referral-draft-send-zh")
    page.get_by_role("button", name="发送给科室").click()
    expect(page.get_by_role("status").filter(has_text="转诊已发送给心内科")).to_be_visible()
    status_is(page, "已发送，等待医院处理")
    when = booked.split("–")[0]  # "yyyy-MM-dd (周x) HH:mm"
    expect(page.locator("#appointment")).to_contain_text(when)
    page.get_by_role("button", name="退出登录").click()

    # The cardiology specialist finds it in the inbox, accepts it and records the admission.
    specialist = new_page()
    sign_in(specialist, "sp.liu")
    specialist.get_by_role("navigation").get_by_role("link", name="转诊收件箱").click()
    expect(specialist.get_by_role("heading", level=1)).to_have_text("转诊收件箱")
    row = specialist.locator("tr", has_text=RESIDENT).first
    expect(row).to_contain_text("紧急")
    shot(specialist, "referral-inbox-zh")
    row.get_by_role("link", name=RESIDENT).click()
    expect(specialist.locator("#appointment")).to_contain_text(when)
    shot(specialist, "referral-specialist-decides-zh")
    specialist.get_by_role("button", name="接收转诊").click()
    expect(specialist.get_by_role("status").filter(has_text="已接收")).to_be_visible()
    status_is(specialist, "已接收，已预约")
    specialist.get_by_role("button", name="登记入院").click()
    status_is(specialist, "已入院")

    # ... and sends her back with a discharge summary and a care plan.
    specialist.get_by_role("link", name="下转回社区").click()
    expect(specialist.get_by_role("heading", level=1)).to_have_text(f"将 {RESIDENT} 下转回社区")
    expect(specialist.locator("#follow_ups-0-action")).to_have_value("14天内随访")
    specialist.get_by_label("出院小结").fill(
        "冠脉 CTA 未见明显狭窄，动态血压提示控制不佳，调整降压方案后血压 135/85 mmHg。"
    )
    specialist.get_by_label("诊断", exact=True).fill("高血压 3 级（很高危）")
    specialist.get_by_label("用药调整").fill("加用缬沙坦 80mg 每日一次；氨氯地平不变。")
    specialist.get_by_label("慢病长处方").check()
    specialist.get_by_label("给社区团队的照护计划").fill(
        "家庭医生 2 周内随访血压；每日早晚家庭自测血压并记录；低盐饮食。"
    )
    shot(specialist, "referral-return-form-zh")
    specialist.get_by_role("button", name="下转给社区团队").click()
    status_is(specialist, "已下转回社区")
    expect(specialist.locator("#the-return").locator("..")).to_contain_text("缬沙坦")

    # The doctor sees the return waiting, takes her back and closes the loop.
    sign_in(page, "dr.wang")
    page.get_by_role("navigation").get_by_role("link", name="转诊").click()
    row = page.locator("tr", has_text=RESIDENT).first
    expect(row).to_contain_text("等待家庭医生团队处理")
    shot(page, "referral-team-list-zh")
    row.get_by_role("link", name=RESIDENT).click()
    expect(page.get_by_text("家庭医生 2 周内随访血压")).to_be_visible()
    page.get_by_role("button", name="接收居民回社区").click()
    status_is(page, "社区团队已接收")
    page.get_by_role("button", name="已阅读下转信息：确认闭环").click()
    expect(page.get_by_role("status").filter(has_text="已闭环")).to_be_visible()
    status_is(page, "已闭环")
    expect(page.locator("#next-step")).to_contain_text("已闭环")
    history = page.locator("section", has=page.locator("#history"))
    for state in ("已发送，等待医院处理", "已入院", "已下转回社区", "已闭环"):
        expect(history).to_contain_text(state)
    screenshot("referral-loop-closed-zh")

    # 张桂英 sees where and when her appointment was.
    resident = new_page()
    sign_in(resident, "zhang.guiying")
    resident.get_by_role("link", name="我的医院转诊和预约").click()
    card = resident.locator("section", has_text=f"{HOSPITAL} · 心内科").first
    expect(card).to_contain_text(when)
    expect(card).to_contain_text("已闭环")
    shot(resident, "referral-resident-zh")
