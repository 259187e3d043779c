"""The expression collector itself: comparison splitting, variables, metric names."""

import pytest

from tests.prometheus.queries import Query, left_of_comparison, substitute


@pytest.mark.parametrize(
    ("expr", "left"),
    [
        ('up{job=~"antrian-.*"} == 0', 'up{job=~"antrian-.*"}'),
        (
            "max by (branch) (qms_oldest_waiting_seconds) > 3600",
            "max by (branch) (qms_oldest_waiting_seconds)",
        ),
        (
            'histogram_quantile(0.9, sum by (le) (rate(x_bucket{a!="b"}[5m]))) >= 1.5',
            ('histogram_quantile(0.9, sum by (le) (rate(x_bucket{a!="b"}[5m])))'),
        ),
        ('qms_x{reason!~"a>b"}', 'qms_x{reason!~"a>b"}'),
        ("rate(qms_y[5m])", "rate(qms_y[5m])"),
    ],
)
def test_the_left_side_of_an_alert_comparison(expr: str, left: str) -> None:
    assert left_of_comparison(expr) == left


def test_variables_are_substituted_and_unknown_ones_refused() -> None:
    expr = 'sum(rate(a{branch="$branch", agency=~"${agency}"}[$__rate_interval])) + increase(b[$__range])'
    assert substitute(expr, {"branch": "b1", "agency": ".*"}) == (
        'sum(rate(a{branch="b1", agency=~".*"}[1m])) + increase(b[1h])'
    )
    with pytest.raises(KeyError, match="counter"):
        substitute('a{counter="$counter"}', {})


def test_metric_names_skip_labels_functions_and_grouping() -> None:
    query = Query("x", 'sum by (le, service) (rate(qms_wait_seconds_bucket{le="up"}[1m])) / up')
    assert query.metrics == {"qms_wait_seconds_bucket", "up"}
    assert Query("x", "sum(qms_outbox_backlog) + qms_consumer_lag").services == {"ticketing", "metrics"}
    assert Query("x", "qms_display_connections").services == {"display"}
    assert Query("x", 'up{job="a"} + process_cpu_seconds_total').services == set()
