"""Chart details a reader trips over: whole-number distance bins, full trace names on hover."""
from corgan_core import report_charts


def _dcr(edges, counts):
    return {"privacy": {"dcr_share_closer_to_train": {"value": 0.5, "interval": [0.4, 0.6], "details": {
        "metric": "hamming", "histogram": {"edges": edges, "train": counts, "holdout": counts}}}}}


def test_whole_number_distances_are_labelled_as_whole_numbers():
    fig = report_charts.dcr(_dcr([0, 1, 2, 3, 5, None], [1, 2, 3, 4, 5]))
    assert list(fig.data[0].x) == ["0", "1", "2", "3-4", "5+"]
    assert list(report_charts.dcr(_dcr([0, 1, float("inf")], [4, 5])).data[0].x) == ["0", "1+"]
    fractional = report_charts.dcr(_dcr([0.0, 0.5, 1.0, None], [1, 2, 3]))
    assert list(fractional.data[0].x) == ["0-0.5", "0.5-1", "1+"]


def test_hover_shows_whole_trace_names_and_the_legend_clears_the_axis_title():
    fig = report_charts.dcr(_dcr([0, 1, None], [1, 2]))
    assert fig.layout.hoverlabel.namelength == -1
    assert fig.layout.legend.y < -0.3
