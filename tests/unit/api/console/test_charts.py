"""Server-side SVG bar charts: heights proportional to values, stacked in order."""

from __future__ import annotations

from lumagate.api.console.charts import HEIGHT, Column, bar_chart


def test_stacks_are_proportional_and_sit_on_the_axis() -> None:
    chart = bar_chart(
        [Column("a", (3, 1), "a"), Column("b", (0, 0), "b"), Column("c", (8, 2), "c")],
        ("ok", "fail"),
    )
    assert not chart.empty
    a, b, c = chart.columns
    assert b.rects == ()
    ok_c, fail_c = c.rects
    assert ok_c.css == "ok" and fail_c.css == "fail"
    assert abs(ok_c.height / fail_c.height - 4) < 0.05
    assert abs(ok_c.y + ok_c.height - chart.plot_bottom) < 0.2  # first value on the axis
    assert abs(fail_c.y + fail_c.height - ok_c.y) < 0.2  # second stacked on the first
    assert abs(sum(r.height for r in a.rects) * 10 / 4 - sum(r.height for r in c.rects)) < 0.5
    assert [t[1] for t in chart.ticks] == ["0", "3", "6", "9", "12"]  # whole, round steps


def test_an_empty_chart_says_so_and_divides_by_nothing() -> None:
    chart = bar_chart([Column("x", (0,), "x")] * 3, ("ok",))
    assert chart.empty and chart.height == HEIGHT
    assert all(col.rects == () for col in chart.columns)


def test_the_axis_top_is_four_whole_round_steps() -> None:
    for peak, top in (
        (0, 4),
        (1, 4),
        (4, 4),
        (5, 8),
        (10, 12),
        (100, 100),
        (101, 120),
        (450, 480),
        (2001, 2400),
    ):
        chart = bar_chart([Column("x", (peak,), "")], ("ok",))
        assert chart.ticks[-1][1] == str(top), peak


def test_labels_can_be_thinned() -> None:
    chart = bar_chart([Column(str(i), (i,), "") for i in range(24)], ("ok",), label_every=3)
    assert [c.label for c in chart.columns if c.show_label] == [str(i) for i in range(0, 24, 3)]
