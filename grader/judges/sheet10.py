"""Judging sheet 10's LSTM step: engine code the student kit ships."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.comparison import AllClose, Unusable, shape_str, to_array


class HiddenAndCell(AllClose):
    """(h_new, c_new) as any pair of length-n vectors, each judged under its own name."""

    def judge(self, expected: Any, got: Any, public: bool, noise: Any = None) -> str | None:
        want_h, want_c = (np.asarray(e, dtype=np.float64) for e in expected)
        try:
            have = to_array(got)
        except Unusable as exc:
            return (
                f"should return (h_new, c_new), two vectors of shape {shape_str(want_h.shape)}, "
                f"as a tuple or list; {exc}"
            )
        if have.shape != (2, *want_h.shape):
            got_text = "one vector" if have.ndim == 1 else "an array"
            return (
                f"should return (h_new, c_new), two vectors of shape {shape_str(want_h.shape)}; "
                f"got {got_text} of shape {shape_str(have.shape)}"
            )
        parts = noise if isinstance(noise, (list, tuple)) and len(noise) == 2 else (None, None)
        for name, want, value, part in zip(
            ("h_new", "c_new"), (want_h, want_c), have, parts, strict=True
        ):
            problem = super().judge(want, value, public, part)
            if problem:
                return f"{name}: {problem}"
        return None


HIDDEN_AND_CELL = HiddenAndCell()
