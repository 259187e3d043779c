"""The metrics service's exception tree.

::

    MetricsError
     ├── SettingsError        a missing or malformed environment variable
     ├── InvalidEventData     an event whose envelope is valid but whose data cannot be folded
     ├── BrokerUnavailable    Kafka could not be reached at start-up
     └── StoreError           PostgreSQL refused or is unreachable
          └── UnstorableData  PostgreSQL refused a value of the data (never worth retrying)
"""


class MetricsError(Exception):
    """Root of every error the metrics service raises on purpose."""


class SettingsError(MetricsError):
    """A missing or malformed environment variable; the message names it."""


class InvalidEventData(MetricsError):
    """An event whose ``data`` lacks or mistypes a field the metrics need."""


class BrokerUnavailable(MetricsError):
    """Kafka could not be reached when the service started."""


class StoreError(MetricsError):
    """The metrics store (PostgreSQL) could not do what was asked."""


class UnstorableData(StoreError):
    """PostgreSQL refused a value that came from an event; retrying would fail again."""
