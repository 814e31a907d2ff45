"""Series discovery and classification of a DICOM study folder (issue 13, item 1)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cmrseg.cli import main
from cmrseg.io.dicom import read_dicom_folder
from cmrseg.io.series import KINDS, discover_series
from cmrseg.keywords import keywords
from tests.conftest import data_path
from tests.dicom_writer import retag, write_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    return folder, write_study(folder)


def _by_name(found, expected):
    by_uid = {s.uid: s for s in found}
    return {name: by_uid[uid] for name, (uid, _) in expected.items()}


def _kinds_match(found, expected) -> None:
    got = _by_name(found, expected)
    assert {n: s.kind for n, s in got.items()} == {n: kind for n, (_, kind) in expected.items()}
    assert all(s.kind in KINDS for s in found)


def test_study_every_series_classified_with_reasons(study):
    folder, expected = study
    found = discover_series(folder)
    _kinds_match(found, expected)
    s = _by_name(found, expected)
    assert (s["sax_cine"].n_positions, s["sax_cine"].n_phases, s["sax_cine"].n_files) == (6, 12, 72)
    assert "6 parallel slices x 12 phases" in s["sax_cine"].reason and "'SA cine retro'" in s["sax_cine"].reason
    assert s["sax_cine"].problem is None and s["sax_cine"].angle_to_short_axis_deg == 0.0
    assert "1 slice x 12 phases" in s["lax_cine"].reason and s["lax_cine"].angle_to_short_axis_deg == pytest.approx(90)
    assert (s["lge"].n_positions, s["lge"].n_phases) == (6, 1) and "LGE" in s["lge"].reason
    assert s["molli"].inversion_times_ms == ((100, 180, 260, 1100, 1180, 2100, 2180, 3100),)
    assert "8 inversion times" in s["molli"].reason and "ImageComments" in s["molli"].reason
    assert s["molli"].post_contrast is True and s["t1_map"].post_contrast is True
    assert "T1 MAP" in s["t1_map"].reason and s["lge"].post_contrast is None
    assert "3 echo / T2-prep times (1.3, 25, 55 ms)" in s["t2_prep"].reason
    assert s["localiser"].n_positions == 3 and s["localiser"].orientation.startswith("3 orientations")
    assert "ImageOrientationPatient differs" in s["localiser"].problem  # the reader cannot stack it: said
    junk = [x for x in found if x.uid == ""]
    assert len(junk) == 1 and junk[0].kind == "other" and "README.txt" in junk[0].reason
    assert [x.number for x in found if x.uid] == sorted(x.number for x in found if x.uid)


def test_study_without_descriptions_classified_from_tags(tmp_path):
    expected = write_study(tmp_path, describe=False)
    found = discover_series(tmp_path)
    _kinds_match(found, expected)
    s = _by_name(found, expected)
    assert "short-axis orientation (6 positions)" in s["sax_cine"].reason
    assert "90 deg from the study's short axis" in s["lax_cine"].reason
    assert "inversion time 300 ms" in s["lge"].reason and "parallel to the short axis" in s["lge"].reason
    assert "in 3 orientations (axial, coronal, sagittal)" in s["localiser"].reason
    assert s["molli"].post_contrast is None  # no keyword: not guessed from the inversion times


def test_short_axis_exported_one_series_per_slice(tmp_path):
    """Each slice its own series (as some scanners export): short axis by orientation relative to the others."""
    expected = write_study(tmp_path, describe=False, sax_per_slice=True)
    found = discover_series(tmp_path)
    _kinds_match(found, expected)
    assert sum(s.kind == "sax_cine" for s in found) == 6
    assert all("(6 positions)" in s.reason for s in found if s.kind == "sax_cine")
    # the six form one stack, in order along the normal (the writer steps 8 mm from slice 0 to 5)
    slices = [expected[f"sax_cine_{z}"][0] for z in range(6)]
    stacks = {s.stack for s in found if s.kind == "sax_cine"}
    assert stacks in ({tuple(slices)}, {tuple(reversed(slices))})
    assert all("one of 6 single-slice series stacked" in s.reason for s in found if s.kind == "sax_cine")
    assert all(s.stack == () for s in found if s.kind != "sax_cine")
    with pytest.warns(UserWarning, match="README"):
        image = read_dicom_folder(tmp_path, series=next(iter(stacks)))
    assert image.shape == (32, 32, 6, 12) and image.spacing[2] == pytest.approx(8.0)
    assert image.metadata["series_uids"] == list(next(iter(stacks)))
    assert np.allclose(np.diff(image.metadata["slice_positions_mm"]), 8.0)
    assert image.metadata["files"][0][0].startswith("S1")  # relative to the folder the series share
    with pytest.warns(UserWarning, match="README"):  # as --series UID1,UID2,... gives it
        assert read_dicom_folder(tmp_path, series=",".join(next(iter(stacks)))).shape == (32, 32, 6, 12)


def test_repeated_slice_series_keeps_the_repeat_in_the_stack(tmp_path):
    """Two series at one slice position (a repeated acquisition): the higher SeriesNumber is stacked."""
    expected = write_study(tmp_path, describe=False, sax_per_slice=True)
    shutil.copytree(tmp_path / "S102", tmp_path / "S199")
    retag(tmp_path / "S199", lambda z, t: {"SeriesNumber": 199, "SeriesInstanceUID": "1.2.3.199"}, 12)
    found = {s.uid: s for s in discover_series(tmp_path)}
    stack = found["1.2.3.199"].stack
    assert len(stack) == 6 and "1.2.3.199" in stack and expected["sax_cine_2"][0] not in stack
    assert found[expected["sax_cine_2"][0]].stack == ()
    with pytest.warns(UserWarning, match="README"):
        assert read_dicom_folder(tmp_path, series=stack).shape == (32, 32, 6, 12)


def test_reading_several_series_names_the_missing_one(tmp_path):
    expected = write_study(tmp_path, describe=False, sax_per_slice=True)
    with pytest.raises(ValueError, match=r"series 9\.9\.9 not in"):
        read_dicom_folder(tmp_path, series=[expected["sax_cine_0"][0], "9.9.9"])
    gap = [expected[f"sax_cine_{z}"][0] for z in (0, 1, 3, 4, 5)]  # slice 2 left out: a gap
    with pytest.raises(ValueError, match="uneven slice spacing"):
        read_dicom_folder(tmp_path, series=gap)


def test_series_option_reads_a_discovered_series(study):
    folder, expected = study
    with pytest.warns(UserWarning, match="README"):
        assert read_dicom_folder(folder, series="10").shape == (32, 32, 6, 12)
    with pytest.warns(UserWarning, match="README"):
        assert read_dicom_folder(folder, series=expected["molli"][0]).shape == (32, 32, 1, 8)


def test_unusable_series_listed_with_why(tmp_path, study):
    folder, expected = study
    shutil.copytree(folder / "S020", tmp_path / "lge")
    shutil.copytree(folder / "S031", tmp_path / "map")
    retag(tmp_path / "lge", lambda z, t: {"ImagePositionPatient": None}, 1)
    retag(tmp_path / "map", lambda z, t: {"NumberOfFrames": 4}, 1)
    (tmp_path / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM\x02\x00\x10\x00ZZ\x04\x00abcd")  # a VR pydicom refuses
    found = {s.description: s for s in discover_series(tmp_path)}
    assert found["LGE PSIR"].kind == "other" and "lacks ImagePositionPatient" in found["LGE PSIR"].reason
    # NumberOfFrames 4 over one frame of pixels: the headers cannot tell, the reader says it
    with pytest.raises(ValueError, match=r"cannot decode the pixel data of .*0.dcm#1: .*less than expected"):
        read_dicom_folder(tmp_path / "map")
    assert found["(unreadable files)"].n_files == 1 and "broken.dcm" in found["(unreadable files)"].reason
    assert "Unknown Value Representation" in found["(unreadable files)"].reason


def test_sunnybrook_cine_is_short_axis():
    found = discover_series(data_path("sunnybrook/dicoms/SCD0000101"))
    assert [s.kind for s in found] == ["sax_cine"]
    assert (found[0].n_positions, found[0].n_phases, found[0].problem) == (12, 20, None)
    assert "12 parallel slices x 20 phases" in found[0].reason


def test_cli_prints_one_line_per_series_and_writes_json(study, tmp_path, capsys):
    folder, expected = study
    out = tmp_path / "series.json"
    assert main(["series", str(folder), "--json", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(expected) + 1  # and the README line
    assert any(line.split()[:2] == ["10", "sax_cine"] and "72 images" in line for line in lines)
    doc = json.loads(out.read_text())
    assert sorted(d["kind"] for d in doc if d["uid"]) == sorted(kind for _, kind in expected.values())
    assert main(["series", str(folder), "--json", str(out)]) == 2  # exists, no --overwrite
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize("make", [lambda p: (p / "README").write_text("no images\n"), lambda p: None])
def test_cli_folder_without_dicom_one_line_exit_2(tmp_path, capsys, make):
    folder = tmp_path / "empty"
    folder.mkdir()
    make(folder)
    assert main(["series", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no DICOM images found" in err
    assert main(["series", str(tmp_path / "missing")]) == 2
    assert "no such DICOM folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SA cine retro", {"sax", "cine"}),
        ("cine_4ch", {"cine", "lax"}),
        ("LAX_2CH_trufi", {"lax", "cine"}),
        ("MOLLI 5(3)3 T1 mapping", {"molli"}),  # 'mapping' is not a map
        ("MOLLI_T1MAP_post", {"molli", "t1map", "post"}),
        ("T2prep bSSFP", {"t2w", "cine"}),
        ("tf2d_loc", {"localiser"}),
        ("de_psir_sax", {"lge", "sax"}),
        ("precontrast MOLLI", {"pre", "molli"}),
        ("TI scout", {"tiscout", "localiser"}),  # the TI-scout rule comes first
        ("blocked", set()),
        ("patient001_frame01.nii.gz", {"cine_phase"}),  # ACDC's cine phase files
        ("001_SA_ES.nii.gz", {"sax", "cine_phase"}),  # M&Ms
        ("bed series", set()),
    ],
)
def test_keywords(text, words):
    assert keywords(text) == words
