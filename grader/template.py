"""Student skeletons written from the contract: every function stubbed, documented."""

from __future__ import annotations

from grader.contract import CONTRACT


def skeleton(sheet_id: str) -> str:
    lines = [
        f'"""Sheet {sheet_id}: your solutions.',
        "",
        "Implement every function below; keep the names and arguments as they are.",
        f"Check your work any time with:  grade this_file.py --sheet {sheet_id}",
        '"""',
        "",
        "import numpy as np",
        "",
    ]
    for fn in CONTRACT[sheet_id]:
        doc = fn.doc.replace("\n", "\n    ")
        lines += [
            "",
            f"def {fn.name}({fn.params}):",
            f'    """{doc}"""',
            "    raise NotImplementedError",
            "",
        ]
    return "\n".join(lines)
