import numpy as np
import pytest

from cmrseg.agreement import agreement
from cmrseg.report.plots import bland_altman_figure


def test_bland_altman_hand_computed():
    a = np.array([10.0, 20.0, 30.0, 40.0])
    b = a - np.array([1.0, 2.0, 3.0, 2.0])  # differences 1, 2, 3, 2: mean 2, sd sqrt(2/3)
    r = agreement(a, b)
    assert r.bias == pytest.approx(2.0)
    assert r.loa_high - r.bias == pytest.approx(1.96 * np.sqrt(2 / 3))
    assert r.n == 4 and 0.9 < r.icc <= 1.0


def test_icc_perfect_and_poor():
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, 30)
    assert agreement(x, x + 1e-9).icc == pytest.approx(1.0, abs=1e-6)
    assert agreement(x, rng.normal(50, 10, 30)).icc < 0.5


def test_bad_pairs_and_figure():
    with pytest.raises(ValueError, match="paired"):
        agreement(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="at least 3"):
        agreement(np.array([1.0, np.nan, 2.0]), np.array([1.0, 2.0, np.nan]))
    fig = bland_altman_figure(np.arange(10.0), np.arange(10.0) + np.linspace(-1, 1, 10))
    assert len(fig.axes) == 1
