"""Every user action on a contract from every state: allowed ones move, the others are
refused with the current state."""

from datetime import date, timedelta

import pytest

from app.contracts import services
from app.contracts.models import ConsentMethod, Contract, ContractStatus, ServicePackage
from app.contracts.services import TRANSITIONS, WrongState
from app.extensions import db
from app.timeutil import local_today

ACTIONS = ("accept", "reject", "cancel", "consent", "terminate")


@pytest.fixture
def setting(make_team, make_resident):
    team = make_team()
    return {
        "team": team,
        "resident": make_resident(
            neighbourhood=team.neighbourhoods[0], birth_date=date(1950, 1, 1)
        ),
    }


def contract_in(state, setting):
    today = local_today()
    contract = Contract(
        resident=setting["resident"],
        team=setting["team"],
        package=ServicePackage.BASIC,
        status=state,
        start_date=today,
        end_date=today + timedelta(days=365),
        requested_by_id=setting["team"].lead.id,
    )
    if state in (ContractStatus.ACTIVE, ContractStatus.EXPIRING):
        contract.active_from, contract.active_until = today, today + timedelta(days=365)
    db.session.add(contract)
    db.session.flush()
    return contract


def act(action, contract, doctor, app):
    if action == "accept":
        return services.accept(doctor, contract)
    if action == "reject":
        return services.reject(doctor, contract, "不符合条件")
    if action == "cancel":
        return services.cancel(doctor, contract)
    if action == "consent":
        version = app.config["CONSENT_TEXT_VERSION"]
        return services.record_consent(doctor, contract, ConsentMethod.IN_PERSON, version)
    return services.terminate(doctor, contract, "迁出")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", list(ContractStatus), ids=lambda s: s.value)
def test_action_from_state(state, action, setting, app):
    contract = contract_in(state, setting)
    allowed_from, to = TRANSITIONS[action]
    if state in allowed_from:
        act(action, contract, setting["team"].lead, app)
        assert contract.status == to
    else:
        with pytest.raises(WrongState) as refused:
            act(action, contract, setting["team"].lead, app)
        assert refused.value.extra["current"] == state.value
        assert contract.status == state
