import math

import numpy as np
import pytest
import torch

from cmrseg.losses import LOSSES, build_loss
from cmrseg.metrics import dice, hausdorff_mm, iou, mean_surface_distance_mm


def test_cross_entropy_of_uniform_logits_is_log_classes():
    logits = torch.zeros(1, 4, 2, 2)
    target = torch.zeros(1, 1, 2, 2, dtype=torch.long)
    assert build_loss("ce")(logits, target).item() == pytest.approx(math.log(4))


@pytest.mark.parametrize("name", ["dice", "jaccard", "dice_ce", "generalised_dice", "focal"])
def test_confident_correct_prediction_has_near_zero_loss(name):
    target = torch.tensor([[[[0, 1], [2, 3]]]])
    logits = 50 * torch.nn.functional.one_hot(target[:, 0], 4).permute(0, 3, 1, 2).float()
    assert build_loss(name)(logits, target).item() < 1e-3


def test_dice_loss_hand_computed():
    # 2 classes, softmax of +-inf logits == hard prediction; one of two foreground pixels found
    target = torch.tensor([[[[1, 1, 0, 0]]]])
    logits = torch.tensor([[[[-50.0, 50.0, 50.0, 50.0]], [[50.0, -50.0, -50.0, -50.0]]]])
    loss = build_loss("dice")(logits, target).item()
    # class0: pred {1,2,3}, ref {2,3}: dice=2*2/(3+2)=0.8 ; class1: pred {0}, ref {0,1}: 2*1/3
    assert loss == pytest.approx(1 - (0.8 + 2 / 3) / 2, abs=1e-4)


def test_unknown_loss_lists_valid():
    with pytest.raises(ValueError, match="dice_ce"):
        build_loss("hinge")
    assert set(LOSSES) == {"dice", "jaccard", "ce", "dice_ce", "focal", "generalised_dice"}


def test_dice_and_iou_hand_computed():
    a = np.array([1, 1, 1, 0, 0], bool)
    b = np.array([0, 1, 1, 1, 0], bool)
    assert dice(a, b) == pytest.approx(2 * 2 / 6)
    assert iou(a, b) == pytest.approx(2 / 4)
    assert dice(np.zeros(3), np.zeros(3)) == 1.0


def test_hausdorff_of_shifted_square_in_mm():
    a = np.zeros((20, 20), bool)
    a[5:10, 5:10] = True
    b = np.roll(a, 2, axis=0)
    assert hausdorff_mm(a, b, (1.5, 1.0)) == pytest.approx(3.0)
    assert mean_surface_distance_mm(a, a, (1.0, 1.0)) == 0.0
    assert math.isnan(hausdorff_mm(a, np.zeros_like(a), (1.0, 1.0)))
