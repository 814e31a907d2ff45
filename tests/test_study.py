"""The study workflow (cmrseg study) on synthetic multi-series DICOM studies, and on a real cine.

The synthetic images are noise, not hearts, so the model is replaced by :class:`DiscPredictor`
(a beating phantom heart on every image) and the T1 pipeline by :func:`fake_process_series`
(phantom labels with known T1): these tests check the chain, statuses and files, not accuracy.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from cmrseg.cli import main
from cmrseg.function import cine_function
from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.series import discover_series
from cmrseg.mapping.fits import MappingResult
from cmrseg.mapping.maps import SeriesMaps
from cmrseg.models.shipped import resolve_model_path
from cmrseg.predict import Predictor
from cmrseg.series_segmentation import SeriesSegmentation
from cmrseg.workflows import study as workflow
from cmrseg.workflows.study import run_study
from cmrseg.workflows.study_results import CSV_COLUMNS, STATUSES
from cmrseg.workflows.t1_pipeline import PhaseResult
from tests.conftest import data_path
from tests.dicom_writer import add_study_context, write_molli_series, write_study

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
PARAMETRIC_MAP_STORAGE = "1.2.840.10008.5.1.4.1.1.30"
HCT = 0.42
T1_MS = {False: (1000.0, 1600.0), True: (450.0, 300.0)}  # post-contrast? -> (myocardium, blood)


def heart(shape: tuple[int, int], lv_radius: float) -> np.ndarray:
    """uint8 labels: LV disc of ``lv_radius`` px, a 4 px myocardial ring, an RV crescent to its left."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    cy, cx = shape[0] / 2, shape[1] / 2
    r = np.hypot(yy - cy, xx - cx)
    labels = np.zeros(shape, np.uint8)
    labels[(np.hypot(yy - cy, xx - (cx - lv_radius - 4)) < lv_radius + 3) & (r >= lv_radius + 4)] = 1
    labels[(r < lv_radius + 4) & (r >= lv_radius)] = 2
    labels[r < lv_radius] = 3
    return labels


class DiscPredictor:
    """Stands in for the model: :func:`heart` on every image, the LV radius following the frame."""

    device = "cpu"

    def predict_array(self, array: np.ndarray) -> np.ndarray:
        vol = workflow._frames(np.asarray(array))
        n = vol.shape[3]
        radii = 5 + 3 * np.cos(2 * np.pi * np.arange(n) / max(n, 1))  # ED at frame 0
        frames = [np.repeat(heart(vol.shape[:2], r)[:, :, None], vol.shape[2], 2) for r in radii]
        return np.stack(frames, axis=3).reshape(np.shape(array))

    def predict_probabilities(self, slices: np.ndarray) -> np.ndarray:
        labels = np.stack([heart(s.shape, 8) for s in slices])
        return np.stack([np.where(labels == c, 0.97, 0.01) for c in range(4)], axis=1)


def fake_process_series(series, options) -> PhaseResult:  # noqa: ANN001
    """Stands in for the T1 pipeline: :func:`heart` labels, T1 from :data:`T1_MS` by description."""
    post = "post" in series.image.metadata["series_description"].lower()
    x, y, z, n = series.image.shape
    labels = np.repeat(heart((x, y), 7)[:, :, None], z, axis=2)
    myo, blood = T1_MS[post]
    t1 = np.choose(labels, [np.nan, blood, myo, blood]).astype(np.float32)
    ones = np.ones((x, y, z), np.float32)
    result = MappingResult(t1, ones, ones, np.full_like(ones, 0.99), np.zeros((x, y, z), np.uint8), quantity="T1")
    maps = SeriesMaps(result, series)
    seg = SeriesSegmentation(
        np.repeat(labels[..., None], n, axis=3), labels, np.zeros(z, int), np.zeros((z, n)), np.ones((z, n))
    )
    return PhaseResult(series, seg, series.image.array, labels, maps, np.full(z, blood))


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """write_study's series (its MOLLI is post-contrast) plus a pre-contrast MOLLI on the same slice."""
    folder = tmp_path_factory.mktemp("study") / "export"
    write_study(folder)
    write_molli_series(folder / "S029", 29, "MOLLI 5(3)3 pre")
    add_study_context(folder)
    return folder


@pytest.fixture(scope="module")
def done(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "result"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workflow, "process_series", fake_process_series)
        result = run_study(study, out, hct=HCT, predictor=DiscPredictor())
    return result, out


def _by_kind(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for s in doc["series"]:
        out.setdefault(s["kind"], []).append(s)
    return out


def test_every_series_listed_with_status_and_reason(study, done):
    result, out = done
    doc = json.loads((out / "results.json").read_text())
    assert [s["uid"] for s in doc["series"]] == [s.uid for s in discover_series(study)]
    assert all(s["status"] in STATUSES and s["reason"] for s in doc["series"])
    kinds = _by_kind(doc)
    for kind in ("sax_cine", "lge", "t1_map", "t2_weighted", "molli"):
        assert all(s["status"] == "complete" for s in kinds[kind]), kinds[kind]
    assert {s["status"] for k in ("lax_cine", "localiser", "other") for s in kinds[k]} == {"skipped"}
    assert "README.txt" in kinds["other"][0]["reason"]  # the file that is not DICOM is named
    assert doc["status"] == result.status == "complete" and doc["reason"] == ""
    assert len(kinds["molli"]) == 2 and result.series[0].line().split()[:3] == ["1", "localiser", "skipped"]


def test_function_values_and_qc_flags(study, done):
    result, out = done
    cine = next(s for s in result.series if s.kind == "sax_cine")
    with pytest.warns(UserWarning, match="skipped as not DICOM images: README.txt"):  # the study's stray file
        image = read_dicom_folder(study, series=cine.uid)
    fn = cine_function(DiscPredictor().predict_array(image.array), image.spacing)
    assert cine.values["lv_ef_percent"] == pytest.approx(fn.lv_ef_percent)
    assert cine.values["lv_edv_ml"] == pytest.approx(fn.lv_edv_ml) and cine.values["ed_frame"] == 0
    flags = json.loads((out / "results.json").read_text())["series"]
    cine_flags = next(s for s in flags if s["kind"] == "sax_cine")["qc_flags"]
    assert not cine_flags["lv_coverage"]["flagged"] and not cine_flags["uncertainty"]["flagged"]
    assert cine_flags["lv_edv_ml"]["flagged"] and "outside" in cine_flags["lv_edv_ml"]["reason"]  # a 32 px heart
    assert "lv_edv_ml" in cine.line() and "LV EF" in cine.line()


def test_csv_provenance_done_and_page(study, done):
    result, out = done
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(result.series)
    cine = next(r for r in rows if r["kind"] == "sax_cine")
    assert float(cine["lv_ef_percent"]) > 0 and cine["qc_lv_edv_ml"] == "True" and "lv_edv_ml" in cine["qc_flags"]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["cmrseg"] and prov["python"] and set(prov["packages"]) >= {"torch", "monai", "numpy", "pydicom"}
    weights = {m["role"]: m for m in prov["models"]}
    assert weights["segmentation"]["sha256"] == hashlib.sha256(resolve_model_path("default").read_bytes()).hexdigest()
    assert prov["parameters"]["hct"] == HCT and prov["parameters"]["model"] == "default"
    assert [s["uid"] for s in prov["input_series"]] == [s.uid for s in discover_series(study)]
    assert prov["started"] <= prov["finished"] and prov["device"] == "cpu"
    assert (out / "DONE").read_text().split()[-1] == "complete"
    assert not list(out.parent.glob(".tmp-*")), "the temporary folder is renamed, not left behind"
    page = (out / "index.html").read_text()
    assert "Failed, partial and skipped series" in page and "sax_cine, complete" in page
    assert all((out / f).is_file() for s in result.series for f in s.figures)


def test_dicom_seg_and_maps_read_back(study, done):
    result, out = done
    assert result.dicom_files and all(p.is_file() for p in result.dicom_files)
    for s in result.series:
        segs = [out / f for f in s.outputs if f.endswith(".dcm") and "_seg/" in f]
        if s.status == "skipped":
            assert not s.outputs
            continue
        assert segs, f"{s.kind} has a DICOM-SEG"
        ds = _read(segs[0])
        assert ds.SOPClassUID == SEG_STORAGE and ds.Modality == "SEG"
        assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == s.uid
    cine = next(s for s in result.series if s.kind == "sax_cine")
    assert len([f for f in cine.outputs if "_seg/" in f]) == 12  # one instance per phase
    pre = next(s for s in result.series if s.kind == "molli" and s.values["contrast"].startswith("pre"))
    ecv_file = out / next(f for f in pre.outputs if f.endswith("_ecv.dcm"))
    ecv = _read(ecv_file)
    assert ecv.SOPClassUID == PARAMETRIC_MAP_STORAGE
    expected = 100 * (1 - HCT) * (1 / 450 - 1 / 1000) / (1 / 300 - 1 / 1600)
    assert pre.values["ecv_percent"] == pytest.approx(expected, rel=1e-3)
    assert pre.values["myo_t1_ms"] == pytest.approx(1000.0)
    plane = ecv.pixel_array.reshape(-1, ecv.Rows, ecv.Columns)[0].T  # (X, Y), as the arrays
    np.testing.assert_allclose(plane[heart(plane.shape, 7) == 2], expected, rtol=1e-3)  # the myocardium
    assert any(f.endswith("_t1.dcm") for f in pre.outputs)


def test_rerun_refused_without_overwrite(study, done, capsys):
    _, out = done
    before = (out / "DONE").stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="--overwrite"):
        run_study(study, out, predictor=DiscPredictor())
    assert main(["study", str(study), "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert (out / "DONE").stat().st_mtime_ns == before


def test_failing_series_recorded_while_others_complete(tmp_path):
    folder = tmp_path / "export"
    write_study(folder)
    shutil.rmtree(folder / "S030")
    write_molli_series(folder / "S030", 30, "MOLLI 5(3)3 post", times=False)  # a MOLLI without times
    add_study_context(folder)
    result = run_study(folder, tmp_path / "out", predictor=DiscPredictor())
    molli = next(s for s in result.series if s.kind == "molli")
    assert molli.status == "failed" and "InversionTime" in molli.reason
    others = [s for s in result.series if s.status != "skipped" and s is not molli]
    assert others and all(s.status == "complete" for s in others)
    assert result.status == "partial" and result.reason == f"1 of {len(others) + 1} series failed"
    assert "failed" in (tmp_path / "out" / "results.csv").read_text()


def test_hct_without_post_contrast_molli_is_partial(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    write_molli_series(folder / "S029", 29, "MOLLI pre")
    add_study_context(folder)
    monkeypatch.setattr(workflow, "process_series", fake_process_series)
    result = run_study(folder, tmp_path / "out", hct=HCT, predictor=DiscPredictor())
    assert [s.status for s in result.series] == ["complete"]
    assert result.status == "partial" and "no post-contrast MOLLI" in result.reason
    assert "ecv_percent" not in result.series[0].values
    again = run_study(folder, tmp_path / "out", predictor=DiscPredictor(), overwrite=True)  # replaced, no hct
    assert again.status == "complete" and (tmp_path / "out" / "DONE").read_text().split()[-1] == "complete"


def test_cli_prints_a_line_per_series_and_the_paths(study, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(workflow, "Predictor", lambda model: DiscPredictor())
    monkeypatch.setattr(workflow, "process_series", fake_process_series)
    out = tmp_path / "out"
    assert main(["study", str(study), "-o", str(out), "--hct", "0.42"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum("sax_cine" in line and "complete" in line and "LV EF" in line for line in lines) == 1
    assert sum("skipped" in line for line in lines) == 3
    assert str(out / "results.json") in lines and lines[-1] == "study complete"


def test_cli_exit_2_when_nothing_could_be_processed(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.txt").write_text("no images\n")
    assert main(["study", str(empty), "-o", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no DICOM images" in err and not (tmp_path / "a").exists()
    folder = tmp_path / "export"
    write_molli_series(folder / "S030", 30, "MOLLI post", times=False)  # its only series fails
    assert main(["study", str(folder), "-o", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "nothing could be processed: every series failed" in err and len(err.strip().splitlines()) == 1
    doc = json.loads((tmp_path / "b" / "results.json").read_text())  # kept: it says why
    assert doc["status"] == "failed" and "InversionTime" in doc["series"][0]["reason"]


@pytest.mark.slow
def test_sunnybrook_cine_ef_matches_cine_function(tmp_path):
    folder = data_path("sunnybrook") / "dicoms" / "SCD0000101"
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    predictor = Predictor()
    with pytest.warns(UserWarning, match="the 240 source images carry 240 FrameOfReferenceUIDs"):  # anonymised
        result = run_study(folder, tmp_path / "out", predictor=predictor)
    cines = [s for s in result.series if s.kind == "sax_cine"]
    assert len(cines) == 1 and cines[0].status == "complete", cines[0].reason
    labels = predictor.predict_image(read_dicom_folder(folder, series=cines[0].uid))
    expected = cine_function(labels.array, labels.spacing).lv_ef_percent
    assert cines[0].values["lv_ef_percent"] == pytest.approx(expected, rel=0.01)
    assert len([f for f in cines[0].outputs if "_seg/" in f]) == labels.shape[3]


def test_short_axis_exported_one_series_per_slice_is_one_cine(tmp_path):
    """Six single-slice cine series: segmented as one stack (function from all six), a DICOM-SEG per
    slice series referencing its own images, the other five listed as slices of the first."""
    folder = tmp_path / "export"
    expected = write_study(folder, sax_per_slice=True)
    add_study_context(folder)
    result = run_study(folder, tmp_path / "out", predictor=DiscPredictor())
    cines = [s for s in result.series if s.kind == "sax_cine"]
    assert len(cines) == 6 and [s.status for s in cines].count("complete") == 1
    first = next(s for s in cines if s.status == "complete")
    assert all(
        s.status == "skipped" and s.reason == f"a slice of the short-axis stack processed as series {first.number}"
        for s in cines
        if s is not first
    )
    stack = next(s for s in discover_series(folder) if s.uid == first.uid).stack
    assert set(stack) == {expected[f"sax_cine_{z}"][0] for z in range(6)}
    with pytest.warns(UserWarning, match="README"):
        image = read_dicom_folder(folder, series=stack)
    fn = cine_function(DiscPredictor().predict_array(image.array), image.spacing)
    assert image.shape == (32, 32, 6, 12) and first.values["lv_edv_ml"] == pytest.approx(fn.lv_edv_ml)
    segs = sorted(f for f in first.outputs if "_seg/" in f)
    assert len(segs) == 6 * 12  # a SEG series per slice series, an instance per phase
    for z, uid in enumerate(stack):
        ds = _read(tmp_path / "out" / next(f for f in segs if f"/slice_{z:02d}/seg_005" in f))
        assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == uid and ds.NumberOfFrames == 3  # 3 classes
