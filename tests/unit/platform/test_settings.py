"""One settings rule everywhere: blank means the default, errors name the variable, secrets hidden."""

from __future__ import annotations

import pytest

from services.display.settings import Settings as DisplaySettings
from services.metrics.settings import Settings as MetricsSettings
from services.platform.settings import ServiceSettings, SettingsError
from services.ticketing.settings import Settings as TicketingSettings

ALL: tuple[type[ServiceSettings], ...] = (TicketingSettings, DisplaySettings, MetricsSettings)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_a_blank_value_means_the_default_in_every_service(cls: type[ServiceSettings], blank: str) -> None:
    names = [f.alias for f in cls.model_fields.values() if f.alias]
    assert cls.from_env(dict.fromkeys(names, blank)) == cls.from_env({})


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (TicketingSettings, "TICKETING_PORT"),
        (DisplaySettings, "DISPLAY_PORT"),
        (MetricsSettings, "METRICS_PORT"),
    ],
)
def test_a_malformed_port_names_its_variable(cls: type[ServiceSettings], name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: .*'http'"):
        cls.from_env({name: "http"})


def test_secrets_are_never_echoed() -> None:
    env = {"DATABASE_URL": "mysql://u:hunter2@db/x", "ANTRIAN_ADMIN_PASSWORD": "hunter3"}
    with pytest.raises(SettingsError) as info:
        MetricsSettings.from_env(env)
    assert "DATABASE_URL" in str(info.value)
    assert "hunter2" not in str(info.value)
    settings = TicketingSettings.from_env(env)
    assert "hunter2" not in repr(settings)
    assert "hunter3" not in repr(settings)


def test_several_bad_values_are_all_named() -> None:
    with pytest.raises(SettingsError) as info:
        DisplaySettings.from_env({"DISPLAY_PORT": "-1", "DISPLAY_DEFAULT_TIMEZONE": "Mars/Olympus"})
    assert "DISPLAY_PORT" in str(info.value)
    assert "DISPLAY_DEFAULT_TIMEZONE" in str(info.value)


def test_settings_are_frozen() -> None:
    settings = DisplaySettings.from_env({})
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]
