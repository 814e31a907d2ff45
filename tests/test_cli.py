"""The CLI's bad-input errors: one line on stderr, exit status 2, nothing written."""

import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from cmrseg.cli import main
from tests.conftest import EXAMPLES
from tests.dicom_writer import write_series


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


def _assert_one_line_error(code, err, pattern):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert pattern in lines[0], lines[0]


def _nifti(path, array):
    nib.save(nib.Nifti1Image(array, np.eye(4)), str(path))
    return path


def test_missing_input(tmp_path, capsys):
    _assert_one_line_error(
        *_run(capsys, "predict", tmp_path / "nope.nii.gz", "-o", tmp_path / "o.nii.gz"), "no such file"
    )
    assert not (tmp_path / "o.nii.gz").exists()


def test_not_an_image(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    _assert_one_line_error(*_run(capsys, "predict", bad, "-o", tmp_path / "o.nii.gz"), "not a NIfTI")
    corrupt = tmp_path / "corrupt.nii.gz"
    corrupt.write_bytes(b"garbage")
    _assert_one_line_error(*_run(capsys, "predict", corrupt, "-o", tmp_path / "o.nii.gz"), "cannot read")


def test_dicom_folder_with_several_series(tmp_path, capsys, rng):
    write_series(tmp_path / "d" / "a", rng.integers(0, 9, (8, 8, 2)), series_uid="1.2.3.1")
    write_series(tmp_path / "d" / "b", rng.integers(0, 9, (8, 8, 2)), series_uid="1.2.3.2")
    _assert_one_line_error(*_run(capsys, "predict", tmp_path / "d", "-o", tmp_path / "o.nii.gz"), "--series")


@pytest.mark.parametrize(
    "array, msg",
    [
        (np.full((20, 20, 2), 5.0, np.float32), "constant"),
        (np.where(np.eye(20)[..., None] > 0, np.nan, 1.0).astype(np.float32), "NaN"),
        (np.arange(800, dtype=np.float32).reshape(4, 100, 2), "too small"),
    ],
)
def test_bad_image_content(tmp_path, capsys, array, msg):
    path = _nifti(tmp_path / "x.nii.gz", array)
    _assert_one_line_error(*_run(capsys, "predict", path, "-o", tmp_path / "o.nii.gz"), msg)
    assert not (tmp_path / "o.nii.gz").exists()
    assert not list(tmp_path.glob(".tmp-*"))


def test_existing_output_needs_overwrite(tmp_path, capsys):
    out = tmp_path / "o.nii.gz"
    out.write_text("keep me")
    _assert_one_line_error(*_run(capsys, "predict", EXAMPLES / "mnms2_001_SA_ED.nii.gz", "-o", out), "--overwrite")
    assert out.read_text() == "keep me"


def test_evaluate_unknown_labels_and_shape(tmp_path, capsys):
    ref = _nifti(tmp_path / "ref.nii.gz", np.zeros((8, 8, 2), np.uint8))
    pred = _nifti(tmp_path / "pred.nii.gz", np.full((8, 8, 2), 7, np.uint8))
    _assert_one_line_error(*_run(capsys, "evaluate", pred, ref, "-o", tmp_path / "ev"), "label values [7]")
    other = _nifti(tmp_path / "other.nii.gz", np.zeros((8, 9, 2), np.uint8))
    _assert_one_line_error(*_run(capsys, "evaluate", other, ref, "-o", tmp_path / "ev"), "shape")
    assert not (tmp_path / "ev" / "metrics.csv").exists()


def test_evaluate_writes_metrics(tmp_path, capsys):
    ref = EXAMPLES / "mnms2_001_SA_ED_gt.nii.gz"
    assert main(["evaluate", str(ref), str(ref), "-o", str(tmp_path)]) == 0
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("case,slice,level,label,reference,compared,dice,iou,hd_mm,msd_mm")
    assert all(line.split(",")[6] == "1.0" for line in lines[1:])
    assert {line.split(",")[2] for line in lines[1:]} >= {"all", "basal", "mid", "apical"}


def test_augment_preview_writes_png(tmp_path):
    out = tmp_path / "grid.png"
    assert (
        main(
            [
                "augment-preview",
                str(EXAMPLES / "mnms2_001_SA_ED.nii.gz"),
                "--label",
                str(EXAMPLES / "mnms2_001_SA_ED_gt.nii.gz"),
                "-o",
                str(out),
                "-n",
                "4",
            ]
        )
        == 0
    )
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_console_script_help_lists_commands_without_importing_torch():
    res = subprocess.run([sys.executable, "-m", "cmrseg.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "predict" in res.stdout and "evaluate" in res.stdout
    probe = "import sys, cmrseg.cli; cmrseg.cli.build_parser(); print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "False"


def test_function_refuses_unknown_spacing_and_accepts_override(tmp_path, capsys):
    import json

    from cmrseg.image import LabelMap
    from cmrseg.io.nifti import write_labels

    lab = np.zeros((32, 32, 4), np.uint8)
    lab[8:24, 8:24] = 2
    lab[12:20, 12:20] = 3
    es = lab.copy()
    es[12:20, 12:14] = 2
    for name, arr in (("ed", lab), ("es", es)):
        write_labels(LabelMap(arr, (1.0, 1.0, 1.0), metadata={"spacing_known": False}), tmp_path / f"{name}.nii.gz")
    code, err = _run(capsys, "function", "--ed", tmp_path / "ed.nii.gz", "--es", tmp_path / "es.nii.gz")
    _assert_one_line_error(code, err, "no voxel spacing")
    out = tmp_path / "f.json"
    assert (
        main(
            [
                "function",
                "--ed",
                str(tmp_path / "ed.nii.gz"),
                "--es",
                str(tmp_path / "es.nii.gz"),
                "--spacing",
                "1.5,1.5,8",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["lv_edv_ml"] == pytest.approx(64 * 4 * 1.5 * 1.5 * 8 / 1000)
    assert [r["lv_area_ed_mm2"] for r in doc["slices"]] == pytest.approx([64 * 1.5 * 1.5] * 4)
    assert doc["lv_ef_percent"] == pytest.approx(25.0)
    assert set(doc) >= {
        "lv_edv_ml",
        "lv_esv_ml",
        "lv_sv_ml",
        "lv_ef_percent",
        "lv_mass_g",
        "rv_edv_ml",
        "rv_esv_ml",
        "rv_ef_percent",
    }


def test_contours_export_json_and_csv(tmp_path):
    import json

    ref = EXAMPLES / "mnms2_001_SA_ED_gt.nii.gz"
    assert main(["contours", str(ref), "-o", str(tmp_path / "c.json")]) == 0
    doc = json.loads((tmp_path / "c.json").read_text())
    mid = doc["5"]
    assert len(mid["endo"]["ij"]) == 200 and len(mid["epi"]["mm"][0]) == 3
    assert main(["contours", str(ref), "-o", str(tmp_path / "c.csv")]) == 0
    assert (tmp_path / "c.csv").read_text().startswith("slice,contour,point,i,j,x_mm,y_mm,z_mm")
    assert main(["contours", str(ref), "-o", str(tmp_path / "c.txt")]) == 2


def test_report_with_metrics_and_map(tmp_path):
    from cmrseg.image import Image, LabelMap
    from cmrseg.io.nifti import write_image, write_labels
    from tests.conftest import heart_phantom

    img, lab = heart_phantom((64, 64))
    stack_lab = np.repeat(lab[:, :, None], 4, 2)
    write_image(Image(np.repeat(img[:, :, None], 4, 2), (1.5, 1.5, 8.0)), tmp_path / "img.nii.gz")
    write_labels(LabelMap(stack_lab, (1.5, 1.5, 8.0)), tmp_path / "lab.nii.gz")
    t1 = np.where(stack_lab == 2, 1000.0, 0.0).astype(np.float32)
    write_image(Image(t1, (1.5, 1.5, 8.0)), tmp_path / "t1.nii.gz")
    assert (
        main(["evaluate", str(tmp_path / "lab.nii.gz"), str(tmp_path / "lab.nii.gz"), "-o", str(tmp_path / "ev")]) == 0
    )
    assert (
        main(
            [
                "report",
                str(tmp_path / "img.nii.gz"),
                "--labels",
                str(tmp_path / "lab.nii.gz"),
                "--metrics",
                str(tmp_path / "ev" / "metrics.csv"),
                "--map",
                str(tmp_path / "t1.nii.gz"),
                "-o",
                str(tmp_path / "rep"),
            ]
        )
        == 0
    )
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "bullseye.png" in page and "violin_metrics.png" in page and "hd_floor_mm" in page
    assert "Summary per label and slice level" in page  # evaluate's summary.csv beside metrics.csv
    assert (tmp_path / "rep" / "bullseye.png").exists()
    from cmrseg.io.tables import read_rows

    segments = read_rows(tmp_path / "rep" / "segments.csv")
    assert [r["segment"] for r in segments] == list(range(1, 17)) and all(r["median"] == 1000.0 for r in segments)
    assert [r["slice"] for r in read_rows(tmp_path / "rep" / "slices.csv")] == [0, 1, 2, 3]


def _guided_inputs(tmp_path):
    from tests.conftest import heart_phantom

    image, labels = heart_phantom()
    img = _nifti(tmp_path / "img.nii.gz", np.stack([image] * 2, 2))
    guide = _nifti(tmp_path / "guide.nii.gz", np.stack([labels] * 2, 2).astype(np.uint8))
    return img, guide, labels


def test_guided_predict_bad_input(tmp_path, capsys):
    img, guide, labels = _guided_inputs(tmp_path)
    out = tmp_path / "o.nii.gz"
    _assert_one_line_error(*_run(capsys, "predict", img, "-o", out, "--alpha", "0.3"), "give --guide")
    _assert_one_line_error(*_run(capsys, "predict", img, "-o", out, "--guide", guide, "--alpha", "1.5"), "alpha")
    other = _nifti(tmp_path / "other.nii.gz", np.stack([labels[:-2]] * 2, 2).astype(np.uint8))
    _assert_one_line_error(*_run(capsys, "predict", img, "-o", out, "--guide", other), "share one grid")
    empty = _nifti(tmp_path / "empty.nii.gz", np.zeros(labels.shape + (2,), np.uint8))
    _assert_one_line_error(*_run(capsys, "predict", img, "-o", out, "--guide", empty), "empty")
    code, err = _run(capsys, "predict", img, "-o", out, "--guide", guide, "--model", "default")
    _assert_one_line_error(code, err, "not a guided model")
    _assert_one_line_error(*_run(capsys, "predict", guide, "-o", out, "--invert", "on"), "looks like a label map")
    assert not out.exists()


def _series(tmp_path, name, shape, times):
    import json

    path = _nifti(tmp_path / f"{name}.nii.gz", np.random.default_rng(0).random(shape).astype(np.float32) + 1)
    if times is not None:
        (tmp_path / f"{name}.json").write_text(json.dumps({"InversionTime": times}))
    return path


def test_t1_pipeline_bad_input(tmp_path, capsys):
    ti = [100, 180, 260, 900, 1000, 1700, 1800, 2500]
    pre = _series(tmp_path, "pre", (32, 32, 2, 8), ti)
    post = _series(tmp_path, "post", (32, 32, 3, 8), ti)
    out = tmp_path / "out"
    _assert_one_line_error(*_run(capsys, "t1-pipeline", pre, post, "-o", out), "--hct")
    _assert_one_line_error(*_run(capsys, "t1-pipeline", pre, post, "--hct", "42", "-o", out), "haematocrit")
    _assert_one_line_error(*_run(capsys, "t1-pipeline", pre, post, "--hct", "0.4", "-o", out), "same slices")
    notimes = _series(tmp_path, "notimes", (32, 32, 2, 8), None)
    _assert_one_line_error(*_run(capsys, "t1-pipeline", notimes, "-o", out), "InversionTime")
    _assert_one_line_error(*_run(capsys, "t1-pipeline", pre, "--aha-rotation", "nan", "-o", out), "AHA rotation")
    for bad in ("0.5", "-0.1", "half"):
        _assert_one_line_error(*_run(capsys, "t1-pipeline", pre, "--midwall", bad, "-o", out), "--midwall")
    assert not out.exists() and not list(tmp_path.glob(".tmp-*"))


def test_segment_series_and_pseudo_label_bad_input(tmp_path, capsys):
    series = _series(tmp_path, "s", (32, 32, 8), None)
    out = tmp_path / "lab.nii.gz"
    _assert_one_line_error(*_run(capsys, "segment-series", series, "-o", out, "--alpha", "-0.1"), "alpha")
    other = _nifti(tmp_path / "g.nii.gz", np.ones((30, 32), np.uint8) * 2)
    _assert_one_line_error(*_run(capsys, "segment-series", series, "-o", out, "--guide", other), "share one grid")
    code, err = _run(capsys, "segment-series", series, "-o", out, "--guide-model", "nope")
    _assert_one_line_error(code, err, "no model named 'nope'")
    assert not out.exists()
    code, err = _run(capsys, "pseudo-label", tmp_path, "-o", tmp_path / "p", "--tolerance", "150")
    _assert_one_line_error(code, err, "(0, 100)")


def test_evaluate_without_spacing_refuses_mm_and_takes_spacing(tmp_path, capsys):
    from cmrseg.io.tables import read_rows

    ref = np.zeros((64, 64, 3), np.uint8)
    ref[20:40, 20:40] = 2
    ref[25:35, 25:35] = 3
    pred = ref.copy()
    pred[36:40, 20:40] = 0  # myocardium short by 4 rows
    for name, arr in (("ref", ref), ("pred", pred)):
        nib.save(nib.Nifti1Image(arr, None), str(tmp_path / f"{name}.nii.gz"))  # no spacing recorded
    code, err = _run(capsys, "evaluate", tmp_path / "pred.nii.gz", tmp_path / "ref.nii.gz", "-o", tmp_path / "a")
    assert code == 0 and "no voxel spacing" in err
    rows = read_rows(tmp_path / "a" / "metrics.csv")
    myo = [r for r in rows if r["label"] == "MYO" and r["slice"] == "all"][0]
    assert myo["dice"] == pytest.approx(2 * 220 / (220 + 300)) and np.isnan(myo["hd_mm"])
    assert "no voxel spacing" in myo["note"]
    args = ("evaluate", tmp_path / "pred.nii.gz", tmp_path / "ref.nii.gz", "--spacing", "1.5,1.5,8")
    assert _run(capsys, *args, "-o", tmp_path / "b")[0] == 0
    myo = [r for r in read_rows(tmp_path / "b" / "metrics.csv") if r["label"] == "MYO" and r["slice"] == "all"][0]
    assert myo["hd_mm"] == pytest.approx(4 * 1.5)  # 4 rows of 1.5 mm
    _assert_one_line_error(*_run(capsys, *args[:3], "--spacing", "1.5,0,8", "-o", tmp_path / "c"), "--spacing")
    assert not (tmp_path / "c").exists()


def test_evaluate_writes_a_report_with_outlines_and_agreement(tmp_path, capsys):
    from tests.conftest import heart_phantom

    image, labels = heart_phantom((64, 64))
    for k in range(3):  # three cases: volume agreement and Bland-Altman plots too
        lab = np.repeat(labels[:, :, None], 3, 2).astype(np.uint8)
        pred = np.roll(lab, k, axis=0)
        for folder, arr in (("ref", lab), ("pred", pred), ("img", np.repeat(image[:, :, None], 3, 2))):
            (tmp_path / folder).mkdir(exist_ok=True)
            nib.save(nib.Nifti1Image(arr, np.diag([1.5, 1.5, 8.0, 1.0])), str(tmp_path / folder / f"c{k}.nii.gz"))
    args = ["evaluate", tmp_path / "pred", tmp_path / "ref", "--images", tmp_path / "img"]
    assert _run(capsys, *args, "-o", tmp_path / "ev")[0] == 0
    page = (tmp_path / "ev" / "index.html").read_text()
    assert (
        page.count('<img src="case') == 3 and "ICC(2,1)" in page and 'src="bland_altman_LV_model_vs_ref1.png"' in page
    )
    assert "violin_metrics.png" in page and (tmp_path / "ev" / "case000.png").read_bytes()[:4] == b"\x89PNG"
    # an image on another grid is refused before anything is written
    nib.save(nib.Nifti1Image(np.zeros((32, 32, 3)), np.eye(4)), str(tmp_path / "img" / "c1.nii.gz"))
    _assert_one_line_error(*_run(capsys, *args, "-o", tmp_path / "ev2"), "differ in shape")
    assert not (tmp_path / "ev2").exists()
    assert _run(capsys, *args[:3], "--no-report", "-o", tmp_path / "ev3")[0] == 0
    assert (tmp_path / "ev3" / "metrics.csv").exists() and not (tmp_path / "ev3" / "index.html").exists()


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_contours_round_trip_to_mask(tmp_path, capsys, suffix):
    import json

    from cmrseg.io.nifti import read_labels
    from cmrseg.metrics import dice
    from tests.conftest import heart_phantom

    image, labels = heart_phantom((96, 96))
    lab = np.repeat(labels[:, :, None], 3, 2).astype(np.uint8)
    affine = np.diag([1.5, 1.5, 8.0, 1.0])
    nib.save(nib.Nifti1Image(lab, affine), str(tmp_path / "lab.nii.gz"))
    nib.save(nib.Nifti1Image(np.repeat(image[:, :, None], 3, 2), affine), str(tmp_path / "img.nii.gz"))
    contours = tmp_path / f"c.{suffix}"
    assert _run(capsys, "contours", tmp_path / "lab.nii.gz", "-o", contours)[0] == 0
    out = tmp_path / "mask.nii.gz"
    assert _run(capsys, "contours-to-mask", contours, "--like", tmp_path / "img.nii.gz", "-o", out)[0] == 0
    back = read_labels(out)
    assert np.allclose(back.affine, affine) and back.shape == lab.shape
    # smooth spline contours reproduce the masks up to boundary pixels (measured 0.948 / 0.974)
    assert dice(back.array == 2, lab == 2) > 0.93 and dice(back.array == 3, lab == 3) > 0.96
    assert dice(back.array > 0, np.isin(lab, (2, 3))) > 0.97
    if suffix == "json":  # a contour outside the image is refused, nothing written
        doc = json.loads(contours.read_text())
        doc["0"]["epi"]["ij"][0] = [500.0, 3.0]
        contours.write_text(json.dumps(doc))
        code, err = _run(
            capsys, "contours-to-mask", contours, "--like", tmp_path / "img.nii.gz", "-o", tmp_path / "x.nii.gz"
        )
        _assert_one_line_error(code, err, "outside")
        assert not (tmp_path / "x.nii.gz").exists()
