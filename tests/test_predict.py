import numpy as np
import pytest

from cmrseg.image import Image
from cmrseg.io.nifti import read_image, read_labels, write_image
from cmrseg.metrics import dice
from cmrseg.predict import Predictor, largest_components
from tests.conftest import EXAMPLES, data_path


@pytest.fixture(scope="module")
def predictor():
    return Predictor("default", device="cpu")


@pytest.fixture(scope="module")
def example_prediction(predictor):
    """The shipped model's labels of the example cine stack, predicted once: ``(image, labels)``."""
    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz")
    return image, predictor.predict_image(image)


def test_largest_components_keeps_biggest_blob_per_class():
    lab = np.zeros((10, 10), np.uint8)
    lab[1:5, 1:5] = 3
    lab[8, 8] = 3
    lab[6:8, 1:3] = 2
    out = largest_components(lab)
    assert out[8, 8] == 0 and out[2, 2] == 3 and (out == 2).sum() == 4


@pytest.mark.parametrize("shape", [(70, 90), (70, 90, 3), (70, 90, 2, 3)])
def test_output_is_on_the_input_grid(predictor, rng, shape):
    arr = rng.normal(100, 20, size=shape).astype(np.float32)
    out = predictor.predict_array(arr)
    assert out.shape == shape and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 1, 2, 3}


def test_predict_image_keeps_affine(example_prediction):
    image, labels = example_prediction
    np.testing.assert_array_equal(labels.affine, image.affine)
    assert labels.spacing == image.spacing and labels.shape == image.shape


def test_shipped_model_segments_the_example(example_prediction):
    ref = read_labels(EXAMPLES / "mnms2_001_SA_ED_gt.nii.gz").array
    pred = example_prediction[1].array
    assert dice(pred == 3, ref == 3) > 0.8


def test_rotation_tta_is_close_to_plain(predictor):
    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz").array[:, :, 5:8]
    tta = Predictor("default", device="cpu", tta=True).predict_array(image)
    plain = predictor.predict_array(image)
    assert dice(tta == 3, plain == 3) > 0.9


def test_cpu_predictor_runs_channels_last_with_the_same_probabilities(predictor, monkeypatch):
    import copy

    import torch

    import cmrseg.predict as module

    weight = next(p for p in predictor.net.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    x = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz").array[:, :, 4:6]
    slices = np.stack([(s - s.min()) / (s.max() - s.min()) for s in np.moveaxis(x, 2, 0)]).astype(np.float32)
    fast = predictor.predict_probabilities(slices)
    other = Predictor("default", device="cpu")
    other.net = copy.deepcopy(predictor.net).to(memory_format=torch.contiguous_format)
    monkeypatch.setattr(module, "_channels_last", lambda device: False)
    slow = other.predict_probabilities(slices)
    assert np.abs(fast - slow).max() < 1e-4
    assert (fast.argmax(1) == slow.argmax(1)).all()


def _validation_patients(bundle, n=2):
    from cmrseg.train.split import kfold_subjects

    cfg = bundle.train_config
    subjects = [f"patient{i:03d}" for i in range(1, 101)]
    acdc = data_path("acdc")
    present = sorted({p.name.split("_")[0] for p in acdc.glob("*.h5")})
    fold = cfg["fold"] if cfg.get("test_fold") is None else cfg["test_fold"]  # never trained on
    held = kfold_subjects([s for s in subjects if s in present], cfg["folds"], cfg["seed"])[fold]
    return acdc, sorted(held)[:n]


def test_shipped_model_on_two_acdc_validation_patients(predictor):
    import h5py

    acdc, patients = _validation_patients(predictor.bundle)
    scores = []
    for patient in patients:
        for path in sorted(acdc.glob(f"{patient}_frame*.h5")):
            with h5py.File(path) as h5:
                image = np.asarray(h5["image"]).transpose(1, 2, 0)
                ref = np.asarray(h5["label"]).transpose(1, 2, 0)
            scores.append(dice(predictor.predict_array(image) == 3, ref == 3))
    assert np.mean(scores) > 0.85


def test_predictor_round_trip_through_nifti(tmp_path, predictor):
    from cmrseg.workflows.predict import predict_file

    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz")
    small = Image(image.array[:, :, 4:7], image.spacing, image.affine)
    write_image(small, tmp_path / "in" / "a.nii.gz")
    write_image(small, tmp_path / "in" / "b.nii.gz")
    written = predict_file(tmp_path / "in", tmp_path / "out", device="cpu")
    assert [p.name for p in written] == ["a.nii.gz", "b.nii.gz"]
    out = read_labels(tmp_path / "out" / "a.nii.gz")
    np.testing.assert_allclose(out.affine, small.affine, atol=1e-5)


def test_invert_auto_picks_the_polarity_of_the_blood():
    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz").array[:, :, 3:8]
    auto = Predictor("cine", device="cpu", invert="auto")  # the cine model: trained on one polarity
    auto.predict_array(image)
    assert auto.last_polarity == ["original"]
    black_blood = image.max() - image  # bright blood made dark
    labels = auto.predict_array(black_blood)
    assert auto.last_polarity == ["inverted"]
    ref = read_labels(EXAMPLES / "mnms2_001_SA_ED_gt.nii.gz").array[:, :, 3:8]
    assert dice(labels == 3, ref == 3) > 0.7
    with pytest.raises(ValueError, match="invert"):
        Predictor("default", invert="sometimes")


def test_mirror_auto_segments_an_array_of_the_other_handedness(example_prediction, tmp_path):
    from cmrseg.workflows.predict import predict_file

    image, given = example_prediction  # the default predictor: mirror="auto"
    ref = read_labels(EXAMPLES / "mnms2_001_SA_ED_gt.nii.gz").array
    auto = Predictor("default", device="cpu")
    off = Predictor("default", device="cpu", mirror="off")
    np.testing.assert_array_equal(off.predict_array(image.array), given.array)  # as given: the same labels
    mirrored = np.ascontiguousarray(image.array[:, ::-1])
    plain = off.predict_array(mirrored)[:, ::-1]
    assert dice(plain == 1, ref == 1) < 0.5  # the RV put on the wrong side of the LV
    labels = auto.predict_array(mirrored)[:, ::-1]
    assert auto.last_mirrored
    for label in (1, 2, 3):
        assert dice(labels == label, ref == label) > dice(given.array == label, ref == label) - 0.05, label
    with pytest.raises(ValueError, match="mirror"):
        Predictor("default", mirror="sometimes")
    with pytest.raises(ValueError, match="mirror"):
        predict_file(EXAMPLES / "mnms2_001_SA_ED.nii.gz", tmp_path / "out.nii.gz", mirror="sometimes")
    assert not (tmp_path / "out.nii.gz").exists()


def test_bf16_precision_gives_nearly_the_fp32_labels(example_prediction, tmp_path):
    from cmrseg.workflows.predict import predict_file

    image, fp32 = example_prediction
    bf16 = Predictor("default", device="cpu", precision="bf16").predict_image(image).array
    for label in (1, 2, 3):
        assert dice(bf16 == label, fp32.array == label) > 0.97, label
    with pytest.raises(ValueError, match="precision"):
        Predictor("default", precision="fp16")
    with pytest.raises(ValueError, match="precision"):
        predict_file(EXAMPLES / "mnms2_001_SA_ED.nii.gz", tmp_path / "out.nii.gz", precision="fp16")
    assert not (tmp_path / "out.nii.gz").exists()


def test_auto_model_tells_a_cine_from_its_shape_and_trigger_times():
    from cmrseg.models.shipped import auto_model

    assert auto_model((256, 256, 10, 25)) == auto_model((256, 256, 10, 15)) == "cine"
    assert auto_model((256, 256, 10, 12), [40.0 * t for t in range(12)]) == "cine"  # a DICOM cine of 12 phases
    assert auto_model((128, 128, 1, 11)) == "default"  # a MOLLI series: 11 inversion times, no trigger times
    assert auto_model((128, 128, 1, 11), [300.0] * 11) == "default"  # ... or one shared trigger time
    assert auto_model((256, 256, 10)) == auto_model((256, 256)) == "default"  # a stack or a slice: any contrast
    # ... unless what the input says it is names a cine or one of its phases, and nothing else
    for said in ("patient001_frame01.nii.gz", "001_SA_ED.nii.gz", "sa_ES.nii.gz", "CINE_SAX retro", "trufi_sa"):
        assert auto_model((256, 256, 10), (), said) == "cine", said
    for said in ("Case101_C0.nii.gz", "Case101_LGE.nii.gz", "sa_ED PSIR", "SAX MOLLI", "T2w_sa_ES", "bed.nii.gz"):
        assert auto_model((256, 256, 10), (), said) == "default", said
    assert auto_model((128, 128, 1, 11), (), "MOLLI_cine_ed") == "default"


def test_predict_reads_the_description_of_a_stack_from_its_name_or_sidecar(tmp_path, capsys):
    import json

    from cmrseg.cli import main

    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz")
    stack = Image(image.array[:, :, 4:5], image.spacing, image.affine)
    for name in ("001_SA_ED", "scan", "lge_ED", "plain"):
        write_image(stack, tmp_path / "in" / f"{name}.nii.gz")
    (tmp_path / "in" / "scan.json").write_text(json.dumps({"SeriesDescription": "cine_sax_retro"}))  # as dcm2niix
    (tmp_path / "in" / "plain.json").write_text("not json")  # a broken sidecar says nothing
    assert main(["predict", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    chosen = {line.split()[0]: line.split()[-1].rstrip(")") for line in capsys.readouterr().out.splitlines()}
    assert chosen == {
        str(tmp_path / "out" / "001_SA_ED.nii.gz"): "cine",
        str(tmp_path / "out" / "lge_ED.nii.gz"): "default",
        str(tmp_path / "out" / "plain.nii.gz"): "default",
        str(tmp_path / "out" / "scan.nii.gz"): "cine",
    }


def test_predict_cli_names_the_model_auto_chose(tmp_path, capsys):
    from cmrseg.cli import main

    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz")
    stack = Image(image.array[:, :, 4:6], image.spacing, image.affine)
    cine = Image(np.repeat(stack.array[..., None], 15, axis=3), image.spacing, image.affine)
    write_image(stack, tmp_path / "in" / "stack.nii.gz")
    write_image(cine, tmp_path / "in" / "cine.nii.gz")
    assert main(["predict", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{tmp_path / 'out' / 'cine.nii.gz'}  (model cine)",
        f"{tmp_path / 'out' / 'stack.nii.gz'}  (model default)",
    ]
    same = read_labels(tmp_path / "out" / "cine.nii.gz").array[..., 0]
    np.testing.assert_array_equal(same, Predictor("cine", device="cpu").predict_array(stack.array))


def test_predictors_on_one_file_share_one_loaded_network(tmp_path):
    """A study builds a guide and a guided predictor per mapping series: the weights load once per
    process, and a file replaced on disk is loaded anew."""
    import shutil
    import time

    from cmrseg.models.shipped import resolve_model_path

    first, second = Predictor("cine", device="cpu"), Predictor("cine", device="cpu", invert="on")
    assert first.net is second.net
    assert Predictor("default", device="cpu").net is not first.net
    copy = tmp_path / "model.pt"
    shutil.copy(resolve_model_path("cine"), copy)
    loaded = Predictor(copy, device="cpu").net
    time.sleep(0.01)
    shutil.copy(resolve_model_path("default"), copy)  # replaced: another mtime and size
    assert Predictor(copy, device="cpu").net is not loaded


def test_predict_auto_segments_a_mapping_series_as_segment_series(tmp_path):
    """A 4D file whose sidecar holds >= 3 inversion times (or named MOLLI) is a mapping series:
    plain `predict` segments it as `segment-series` does; 8 frames with nothing said: per image."""
    import json

    from cmrseg.series_segmentation import segment_series
    from cmrseg.workflows.predict import SERIES_ROUTE, is_mapping_series, predict_file

    image = read_image(EXAMPLES / "mnms2_001_SA_ED.nii.gz")
    ti = [100.0, 180.0, 260.0, 900.0, 1000.0, 1700.0, 1800.0, 2500.0]
    # a MOLLI-like series of one slice: the signal |1 - 2 exp(-TI / T1*)| of the cine's intensities
    base = image.array[:, :, 5].astype(np.float32)
    frames = np.stack([base * np.abs(1 - 2 * np.exp(-t / 900.0)) + 1.0 for t in ti], axis=-1)[:, :, None, :]
    series = Image(frames, image.spacing[:3], image.affine)
    for name in ("timed", "t1_molli_sax", "eight"):
        write_image(series, tmp_path / "in" / f"{name}.nii.gz")
    (tmp_path / "in" / "timed.json").write_text(json.dumps({"InversionTime": [ti]}))
    assert is_mapping_series(tmp_path / "in" / "timed.nii.gz", series)
    assert is_mapping_series(tmp_path / "in" / "t1_molli_sax.nii.gz", series)
    assert not is_mapping_series(tmp_path / "in" / "eight.nii.gz", series)
    assert not is_mapping_series(tmp_path / "in" / "timed.nii.gz", Image(frames[..., 0], image.spacing[:3]))
    chosen: dict = {}
    predict_file(tmp_path / "in", tmp_path / "out", chosen=chosen)
    assert {p.name: m for p, m in chosen.items()} == {
        "timed.nii.gz": SERIES_ROUTE,
        "t1_molli_sax.nii.gz": SERIES_ROUTE,
        "eight.nii.gz": "default",
    }
    labels = read_labels(tmp_path / "out" / "timed.nii.gz").array
    assert labels.shape == frames.shape
    np.testing.assert_array_equal(labels, segment_series(frames).labels)
