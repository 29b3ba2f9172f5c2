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


def test_long_titles_wrap_so_a_half_width_chart_shows_them_whole():
    import plotly.graph_objects as go

    long = "Guessing hidden codes from 58 known ones: gap 0.025 (95% interval 0.002 to 0.045)"
    fig = report_charts.layout(go.Figure(), long)
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) == 2 and " ".join(lines) == long
    assert all(len(line) <= report_charts.TITLE_CHARS for line in lines)
    short = report_charts.layout(go.Figure(), "Runs")
    assert fig.layout.margin.t > short.layout.margin.t and fig.layout.height > short.layout.height
    assert report_charts.wrap("nospace" * 20) == "nospace" * 20  # one long word stays whole


def test_checkpoint_epochs_are_whole_numbers_named_by_the_sampled_phase():
    import pandas as pd

    from dashboard import charts

    q = pd.DataFrame({"t": [1.0, 1.0], "epoch": [20, 20], "name": ["frequency_r2", "mi_auroc"], "value": [0.3, 0.6]})
    fig = charts.quality(q, "epoch of training")
    assert fig.layout.xaxis3.title.text == "epoch of training"  # a VAE run is not labelled "GAN epoch"
    assert fig.layout.xaxis.tickformat == "d" and fig.layout.xaxis.dtick == 1  # one checkpoint: no 19.5 tick


def test_classifier_figures_carry_each_classifier_s_interval():
    from dashboard.eval_charts import classifier_table

    side = {"auroc": 0.9, "auroc_interval": [0.85, 0.95], "accuracy": 0.8, "accuracy_interval": [0.7, 0.9]}
    rep = {"utility": {"tstr_auroc_gap": {"details": {"models": {"random_forest": {"trtr": side, "tstr": dict(side, auroc=0.8, auroc_interval=[0.75, 0.85])}}}}}}
    table = classifier_table(rep)
    assert table.iloc[0]["AUROC, trained on synthetic (TSTR) [95% interval]"] == "0.800 [0.750, 0.850]"
    fig = report_charts.classifier(rep)
    assert list(fig.data[0].error_y.array) == [0.95 - 0.9] and list(fig.data[1].error_y.arrayminus) == [0.8 - 0.75]
