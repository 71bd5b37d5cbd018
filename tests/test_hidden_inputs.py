"""Hidden inputs a submission smuggles out are of no use to its next version.

A function can put its arguments into an exception's text, and a hidden check's
message shows that text. Were the hidden inputs the same for every version of a
file, a student could read them off one report and hard-code the answers into
the next submission. They are drawn from a seed that depends on the code.
"""

from __future__ import annotations

import re

import nbformat

from conftest import EXAMPLES, grade_json_parallel
from grader.loading import Source

LEAK = """
def logcosh_grad(y, t):
    raise ValueError("LEAK " + repr(np.asarray(y).ravel()[:3].tolist()))
"""


def leaked(report: dict) -> dict[str, str]:
    return {
        c["id"]: re.search(r"LEAK \[[^\]]*\]", c["message"]).group(0)
        for c in report["checks"]
        if c["function"] == "logcosh_grad"
    }


def test_a_changed_submission_gets_hidden_inputs_of_its_own(tmp_path):
    first = (EXAMPLES / "sheet2" / "correct.py").read_text() + LEAK
    paths = {
        "first": tmp_path / "first.py",
        "again": tmp_path / "again.py",
        "next": tmp_path / "next.py",
    }
    paths["first"].write_text(first)
    paths["again"].write_text(first)
    paths["next"].write_text(first + "# hard-coded answers would go here\n")
    reports = grade_json_parallel({k: (p, "--sheet", "2") for k, p in paths.items()})
    seen = {k: leaked(r) for k, r in reports.items()}
    hidden = {c["id"] for c in reports["first"]["checks"] if c.get("seed") is not None}
    public = set(seen["first"]) - hidden
    assert hidden & set(seen["first"]) and public
    assert seen["again"] == seen["first"], "the same code must get the same inputs"
    for cid in public:
        assert seen["next"][cid] == seen["first"][cid]
    for cid in hidden & set(seen["first"]):
        assert seen["next"][cid] != seen["first"][cid], cid


def test_the_seed_depends_on_the_code_only():
    code = Source("a.ipynb", ["import numpy as np", "x = 1"], notebook=True)
    same = Source("b.ipynb", ["import numpy as np", "x = 1"], notebook=True, notes=["output"])
    split = Source("c.ipynb", ["import numpy as np\n", "x = 1"], notebook=True)
    joined = Source("d.ipynb", ["import numpy as npx = 1"], notebook=True)
    assert code.code_digest() == same.code_digest()
    assert len({code.code_digest(), split.code_digest(), joined.code_digest()}) == 3


def test_a_notebook_re_run_keeps_its_hidden_inputs(tmp_path):
    code = (EXAMPLES / "sheet2" / "correct.py").read_text() + LEAK
    before = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    after = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    after.cells[0]["outputs"] = [nbformat.v4.new_output("stream", text="ran again\n")]
    after.cells[0]["execution_count"] = 7
    nbformat.write(before, tmp_path / "before.ipynb")
    nbformat.write(after, tmp_path / "after.ipynb")
    reports = grade_json_parallel(
        {k: (tmp_path / f"{k}.ipynb", "--sheet", "2") for k in ("before", "after")}
    )
    assert leaked(reports["before"]) == leaked(reports["after"])
