from datetime import UTC, datetime, timedelta

import pytest

from usage.charts import compact, lines, nice_ceiling, stacked_bars, time_ticks

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
HOURS = [T0 + timedelta(hours=h) for h in range(4)]


def label(start):
    return f"{start:%H}:00"


@pytest.mark.parametrize(("value", "ceiling"), [
    (0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (42, 50), (120, 200), (0.3, 1)])
def test_axes_end_on_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0, "", "0"), (12.5, "%", "12.5%"), (250, " ms", "250 ms"), (1200, "", "1.2k"),
    (2_000_000, "", "2M")])
def test_axis_labels_are_compact(value, unit, text):
    assert compact(value, unit) == text


def test_bars_stack_by_series_and_skip_zeros():
    chart = stacked_bars("requests", "Requests", "4 periods", HOURS, "hour", [
        ("ok", "2xx", [5, 0, 2, 0]), ("bad", "5xx", [5, 1, 0, 0])], label)

    assert [(b.css, b.title) for b in chart.bars] == [
        ("ok", "00:00: 5 2xx"), ("bad", "00:00: 5 5xx"), ("bad", "01:00: 1 5xx"),
        ("ok", "02:00: 2 2xx")]
    first, second = chart.bars[:2]
    assert (first.height, second.height) == (100.0, 100.0)  # 5 of 10 each in a 200 px plot
    assert second.y + second.height == first.y  # 5xx sits on top of 2xx
    assert [t.label for t in chart.y_ticks] == ["0", "2.5", "5", "7.5", "10"]
    assert [item.label for item in chart.legend] == ["2xx", "5xx"]


def test_a_missing_value_breaks_the_line():
    chart = lines("errors", "Error rate", "", HOURS, "hour",
                  [("errors", "error rate", [10.0, None, 20.0, 30.0])], label, unit="%")

    [line] = chart.lines
    assert len(line.segments) == 1  # the lone first point makes no segment...
    assert [title for _, _, title in line.dots] == [  # ...but is drawn as a dot
        "00:00: error rate 10%", "02:00: error rate 20%", "03:00: error rate 30%"]


def test_time_axis_labels_every_four_hours_each_midnight_or_every_fifth_day():
    day = [T0 + timedelta(hours=h) for h in range(24)]
    week = [T0 + timedelta(hours=h) for h in range(24 * 7)]
    month = [T0 + timedelta(days=d) for d in range(30)]

    assert [t.label for t in time_ticks(day, "hour")] == [
        "00:00", "04:00", "08:00", "12:00", "16:00", "20:00"]
    assert [t.label for t in time_ticks(week, "hour")][:2] == ["Fri 20", "Sat 21"]
    assert [t.label for t in time_ticks(month, "day")] == [
        "24 Nov", "29 Nov", "4 Dec", "9 Dec", "14 Dec", "19 Dec"]
