"""Neural-network ops: softmax, log_softmax, logsumexp (all computed stably)."""

from __future__ import annotations

import numpy as np

from . import shapes
from .registry import OpDef, Prec, register
from .tensor import expand_to
from .tensor import sum as sum_

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _shifted(x, axis):
    x = np.asarray(x)
    if x.ndim == 0:  # numpy takes axis -1 of a number; the shape rule, JAX and TensorFlow do not
        raise ValueError(_NO_AXIS.format(axis=axis))
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0.0)


def _softmax(x, axis=-1):
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    z = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


#: why softmax and log_softmax refuse a number (0-d), by their shape rule and at a point alike
_NO_AXIS = ("axis {axis} is out of range for 0 dimension(s): softmax and log_softmax normalize along an axis of an "
            "array, and a number has none (its softmax would be the constant 1); give a vector or an array")


def _same_axis(s, axis=-1):
    if s is not None:
        if not s:
            raise ValueError(_NO_AXIS.format(axis=axis))
        shapes.normalize_axis(axis, len(s))
    return s


def _logsumexp_vjp(g, out, a, axis=None, keepdims=False):
    spread = expand_to(out, a, axis=axis, keepdims=keepdims)
    return (expand_to(g, a, axis=axis, keepdims=keepdims) * exp(a - spread),)


_CALL = {"prec": Prec.ATOM, "arg_prec": (0,)}

SOFTMAX = register(OpDef(
    "softmax", 1, _softmax, _same_axis,
    lambda g, out, a, axis=-1: (out * (g - sum_(g * out, axis=axis, keepdims=True)),),
    text="softmax({0}{kw})", latex=r"\operatorname{{softmax}}{sub}\left({0}\right)", label="softmax",
    attrs={"axis": -1}, reach="along_axis", doc="``exp(x) / sum(exp(x), axis)``, computed stably.", fresh=True, **_CALL,
))
LOG_SOFTMAX = register(OpDef(
    "log_softmax", 1, _log_softmax, _same_axis,
    lambda g, out, a, axis=-1: (g - exp(out) * sum_(g, axis=axis, keepdims=True),),
    text="log_softmax({0}{kw})", latex=r"\log\operatorname{{softmax}}{sub}\left({0}\right)",
    label="log softmax", attrs={"axis": -1}, reach="along_axis",
    doc="``x - logsumexp(x, axis)``, computed stably.", fresh=True, **_CALL,
))
LOGSUMEXP = register(OpDef(
    "logsumexp", 1, _logsumexp, shapes.reduce, _logsumexp_vjp,
    text="logsumexp({0}{kw})", latex=r"\log\sum{sub} e^{{{0}}}", label="logΣexp",
    # a big operator reaching to its right, ending in a superscript: parenthesized as a
    # base ((...)^{2}, not e^{X}^{2}) and as a factor (the sum is not over x in ... x)
    latex_prec=Prec.ODOT,
    attrs={"axis": None, "keepdims": False}, reach="reduce", doc="``log(sum(exp(x), axis))``, computed stably.",
    fresh=True, **_CALL,
))

softmax, log_softmax, logsumexp = (op.function for op in (SOFTMAX, LOG_SOFTMAX, LOGSUMEXP))

from .elementwise import exp  # noqa: E402
