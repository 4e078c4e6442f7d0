"""The shared figure helpers: what a reader sees on the axes."""
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pretrainlab.plotting import finish_log_axes


@pytest.mark.parametrize("span, expected", [((1.2, 2.6), {"1.4", "2", "2.6"}), ((1.5, 30.0), {"2", "5", "10", "20"})])
def test_finish_log_axes_reads_plain_numbers(span, expected):
    """An error-rate axis is labelled 2, 5, 10 (not 2×10⁰); a narrow one (a factor of ~2) still gets labels."""
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([1, 2], span, label="curve")
    finish_log_axes(ax, xlabel="epoch", ylabel="error (%)")
    fig.canvas.draw()
    labels = {t.get_text() for t in ax.yaxis.get_ticklabels() + ax.yaxis.get_ticklabels(minor=True)} - {""}
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "error (%)" and ax.get_legend() is not None
    assert expected <= labels, labels
    assert not any("10^" in s or "times" in s for s in labels), labels
