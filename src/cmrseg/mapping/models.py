"""Signal models of relaxometry: one description each, used by the fitter, the fits and the tests.

Every model is a :class:`SeparableModel`: linear in its amplitudes given one time constant
``tau``, each amplitude multiplying a column ``alpha + beta exp(-t / tau)``. The fitter
(:mod:`cmrseg.mapping.fitter`) reads the columns; :meth:`SeparableModel.signal` evaluates them;
the named functions below (``molli_signal`` ...) are the same models with analytic Jacobians,
and a test checks that each agrees with its :class:`SeparableModel`.

Times are in ms. Every function broadcasts: parameters of shape ``(...)`` and times ``(N,)``
give signals ``(..., N)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "SeparableModel",
    "MOLLI",
    "IR",
    "DECAY",
    "DECAY_OFFSET",
    "molli_signal",
    "molli_jacobian",
    "look_locker_t1",
    "ir2_signal",
    "ir2_jacobian",
    "exp_decay",
    "exp_decay_jacobian",
    "exp_decay_offset",
    "exp_decay_offset_jacobian",
]


def _e(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    return np.exp(-np.asarray(t, float) / np.asarray(tau, float)[..., None])


@dataclass(frozen=True)
class SeparableModel:
    """``S(t) = sum_j c_j (alpha_j + beta_j exp(-t / tau))``: amplitudes ``c`` and one time constant.

    Attributes
    ----------
    name : str
        What the model describes.
    columns : tuple of (float, float)
        ``(alpha_j, beta_j)`` of each amplitude's column.
    amplitudes : tuple of str
        The amplitudes' names, in column order.
    """

    name: str
    columns: tuple[tuple[float, float], ...]
    amplitudes: tuple[str, ...]

    @property
    def basis(self) -> np.ndarray:
        """``(m, 2)`` array of the columns, as the fitter takes them."""
        return np.array(self.columns, float)

    def signal(self, t_ms: np.ndarray, amplitudes: np.ndarray, tau_ms: np.ndarray) -> np.ndarray:
        """``(..., N)`` signal at times ``t_ms`` (N,) of amplitudes ``(..., m)`` and ``tau_ms`` ``(...)``.

        Parameters
        ----------
        t_ms : np.ndarray
            ``(N,)`` times in ms.
        amplitudes : np.ndarray
            ``(..., m)`` amplitudes ``c_j``, in the order of :attr:`amplitudes`.
        tau_ms : np.ndarray
            ``(...)`` time constants in ms.

        Returns
        -------
        np.ndarray
            ``(..., N)`` signal.
        """
        e = _e(t_ms, tau_ms)
        c = np.asarray(amplitudes, float)
        return sum(c[..., j, None] * (alpha + beta * e) for j, (alpha, beta) in enumerate(self.columns))


#: MOLLI / Look-Locker ``A - B exp(-TI / T1*)``
MOLLI = SeparableModel("MOLLI", ((1.0, 0.0), (0.0, -1.0)), ("A", "B"))
#: two-parameter inversion recovery ``A (1 - 2 exp(-TI / T1))``
IR = SeparableModel("inversion recovery", ((1.0, -2.0),), ("A",))
#: mono-exponential decay ``S0 exp(-t / T)`` (T2, T1rho)
DECAY = SeparableModel("decay", ((0.0, 1.0),), ("S0",))
#: decay with a constant offset ``S0 exp(-t / T) + C``
DECAY_OFFSET = SeparableModel("decay with offset", ((0.0, 1.0), (1.0, 0.0)), ("S0", "C"))


def molli_signal(ti_ms: np.ndarray, a: np.ndarray, b: np.ndarray, t1_star_ms: np.ndarray) -> np.ndarray:
    """Three-parameter Look-Locker recovery ``S = A - B exp(-TI / T1*)``, signed.

    Parameters
    ----------
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms.
    a, b : np.ndarray
        ``(...)`` amplitudes A and B.
    t1_star_ms : np.ndarray
        ``(...)`` apparent T1* in ms.

    Returns
    -------
    np.ndarray
        ``(..., N)`` signal.
    """
    return np.asarray(a, float)[..., None] - np.asarray(b, float)[..., None] * _e(ti_ms, t1_star_ms)


def molli_jacobian(ti_ms: np.ndarray, a: np.ndarray, b: np.ndarray, t1_star_ms: np.ndarray) -> np.ndarray:
    """``(..., N, 3)`` derivatives of :func:`molli_signal` by (A, B, T1*).

    Parameters
    ----------
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms.
    a, b : np.ndarray
        ``(...)`` amplitudes A and B.
    t1_star_ms : np.ndarray
        ``(...)`` apparent T1* in ms.

    Returns
    -------
    np.ndarray
        ``(..., N, 3)`` partial derivatives.
    """
    e = _e(ti_ms, t1_star_ms)
    ti = np.asarray(ti_ms, float)
    ts = np.asarray(t1_star_ms, float)[..., None]
    d_t1s = -np.asarray(b, float)[..., None] * e * ti / ts**2
    return np.stack([np.ones_like(e), -e, d_t1s], -1)


def look_locker_t1(a: np.ndarray, b: np.ndarray, t1_star_ms: np.ndarray) -> np.ndarray:
    """Look-Locker correction ``T1 = T1* (B / A - 1)`` in ms.

    Parameters
    ----------
    a, b : np.ndarray
        ``(...)`` amplitudes A and B of :func:`molli_signal`.
    t1_star_ms : np.ndarray
        ``(...)`` apparent T1* in ms.

    Returns
    -------
    np.ndarray
        ``(...)`` T1 in ms; not finite where ``A`` is 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(t1_star_ms) * (np.asarray(b) / np.asarray(a) - 1.0)


def ir2_signal(ti_ms: np.ndarray, a: np.ndarray, t1_ms: np.ndarray) -> np.ndarray:
    """Two-parameter inversion recovery ``S = A (1 - 2 exp(-TI / T1))``, signed.

    Parameters
    ----------
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms.
    a : np.ndarray
        ``(...)`` amplitude A.
    t1_ms : np.ndarray
        ``(...)`` T1 in ms.

    Returns
    -------
    np.ndarray
        ``(..., N)`` signal.
    """
    return np.asarray(a, float)[..., None] * (1.0 - 2.0 * _e(ti_ms, t1_ms))


def ir2_jacobian(ti_ms: np.ndarray, a: np.ndarray, t1_ms: np.ndarray) -> np.ndarray:
    """``(..., N, 2)`` derivatives of :func:`ir2_signal` by (A, T1).

    Parameters
    ----------
    ti_ms : np.ndarray
        ``(N,)`` inversion times in ms.
    a : np.ndarray
        ``(...)`` amplitude A.
    t1_ms : np.ndarray
        ``(...)`` T1 in ms.

    Returns
    -------
    np.ndarray
        ``(..., N, 2)`` partial derivatives.
    """
    e = _e(ti_ms, t1_ms)
    t1 = np.asarray(t1_ms, float)[..., None]
    return np.stack([1.0 - 2.0 * e, -2.0 * np.asarray(a, float)[..., None] * e * np.asarray(ti_ms) / t1**2], -1)


def exp_decay(t_ms: np.ndarray, s0: np.ndarray, tau_ms: np.ndarray) -> np.ndarray:
    """Mono-exponential decay ``S = S0 exp(-t / T)`` (T2 with echo/prep times, T1rho with spin-lock times).

    Parameters
    ----------
    t_ms : np.ndarray
        ``(N,)`` times in ms.
    s0 : np.ndarray
        ``(...)`` amplitude S0.
    tau_ms : np.ndarray
        ``(...)`` time constant T in ms.

    Returns
    -------
    np.ndarray
        ``(..., N)`` signal.
    """
    return np.asarray(s0, float)[..., None] * _e(t_ms, tau_ms)


def exp_decay_jacobian(t_ms: np.ndarray, s0: np.ndarray, tau_ms: np.ndarray) -> np.ndarray:
    """``(..., N, 2)`` derivatives of :func:`exp_decay` by (S0, T).

    Parameters
    ----------
    t_ms : np.ndarray
        ``(N,)`` times in ms.
    s0 : np.ndarray
        ``(...)`` amplitude S0.
    tau_ms : np.ndarray
        ``(...)`` time constant T in ms.

    Returns
    -------
    np.ndarray
        ``(..., N, 2)`` partial derivatives.
    """
    e = _e(t_ms, tau_ms)
    tau = np.asarray(tau_ms, float)[..., None]
    return np.stack([e, np.asarray(s0, float)[..., None] * e * np.asarray(t_ms) / tau**2], -1)


def exp_decay_offset(t_ms: np.ndarray, s0: np.ndarray, tau_ms: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Decay with a constant offset ``S = S0 exp(-t / T) + C`` (noise floor, imperfect preparation).

    Parameters
    ----------
    t_ms : np.ndarray
        ``(N,)`` times in ms.
    s0 : np.ndarray
        ``(...)`` amplitude S0.
    tau_ms : np.ndarray
        ``(...)`` time constant T in ms.
    c : np.ndarray
        ``(...)`` offset C.

    Returns
    -------
    np.ndarray
        ``(..., N)`` signal.
    """
    return exp_decay(t_ms, s0, tau_ms) + np.asarray(c, float)[..., None]


def exp_decay_offset_jacobian(t_ms: np.ndarray, s0: np.ndarray, tau_ms: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``(..., N, 3)`` derivatives of :func:`exp_decay_offset` by (S0, T, C).

    Parameters
    ----------
    t_ms : np.ndarray
        ``(N,)`` times in ms.
    s0 : np.ndarray
        ``(...)`` amplitude S0.
    tau_ms : np.ndarray
        ``(...)`` time constant T in ms.
    c : np.ndarray
        ``(...)`` offset C (the derivative by C is 1).

    Returns
    -------
    np.ndarray
        ``(..., N, 3)`` partial derivatives.
    """
    j = exp_decay_jacobian(t_ms, s0, tau_ms)
    return np.concatenate([j, np.ones(j.shape[:-1] + (1,))], -1)
