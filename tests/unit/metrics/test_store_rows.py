"""The rows one statement writes per table: one per stored label set, whatever the batch held."""

from services.metrics.batch import HistogramDelta
from services.metrics.store import _histogram_rows, _total_rows

SORTED = (("branch", "bjb"), ("service", "ktp"))
UNSORTED = (("service", "ktp"), ("branch", "bjb"))  # the same labels once stored as JSON


def test_label_sets_that_store_alike_make_one_total_row() -> None:
    rows = _total_rows(
        {("qms_x_total", SORTED): 2.0, ("qms_x_total", UNSORTED): 3.0, ("qms_a_total", SORTED): 1.0}
    )
    assert rows == [
        ("qms_a_total", '{"branch": "bjb", "service": "ktp"}', 1.0),
        ("qms_x_total", '{"branch": "bjb", "service": "ktp"}', 5.0),
    ]


def test_histogram_rows_are_merged_and_carry_an_array_literal() -> None:
    rows = _histogram_rows(
        {
            ("qms_wait_seconds", SORTED): HistogramDelta([1, 0, 2], 70.0, 3),
            ("qms_wait_seconds", UNSORTED): HistogramDelta([0, 1, 0], 45.0, 1),
        }
    )
    assert rows == [("qms_wait_seconds", '{"branch": "bjb", "service": "ktp"}', "{1,1,2}", 115.0, 4)]
