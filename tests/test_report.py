import numpy as np

from cmrseg.image import Image, LabelMap
from cmrseg.report.html import write_report
from cmrseg.report.plots import bullseye_figure
from tests.conftest import heart_phantom


def test_report_page_lists_every_slice_and_the_function_table(tmp_path):
    img, lab = heart_phantom((64, 64))
    image = Image(np.repeat(img[:, :, None], 3, 2), (1.5, 1.5, 8.0))
    labels = LabelMap(np.repeat(lab[:, :, None], 3, 2), (1.5, 1.5, 8.0))
    page = write_report(
        image,
        labels,
        tmp_path,
        function={"lv_ef_percent": 55.0},
        metrics=[{"level": "basal", "dice": 0.9}, {"level": "basal", "dice": 0.8}],
        segment_values={s: 1000.0 + s for s in range(1, 17)},
    )
    text = page.read_text()
    assert text.count('<img src="slice') == 3 and "lv_ef_percent" in text and "55.0" in text
    for name in ("slice00.png", "slice02.png", "bullseye.png", "violin_dice.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_bullseye_has_sixteen_labelled_segments():
    fig = bullseye_figure({s: float(s) for s in range(1, 17)})
    texts = [t.get_text().split("\n")[0] for t in fig.axes[0].texts]
    assert sorted(int(t) for t in texts) == list(range(1, 17))
