import numpy as np
import pytest

from cmrseg.image import Image, LabelMap
from cmrseg.report.html import ReportParts, write_report
from cmrseg.report.plots import bullseye_figure
from tests.conftest import heart_phantom


def test_report_page_lists_every_slice_and_the_function_table(tmp_path):
    img, lab = heart_phantom((64, 64))
    image = Image(np.repeat(img[:, :, None], 3, 2), (1.5, 1.5, 8.0))
    labels = LabelMap(np.repeat(lab[:, :, None], 3, 2), (1.5, 1.5, 8.0))
    metrics = [
        {"label": lab, "level": "basal", "dice": d, "hd_mm": 3.0, "msd_mm": 1.0}
        for lab in ("LV", "MYO")
        for d in (0.9, 0.8)
    ]
    parts = ReportParts(
        function={"lv_ef_percent": 55.0, "ed_frame": 0, "es_frame": 3},
        volume_curves={"LV": np.array([120.0, 100.0, 70.0, 55.0, 90.0])},
        metrics=metrics,
        segments=[{"segment": s, "median": 1000.0 + s, "q1": 990.0, "q3": 1010.0, "n": 5} for s in range(1, 17)],
        warnings=("RV EDV is 9% of LV EDV",),
    )
    page = write_report(image, labels, tmp_path, parts=parts)
    text = page.read_text()
    assert text.count('<img src="slice') == 3 and "lv_ef_percent" in text and "55.0" in text
    for name in ("slice00.png", "slice02.png", "bullseye.png", "violin_metrics.png", "volumes.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert "1016" in text  # the segment table beside the bullseye
    assert "<li>RV EDV is 9% of LV EDV</li>" in text


def test_overlays_are_cropped_to_the_heart_and_titled_with_the_level():
    from cmrseg.report.html import _heart_box

    lab = np.zeros((200, 200, 3), np.uint8)
    lab[90:110, 80:100, :] = 3
    rows, cols = _heart_box(lab)
    assert rows.stop - rows.start == 64 and cols.stop - cols.start == 64  # the 64 px minimum around 20 px
    assert rows.start <= 90 and rows.stop >= 110 and cols.start <= 80 and cols.stop >= 100
    assert _heart_box(np.zeros((50, 50, 2), np.uint8)) == (slice(None), slice(None))


def test_bullseye_has_sixteen_labelled_segments():
    fig = bullseye_figure({s: float(s) for s in range(1, 17)})
    texts = [t.get_text().split("\n")[0] for t in fig.axes[0].texts]
    assert sorted(int(t) for t in texts) == list(range(1, 17))


def test_bullseye_puts_segment_one_on_top_and_numbers_counter_clockwise():
    fig = bullseye_figure({s: float(s) for s in range(1, 17)})
    centre = {int(t.get_text().split("\n")[0]): np.degrees(t.get_position()[0]) % 360 for t in fig.axes[0].texts}
    assert centre[1] == 90 and centre[2] == 150 and centre[4] == 270 and centre[6] == 30
    assert centre[7] == 90 and centre[13] == 90 and centre[14] == 180 and centre[16] == 0
    bars = [p for p in fig.axes[0].patches if p.get_width() > 0]
    first = bars[0]  # segment 1's wedge: centred on its label
    assert np.degrees(first.get_x() + first.get_width() / 2) == pytest.approx(90)


def test_agreement_table_and_bland_altman_plots_are_shown(tmp_path):
    from cmrseg.report.figures import save_figure
    from cmrseg.report.plots import bland_altman_figure

    png = tmp_path / "ev" / "bland_altman_LV.png"
    png.parent.mkdir()
    save_figure(bland_altman_figure(np.array([1.0, 2.0, 3.0]), np.array([1.1, 2.0, 2.8]), "mean", "diff"), png)
    img, lab = heart_phantom((64, 64))
    parts = ReportParts(
        metrics=[{"label": "LV", "level": "mid", "dice": 0.9, "hd_mm": 2.0, "msd_mm": 0.5}],
        agreement=[{"label": "LV", "icc_2_1": 0.987, "bias": -0.03}],
        bland_altman=(png,),
    )
    page = write_report(Image(img, (1.0, 1.0)), LabelMap(lab, (1.0, 1.0)), tmp_path / "rep", parts=parts).read_text()
    assert "ICC(2,1)" in page and "0.987" in page and 'src="bland_altman_LV.png"' in page
    assert (tmp_path / "rep" / "bland_altman_LV.png").read_bytes()[:4] == b"\x89PNG"


def test_cine_report_shows_the_ed_and_es_frames(tmp_path):
    img, lab = heart_phantom((64, 64))
    cine_img = np.repeat(np.repeat(img[:, :, None, None], 2, 2), 4, 3)
    cine_lab = np.repeat(np.repeat(lab[:, :, None, None], 2, 2), 4, 3)
    page = write_report(
        Image(cine_img, (1.5, 1.5, 8.0)),
        LabelMap(cine_lab, (1.5, 1.5, 8.0)),
        tmp_path,
        frames={"ED": 0, "ES": 2},
    ).read_text()
    assert "<h2>Slices: ED (frame 0)</h2>" in page and "<h2>Slices: ES (frame 2)</h2>" in page
    assert page.count('<img src="slice') == 4 and (tmp_path / "slice01_1.png").exists()
