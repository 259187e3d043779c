"""Kafka sign-in settings: plaintext by default, SASL options when asked, credentials required."""

from __future__ import annotations

import pytest

from services.display.settings import Settings as DisplaySettings
from services.metrics.settings import Settings as MetricsSettings
from services.platform.settings import SettingsError
from services.ticketing.settings import Settings as TicketingSettings

SERVICES = (TicketingSettings, DisplaySettings, MetricsSettings)
SASL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "antrian-ticketing",
    "KAFKA_SASL_PASSWORD": "s3cret-value",
}


@pytest.mark.parametrize("settings", SERVICES)
def test_plaintext_by_default(settings: type[TicketingSettings]) -> None:
    assert settings.from_env({}).kafka_options() == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("settings", SERVICES)
def test_sasl_options_reach_every_client_and_the_password_is_never_printed(
    settings: type[TicketingSettings],
) -> None:
    loaded = settings.from_env(SASL)
    assert loaded.kafka_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "antrian-ticketing",
        "sasl_plain_password": "s3cret-value",
    }
    assert "s3cret-value" not in repr(loaded)


@pytest.mark.parametrize("settings", SERVICES)
def test_sasl_without_credentials_stops_start_up_naming_them(settings: type[TicketingSettings]) -> None:
    with pytest.raises(SettingsError, match="KAFKA_SASL_USERNAME"):
        settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})


def test_an_unknown_protocol_is_named() -> None:
    with pytest.raises(SettingsError, match="KAFKA_SECURITY_PROTOCOL"):
        TicketingSettings.from_env({"KAFKA_SECURITY_PROTOCOL": "CARRIER_PIGEON"})
