"""The settings base every service reads its environment with (pydantic-settings).

One rule for every variable: unset, empty or blank means the default. A
malformed value stops start-up with a :class:`SettingsError` whose message
names the variable; the value of a secret field (declared ``repr=False``) is
never echoed, neither in the error nor in ``repr``.

A service declares its fields with the environment variable as the alias::

    class Settings(ServiceSettings):
        port: int = Field(8080, alias="TICKETING_PORT", ge=0, le=65535)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _sql_identifier(value: str) -> str:
    if not _SCHEMA_RE.match(value):
        raise ValueError("must be a lower-case SQL identifier")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not a known time zone") from None
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def _postgres_dsn(value: str) -> str:
    if not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("must be a postgresql:// DSN")
    return value


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


Text = Annotated[str, BeforeValidator(_strip), Field(min_length=1)]
SqlIdentifier = Annotated[Text, AfterValidator(_sql_identifier)]
TimeZoneName = Annotated[Text, AfterValidator(_time_zone)]
HttpUrl = Annotated[Text, AfterValidator(_http_url)]
PostgresDsn = Annotated[Text, AfterValidator(_postgres_dsn)]
CommaList = Annotated[tuple[str, ...], BeforeValidator(_csv)]
LogFormat = Literal["json", "text"]


class ServiceSettings(BaseSettings):
    """Frozen settings read once from the environment (or a mapping in tests)."""

    model_config = SettingsConfigDict(
        frozen=True,
        populate_by_name=True,
        extra="ignore",
        case_sensitive=True,
        hide_input_in_errors=True,
    )

    log_format: LogFormat | None = Field(None, alias="ANTRIAN_LOG_FORMAT")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what :meth:`from_env` hands over: one place applies the empty-value rule."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read the settings from ``env`` (default: ``os.environ``); blank values mean the default."""
        env = os.environ if env is None else env
        names = {field.alias for field in cls.model_fields.values() if field.alias}
        given = {name: env[name] for name in names if name in env and env[name].strip()}
        try:
            return cls(**cast(dict[str, Any], given))
        except ValidationError as exc:
            raise SettingsError(cls._explain(exc, given)) from None

    @classmethod
    def _explain(cls, exc: ValidationError, given: Mapping[str, str]) -> str:
        secret = {f.alias for f in cls.model_fields.values() if f.alias and not f.repr}
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "settings"
            message = error["msg"].removeprefix("Value error, ")
            shown = "" if name in secret or name not in given else f", got {given[name]!r}"
            problems.append(f"{name}: {message}{shown}")
        return "; ".join(problems)
