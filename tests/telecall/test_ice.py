"""The ICE servers each peer is given: what ICE_SERVERS lists, passed through as it is; TURN
with time-limited credentials in coturn's REST-API form (use-auth-secret) when TURN_URLS
and TURN_SECRET are set; and nothing at all by default."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.telecall.test_call_api import join, token_of, under_way

STUN = {"urls": "stun:stun.gaohang.example:3478"}
TURN_STATIC = {"urls": ["turn:turn.gaohang.example:3478"], "username": "u", "credential": "p"}


def test_configured_ice_servers_pass_through(client, booked, app, monkeypatch):
    monkeypatch.setitem(app.config, "ICE_SERVERS", json.dumps([STUN, TURN_STATIC]))
    visit = under_way(booked())
    assert join(client, token_of(visit))["ice_servers"] == [STUN, TURN_STATIC]


@pytest.mark.parametrize("setting", ["[]", "", None])
def test_none_by_default(client, booked, app, monkeypatch, setting):
    monkeypatch.setitem(app.config, "ICE_SERVERS", setting)
    monkeypatch.setitem(app.config, "TURN_URLS", "turn:turn.gaohang.example:3478")
    monkeypatch.setitem(app.config, "TURN_SECRET", None)  # TURN needs its secret too
    visit = under_way(booked())
    assert join(client, token_of(visit))["ice_servers"] == []


def test_turn_gets_coturn_rest_credentials_that_expire(client, booked, app, monkeypatch):
    secret, ttl = "coturn-static-auth-secret", 3600
    urls = ["turn:turn.gaohang.example:3478?transport=udp", "turns:turn.gaohang.example:5349"]
    monkeypatch.setitem(app.config, "ICE_SERVERS", json.dumps([STUN]))
    monkeypatch.setitem(app.config, "TURN_URLS", " , ".join(urls))
    monkeypatch.setitem(app.config, "TURN_SECRET", secret)
    monkeypatch.setitem(app.config, "TURN_TTL_SECONDS", ttl)
    visit = under_way(booked())
    before = int(time.time())
    body = join(client, token_of(visit))
    after = int(time.time())
    stun, turn = body["ice_servers"]
    assert stun == STUN
    assert turn["urls"] == urls
    expiry, _, key = turn["username"].partition(":")
    assert before + ttl <= int(expiry) <= after + ttl
    assert key.endswith(str(body["participant"]["id"]))  # each participant their own name
    # what coturn computes from its static-auth-secret to check the password
    expected = hmac.new(secret.encode(), turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()


def test_each_participant_gets_their_own_turn_username(client, booked, app, monkeypatch):
    monkeypatch.setitem(app.config, "TURN_URLS", "turn:turn.gaohang.example:3478")
    monkeypatch.setitem(app.config, "TURN_SECRET", "s")
    visit = under_way(booked())
    from tests.telecall.test_call_api import DOCTOR

    resident = join(client, token_of(visit))["ice_servers"][0]["username"]
    doctor = join(client, token_of(visit, DOCTOR))["ice_servers"][0]["username"]
    assert resident.split(":", 1)[1] != doctor.split(":", 1)[1]
