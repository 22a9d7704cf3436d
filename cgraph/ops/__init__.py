"""The op registry and its families; ``from cgraph.ops import *`` gives the free functions."""

from .registry import OPS, SOURCE_OPS, OpDef, Prec, get_op, register
from .arithmetic import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .tensor import *  # noqa: F403
from .nn import *  # noqa: F403
from .index import *  # noqa: F403
from . import arithmetic, elementwise, index, nn, tensor

__all__ = (
    ["OPS", "SOURCE_OPS", "OpDef", "Prec", "get_op", "register"]
    + arithmetic.__all__ + elementwise.__all__ + tensor.__all__ + nn.__all__ + index.__all__
)
