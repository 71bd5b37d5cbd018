"""Plotting and progress-bar imports the sandbox lacks cost nothing (grader/standins.py)."""

from __future__ import annotations

import importlib
import sys

import nbformat
import pytest

from conftest import EXAMPLES, grade_json_parallel
from grader import standins
from grader.sandbox import malformed_answer

CORRECT = (EXAMPLES / "sheet2" / "correct.py").read_text()

PLOTTING = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import cm
from matplotlib.colors import ListedColormap
import seaborn as sns
from tqdm.auto import tqdm, trange
from IPython.display import display, HTML

sns.set_theme()
plt.rcParams["figure.figsize"] = (8, 6)
fig, (ax1, ax2) = plt.subplots(1, 2, sharey=True)
ax1.plot([1, 2], [3, 4], color=cm.viridis(0.5))
ax2.set_title("loss")
fig, axes = plt.subplots(2, 3)
axes[1, 2].scatter([1], [2], cmap=ListedColormap(["r", "b"]))
for ax in axes.flat:
    ax.grid(True)
steps = [i for i in tqdm(range(3), desc="training")]
assert steps == [0, 1, 2] and list(trange(2)) == [0, 1]
with plt.style.context("ggplot"):
    plt.show()
display(HTML("<b>done</b>"))
"""


def test_plotting_imports_cost_nothing_in_a_module_or_a_notebook(tmp_path):
    module = tmp_path / "plots.py"
    module.write_text(PLOTTING + CORRECT)
    notebook = tmp_path / "plots.ipynb"
    cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nimport numpy as np"),
        nbformat.v4.new_code_cell(CORRECT),
        nbformat.v4.new_code_cell(
            "X = np.random.randn(50, 2)\nplt.scatter(*X.T, c=predict_class(X))"
        ),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    reports = grade_json_parallel(
        {"module": (module, "--sheet", "2"), "notebook": (notebook, "--sheet", "2")}
    )
    for report in reports.values():
        assert report["score"] == report["max_score"] == 100, report.get("load_error")
        assert any("matplotlib" in n and "not installed" in n for n in report["notes"])
    assert "seaborn, tqdm, IPython" in " ".join(reports["module"]["notes"])


def test_a_library_that_computes_still_fails_with_the_contract_s_reason(tmp_path):
    path = tmp_path / "pandas_user.py"
    path.write_text("import pandas_is_not_here\n" + CORRECT)
    report = grade_json_parallel({"x": (path, "--sheet", "2")})["x"]
    assert report["score"] == 0
    assert "numpy, torch, math and the standard library" in report["load_error"]


@pytest.mark.parametrize(
    ("args", "kwargs", "shape"),
    [
        ((), {}, None),
        ((1, 2), {}, (2,)),
        ((3, 1), {}, (3,)),
        ((2, 3), {}, (2, 3)),
        ((), {"nrows": 2, "ncols": 2}, (2, 2)),
        ((), {"squeeze": False}, (1, 1)),
    ],
)
def test_subplots_shapes_its_axes_as_matplotlib_does(args, kwargs, shape):
    fig, axes = standins.subplots(*args, **kwargs)
    assert isinstance(fig, standins.Nothing)
    if shape is None:
        assert isinstance(axes, standins.Nothing)
    else:
        assert axes.shape == shape
        assert all(isinstance(ax, standins.Nothing) for ax in axes.flat)


def test_an_installed_library_wins_over_its_stand_in(monkeypatch):
    monkeypatch.setattr(standins, "LIBRARIES", ("wave", "no_such_plotting_lib"))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.delitem(sys.modules, "wave", raising=False)
    monkeypatch.delitem(sys.modules, "no_such_plotting_lib", raising=False)
    used = standins.install()
    wave = importlib.import_module("wave")
    assert callable(wave.open) and not isinstance(wave.open, standins.Nothing)
    fake = importlib.import_module("no_such_plotting_lib")
    assert isinstance(fake.anything(1, x=2).deeper, standins.Nothing)
    assert used == ["no_such_plotting_lib"]


@pytest.mark.parametrize("stand_ins", [["numpy"], [{}], "matplotlib", [["tqdm"]]])
def test_a_forged_stand_in_list_is_not_a_worker_answer(stand_ins):
    answer = {"ok": True, "functions": [], "cell_errors": [], "stand_ins": stand_ins}
    assert malformed_answer("load", answer) is not None
    assert malformed_answer("load", {**answer, "stand_ins": ["matplotlib"]}) is None


def test_a_library_probing_for_a_display_library_gets_its_import_error(monkeypatch):
    """torch.hub tries ``import tqdm`` and falls back on ImportError: installed code gets the
    real ImportError, the submission's own code (any other file) the stand-in."""
    import os
    import sysconfig

    monkeypatch.setattr(standins, "LIBRARIES", ("no_such_plotting_lib",))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.delitem(sys.modules, "no_such_plotting_lib", raising=False)
    used = standins.install()
    library = os.path.join(sysconfig.get_paths()["purelib"], "somepkg", "hub.py")
    with pytest.raises(ModuleNotFoundError):
        exec(compile("import no_such_plotting_lib", library, "exec"), {})
    assert used == []
    student: dict = {}
    exec(compile("import no_such_plotting_lib as lib", "/scratch/submission.py", "exec"), student)
    assert isinstance(student["lib"].plot(), standins.Nothing)
    assert used == ["no_such_plotting_lib"]


def test_importing_torch_notes_no_stand_in(tmp_path):
    """``import torch`` probes for tqdm: no report of a torch submission may say that the
    student imported a stand-in for it."""
    path = tmp_path / "torch_counts.py"
    path.write_text(
        "import torch\n\n\ndef lstm_param_count(d, n):\n    return 4 * n * (d + n + 1)\n"
    )
    (report,) = grade_json_parallel({"torch": (path, "--sheet", "10")}).values()
    counts = [c for c in report["checks"] if c["function"] == "lstm_param_count"]
    assert counts and all(c["status"] == "passed" for c in counts)
    assert not any("tqdm" in note for note in report["notes"]), report["notes"]
