"""Sheet 2 — a submission that does not even parse."""

import numpy as np


def logcosh(y, t)
    return np.log(np.cosh(y - t))
