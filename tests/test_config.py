import pytest

from app import create_app
from config import ConfigError, ProductionConfig


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setattr(ProductionConfig, "FIELD_ENCRYPTION_KEY", "k" * 44)
    monkeypatch.setattr(ProductionConfig, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_to_start_without_field_encryption_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "s" * 32)
    monkeypatch.setattr(ProductionConfig, "FIELD_ENCRYPTION_KEY", None)
    monkeypatch.setattr(ProductionConfig, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    with pytest.raises(ConfigError, match="FIELD_ENCRYPTION_KEY"):
        create_app("production")


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "s" * 32)
    monkeypatch.setattr(ProductionConfig, "FIELD_ENCRYPTION_KEY", "k" * 44)
    monkeypatch.setattr(ProductionConfig, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_config_name_is_refused():
    with pytest.raises(ConfigError, match="KANGYANG_CONFIG"):
        create_app("staging")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[{", "not valid JSON"),
        ('{"urls": "stun:x"}', "JSON list"),
        ('[{"url": "x"}]', "JSON list"),
    ],
)
def test_ice_servers_that_would_break_every_call_are_refused_at_start(monkeypatch, value, reason):
    from config import TestingConfig

    monkeypatch.setattr(TestingConfig, "ICE_SERVERS", value)
    with pytest.raises(ConfigError, match=reason):
        create_app("testing")
