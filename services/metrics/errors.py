"""The metrics service's exception tree.

::

    MetricsError
     ├── InvalidEventData     an event whose envelope is valid but whose data cannot be folded
     ├── BrokerUnavailable    Kafka could not be reached at start-up
     └── StoreError           PostgreSQL refused or is unreachable
          └── UnstorableData  PostgreSQL refused a value of the data (never worth retrying)

Settings errors are the platform's :class:`SettingsError` (re-exported here).
"""

from services.platform.settings import SettingsError

__all__ = [
    "BrokerUnavailable",
    "InvalidEventData",
    "MetricsError",
    "SettingsError",
    "StoreError",
    "UnstorableData",
]


class MetricsError(Exception):
    """Root of every error the metrics service raises on purpose."""


class InvalidEventData(MetricsError):
    """An event whose ``data`` lacks or mistypes a field the metrics need."""


class BrokerUnavailable(MetricsError):
    """Kafka could not be reached when the service started."""


class StoreError(MetricsError):
    """The metrics store (PostgreSQL) could not do what was asked."""


class UnstorableData(StoreError):
    """PostgreSQL refused a value that came from an event; retrying would fail again."""
