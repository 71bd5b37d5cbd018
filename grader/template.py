"""Student skeletons written from the contract: every function stubbed, documented.

A ``.py`` skeleton is the stubs in contract order; a notebook skeleton groups the
same stubs by exercise, each under a markdown cell that says what the exercise
asks (from the spec and the contract: the same text as docs/sheets/), and ends
with a cell that grades the saved notebook. Untouched, either grades to 0 with
"not implemented yet" on every check.
"""

from __future__ import annotations

import shlex

from grader.contract import CONTRACT, Function

HEADER = "Implement every function below; keep the names and arguments as they are."


def stub(fn: Function) -> str:
    doc = fn.doc.replace("\n", "\n    ")
    return f'def {fn.name}({fn.params}):\n    """{doc}"""\n    raise NotImplementedError\n'


def skeleton(sheet_id: str) -> str:
    lines = [
        f'"""Sheet {sheet_id}: your solutions.',
        "",
        HEADER,
        f"Check your work any time with:  grade this_file.py --sheet {sheet_id}",
        '"""',
        "",
        "import numpy as np",
        "",
    ]
    for fn in CONTRACT[sheet_id]:
        lines += ["", stub(fn)]
    return "\n".join(lines)


def notebook(sheet_id: str, filename: str) -> str:
    """A Jupyter notebook (nbformat 4, valid) named ``filename``, as JSON text.

    Cell ids are fixed rather than random, so the same sheet always gives the same
    file. The last cell runs ``grade`` as a shell line: Jupyter runs it, while the
    grader's notebook loader skips shell lines, so the cell costs nothing when graded.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from grader import sheets
    from grader.contract import SETUP
    from grader.docs import exercise_functions, exercise_heading

    sheet = sheets.load(sheet_id)
    setup = SETUP.get(sheet_id, {})
    cells = [
        new_markdown_cell(
            f"# Sheet {sheet_id}: {sheet.title}\n\n"
            f"{HEADER} Each exercise below says what it asks; `grade contract --sheet "
            f"{sheet_id}` (or docs/sheets/sheet{sheet_id}.md in the grader's repository) "
            "has the full reference: conventions, tolerances and every check. The last "
            "cell checks your work.",
            id="title",
        ),
        new_code_cell("import numpy as np", id="imports"),
    ]
    for exercise, fns in exercise_functions(sheet):
        text = [f"## {exercise_heading(exercise)}"]
        if exercise.id in setup:
            text.append(setup[exercise.id])
        text.append("\n".join(f"- `{fn.signature}`: {fn.details or fn.doc}" for fn in fns))
        cells.append(new_markdown_cell("\n\n".join(text), id=f"exercise-{exercise.id}"))
        cells += [new_code_cell(stub(fn).rstrip("\n"), id=f"def-{fn.name}") for fn in fns]
    cells += [
        new_markdown_cell(
            "## Check your work\n\n"
            "The cell below grades the **saved** notebook file, not what you see here: "
            "save first (Ctrl+S / Cmd+S), then run it. If you rename the notebook, change "
            "the file name in the cell. `grade` must be installed where this notebook's "
            "kernel runs: the grader, or the student kit your TA hands out, with which "
            f"`from gradekit import check; check({filename!r})` does the same.",
            id="check-explained",
        ),
        new_code_cell(f"!grade {_shell_word(filename)} --sheet {sheet_id}", id="check"),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def _shell_word(name: str) -> str:
    """``name`` as one word of an IPython shell line: quoted for the shell, with the
    ``$`` and braces that IPython would expand into Python values doubled."""
    quoted = shlex.quote(name)
    return quoted.replace("$", "$$").replace("{", "{{").replace("}", "}}")
