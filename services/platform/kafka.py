"""How every service's Kafka clients authenticate: one set of settings, one set of client options.

In production only ticketing's relay may write ``queue.events`` (Kafka ACLs,
docs/deploy.md): each service then signs in with its own SCRAM user through
``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_MECHANISM``, ``KAFKA_SASL_USERNAME``
and ``KAFKA_SASL_PASSWORD``. Left unset, clients connect in plaintext as before.
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import Field, model_validator

from services.platform.settings import ServiceSettings

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(ServiceSettings):
    """The Kafka connection of a service (a base for its settings)."""

    kafka_security_protocol: Protocol = Field("PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: Mechanism = Field("SCRAM-SHA-512", alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: str | None = Field(None, alias="KAFKA_SASL_PASSWORD", repr=False)

    @model_validator(mode="after")
    def _credentials_with_sasl(self) -> KafkaSettings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are needed with a SASL protocol")
        return self

    def kafka_options(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client of this service (besides the bootstrap servers)."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol.endswith("SSL"):
            options["ssl_context"] = ssl.create_default_context()
        if self.kafka_security_protocol.startswith("SASL_"):
            options |= {
                "sasl_mechanism": self.kafka_sasl_mechanism,
                "sasl_plain_username": self.kafka_sasl_username,
                "sasl_plain_password": self.kafka_sasl_password,
            }
        return options
