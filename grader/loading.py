"""Reading a submission file into source cells, without running any of it.

A ``.py`` file is one cell; a notebook is its code cells in order, with IPython
line magics and shell lines blanked (they are not Python) and cells under a
non-Python cell magic skipped. What a file holds decides, not its name: a
notebook saved as ``.py`` is read as a notebook and Python saved as ``.ipynb``
as a module, each with a note telling the student to rename it. Anything
unreadable becomes a ``LoadError`` with a message a student can act on; it
never becomes a grader traceback.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import itertools
import json
import os
import re
import stat
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

MAX_CODE_BYTES = 5 << 20  # the code itself, in a module or all of a notebook's code cells
MAX_NOTEBOOK_BYTES = 200 << 20  # a notebook may carry plots and other outputs
MAX_CELLS = 10_000  # cells of any kind in a notebook
# Commas, braces and brackets in a notebook's raw JSON: an upper bound on its JSON values,
# checked before parsing, so a notebook of millions of tiny values is not built in memory.
MAX_JSON_ITEMS = 2_000_000
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}

# Windows has none of the POSIX flags but O_BINARY, without which os.read turns \r\n into \n.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = (
    os.O_RDONLY
    | _NOFOLLOW
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
    | _CLOEXEC
)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
# Walking folders by descriptor (openat) needs dir_fd and O_NOFOLLOW: POSIX has them,
# Windows has neither and cannot open a folder at all.
WALK_BY_FD = (
    _NOFOLLOW != 0 and hasattr(os, "O_DIRECTORY") and {os.open, os.stat} <= os.supports_dir_fd
)
_KINDS = [
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
]


class LoadError(Exception):
    """The submission cannot be read; the message says why."""

    path: Path | None = None


class Refused(LoadError):
    """None of the entry's content was read: it is too large, or not a file the grader reads."""


class NotAFile(Refused):
    """A symlink, FIFO, device, socket or folder where a submission was expected.

    Reading one could hang the grader (a FIFO), never end (``/dev/zero``) or
    grade a file the student does not own (a link to the reference or to a
    classmate's work), so the grader does not even open it.
    """

    def __init__(self, message: str, link: bool = False) -> None:
        super().__init__(message)
        self.link = link  # a symlink was refused (``--follow-symlinks`` would follow it)


@dataclass(frozen=True)
class Source:
    filename: str
    cells: list[str]
    notebook: bool
    notes: list[str] = field(default_factory=list)
    # A notebook's number (1-based, Markdown cells counted, as Jupyter shows) for each cell.
    numbers: list[int] = field(default_factory=list)
    # Jupyter ran the code cells in another order than top to bottom (execution counts).
    out_of_order: bool = False

    def code_digest(self) -> str:
        """A digest of the code that runs: a notebook's outputs and markdown do not change it."""
        h = hashlib.sha256()
        for cell in self.cells:
            data = cell.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "little") + data)
        return h.hexdigest()


def is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def size_limit(name: str) -> int:
    """How many bytes a submission file of this name may have."""
    return MAX_NOTEBOOK_BYTES if is_notebook(name) else MAX_CODE_BYTES


def read_submission(path: Path, *, follow_symlinks: bool = False) -> Source:
    """Read and parse a submission named by a path (see ``read_file`` for what is refused)."""
    return parse_submission(read_file(path, follow_symlinks=follow_symlinks), path.name)


def parse_submission(data: bytes, name: str) -> Source:
    """The cells of a submission whose bytes were read already (a notebook if ``name`` says so)."""
    if is_notebook(name):
        source = _read_notebook(data)
    elif _NOTEBOOK_START.match(data) and b'"nbformat"' in data:
        source = _read_notebook(data, [NOTEBOOK_AS_PY])
    else:
        notes: list[str] = []
        source = Source("submission.py", [_decode(data, notes)], False, notes)
    code = sum(len(c.encode("utf-8", "surrogatepass")) for c in source.cells)
    if code > MAX_CODE_BYTES:
        raise LoadError(f"the code is {code >> 20} MiB; the limit is {MAX_CODE_BYTES >> 20} MiB")
    return source


def read_file(path: Path, *, follow_symlinks: bool = False) -> bytes:
    """The bytes of a regular file reached without following a symlink, or ``Refused``.

    Every component of the path as given is opened with ``O_NOFOLLOW`` (a
    relative path from the working directory), so neither the file nor a folder
    on the way may be a link, with one exception for an absolute path: a system
    folder linked from the filesystem root that only root can have made, such as
    macOS's ``/tmp`` or Silverblue's ``/home`` (see ``read_beneath``).
    ``follow_symlinks`` is the TA's explicit opt-out; even then only a regular
    file is read.
    """
    if follow_symlinks:
        try:
            mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):
                raise NotAFile(f"{path} leads to {describe(mode)}, not a file")
            fd = os.open(path, _FILE_FLAGS & ~_NOFOLLOW)
        except OSError as exc:
            raise _unreadable(str(path), exc) from None
        return _read_fd(fd, str(path), size_limit(path.name))
    return read_beneath(*walk_start(path), system_root=path.is_absolute())


def walk_start(path: PurePath) -> tuple[PurePath, tuple[str, ...]]:
    """Where ``read_file`` starts walking ``path`` from, and the components below it.

    The root of an absolute path is its anchor, so a Windows path keeps its
    drive (``D:\\``) rather than walking the current drive from ``\\``.
    """
    if path.is_absolute():
        return type(path)(path.anchor), path.parts[1:]
    return type(path)("."), path.parts


def read_beneath(
    root: Path, parts: Sequence[str], shown: str | None = None, *, system_root: bool = False
) -> bytes:
    """The bytes of the regular file ``root/part/.../part``, following no symlink below root.

    ``root`` itself is opened as given (it is the caller's own folder). Each
    component is checked with ``lstat`` and opened with ``O_NOFOLLOW`` (and the
    file with ``O_NONBLOCK``, so a FIFO swapped in after the check cannot block),
    the opened file is checked once more with ``fstat``, and at most its size
    limit plus one byte is read: a file that grows while being read is refused
    rather than read without end. Raises ``Refused`` (never an ``OSError``).

    ``system_root`` says ``root`` is the filesystem root. Then, and only on a
    system that walks by descriptor (not Windows), a folder directly in
    ``root`` that is a link owned by uid 0, in a ``root`` owned by uid 0 and
    writable by no group or other, is followed: only root can have made it, so
    it is the system's layout (macOS's ``/tmp -> private/tmp``, Silverblue's
    ``/home -> var/home``), not a student's doing. Its target is walked from
    ``root`` with the same checks; everything below stays strict.
    """
    if not parts:
        raise NotAFile(f"{root} is a folder, not a file")
    if not WALK_BY_FD:
        return _read_beneath_by_path(root, parts, shown)
    try:
        root_fd = os.open(root, _DIR_FLAGS & ~_NOFOLLOW)
    except OSError as exc:
        raise _unreadable(str(root), exc) from None
    fd = -1
    try:
        trusted = system_root and _ROOT_LINKS and _only_root_writes(root_fd)
        fd = os.dup(root_fd)
        pending, walked, depth, hops = list(parts), root, 0, 0
        while True:
            part = pending.pop(0)
            last = not pending
            walked, depth = walked / part, depth + 1
            name = shown if last and shown is not None else _shown_path(root, walked)
            try:
                info = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except OSError as exc:
                raise _unreadable(name, exc) from None
            if trusted and depth == 1 and not last and _system_link(info):
                pending[:0] = _system_link_target(root_fd, part, name, hops)
                walked, depth, hops = root, 0, hops + 1
                os.close(fd)
                fd = -1
                fd = os.dup(root_fd)
                continue
            _expect_kind(name, info.st_mode, last)
            try:
                child = os.open(part, _FILE_FLAGS if last else _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:  # replaced since the lstat: by a link, say
                raise _unreadable(name, exc) from None
            os.close(fd)
            fd = child
            if last:
                break
        fd, opened = -1, fd
        return _read_fd(opened, name, size_limit(parts[-1]))
    finally:
        if fd >= 0:
            os.close(fd)
        os.close(root_fd)


MAX_SYSTEM_LINKS = 8  # root links followed in one path (only root could make a loop of them)
_ROOT_LINKS = os.readlink in os.supports_dir_fd  # reading a link in the opened root


def _only_root_writes(dir_fd: int) -> bool:
    """Whether only root can add or replace an entry in this folder."""
    info = os.fstat(dir_fd)
    return info.st_uid == 0 and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _system_link(info: os.stat_result) -> bool:
    return stat.S_ISLNK(info.st_mode) and info.st_uid == 0


def _system_link_target(root_fd: int, part: str, name: str, hops: int) -> list[str]:
    """The components below the root that a root-owned link in the root leads to.

    A target climbing with ``..`` or a chain of more than ``MAX_SYSTEM_LINKS``
    links is refused like any other link.
    """
    try:
        target = os.readlink(part, dir_fd=root_fd)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    parts = [p for p in PurePath(target).parts if p not in ("/", ".")]
    if not parts or ".." in parts or hops >= MAX_SYSTEM_LINKS:
        raise NotAFile(f"{name} is a symbolic link", link=True)
    return parts


def _expect_kind(name: str, mode: int, last: bool) -> None:
    """A path's last part must be a regular file, every other part a real folder."""
    if not (stat.S_ISREG if last else stat.S_ISDIR)(mode):
        wanted = "a file" if last else "a folder"
        raise NotAFile(f"{name} is {describe(mode)}, not {wanted}", stat.S_ISLNK(mode))


def _read_beneath_by_path(root: Path, parts: Sequence[str], shown: str | None) -> bytes:
    """``read_beneath`` where folders cannot be walked by descriptor (Windows).

    Each component is checked with ``lstat`` by path, then the file is opened and
    checked again with ``fstat``. A link swapped in between the check and the
    open is not caught: on a student's own machine that takes someone else
    writing in the student's folder.
    """
    walked = root
    name = str(root)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        walked = walked / part
        name = shown if last and shown is not None else _shown_path(root, walked)
        try:
            mode = os.lstat(walked).st_mode
        except OSError as exc:
            raise _unreadable(name, exc) from None
        _expect_kind(name, mode, last)
    try:
        fd = os.open(walked, _FILE_FLAGS)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    return _read_fd(fd, name, size_limit(parts[-1]))


def describe(mode: int) -> str:
    """What a file of this mode is, in words, for a refusal message."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def _shown_path(root: Path, path: Path) -> str:
    """A path as the caller gave it (``read_file``), else relative to the batch folder."""
    if root == Path(".") or str(root) == root.anchor:
        return path.as_posix()
    return path.relative_to(root).as_posix()


def _unreadable(name: str, exc: OSError) -> NotAFile:
    if exc.errno == errno.ELOOP:
        return NotAFile(f"{name} is a symbolic link", link=True)
    if exc.errno == errno.ENOTDIR:
        return NotAFile(f"{name} is not a folder")
    return NotAFile(f"{name} cannot be read: {exc.strerror or exc}")


def _read_fd(fd: int, name: str, limit: int) -> bytes:
    """Read a just-opened file (closing it): refused unless regular and within ``limit``."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(f"{name} is {describe(info.st_mode)}, not a file")
        if info.st_size > limit:
            raise Refused(_too_large(name, info.st_size, limit))
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise Refused(_too_large(name, total, limit, growing=True))
        return b"".join(chunks)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    finally:
        os.close(fd)


def _too_large(name: str, size: int, limit: int, growing: bool = False) -> str:
    more = "more than " if growing else ""
    return f"{name} is {more}{_mib(size)}; the limit is {_mib(limit)}"


def _mib(size: int) -> str:
    if size < 1 << 20:
        return f"{size:,} bytes"
    return f"{size / (1 << 20):.1f} MiB" if size < (10 << 20) else f"{size >> 20} MiB"


_NOTEBOOK_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*\{")  # a BOM, then JSON
NOTEBOOK_AS_PY = (
    "this .py file holds a Jupyter notebook (its JSON), so it was graded as a notebook: "
    "name it .ipynb, or export it from Jupyter as a Python script"
)
PY_AS_NOTEBOOK = (
    "this .ipynb file holds Python source, not a notebook's JSON, so it was graded as a "
    ".py module: name it .py"
)
UTF16 = (
    "the file is saved as UTF-16 (graded anyway), but Python reads only UTF-8 source: "
    "save it as UTF-8"
)


def _decode(data: bytes, notes: list[str]) -> str:
    """The text of a file, as Python would read it, or a ``LoadError`` saying how to save it.

    UTF-8 (with or without a BOM) or the encoding a ``# -*- coding: … -*-`` line
    declares, as Python reads source; UTF-16 with a BOM too (what Windows
    Notepad and PowerShell's ``>`` save), with a note.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" not in text:
            notes.append(UTF16)
            return _not_empty(text)
    if b"\x00" in data:
        raise LoadError("this is a binary file, not Python source")
    encoding = _declared_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        declared = "" if encoding == "utf-8-sig" else f" {encoding}, as its coding line says"
        raise LoadError(
            f"the file is not valid{declared or ' UTF-8'} (byte {exc.start}, line {line}); "
            "save it as UTF-8"
        ) from None
    return _not_empty(text)


# The codecs a coding line may name: text encodings that decode in linear time (not
# punycode or idna, which are quadratic, nor rot13 or zlib, which are not text).
_CODING_FAMILIES = (
    "iso8859",
    "latin",
    "cp",
    "mac",
    "ascii",
    "koi8",
    "euc",
    "shift_jis",
    "gb",
    "big5",
)


def _declared_encoding(data: bytes) -> str:
    """The encoding a PEP 263 coding line declares, else UTF-8 (a BOM skipped)."""
    if b"coding" not in data[:1024]:
        return "utf-8-sig"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        name = codecs.lookup(encoding).name
    except (SyntaxError, LookupError):  # an unknown encoding, or one contradicting a BOM
        return "utf-8-sig"
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8-sig"
    if not name.startswith(_CODING_FAMILIES):
        raise LoadError(
            f"the file's coding line names {name[:40]}, which the grader does not read; "
            "save it as UTF-8 and drop the coding line"
        )
    return name


def _not_empty(text: str) -> str:
    if not text.strip():
        raise LoadError("the file is empty")
    return text


def _read_notebook(data: bytes, notes: list[str] | None = None) -> Source:
    """The code cells of a notebook; a notebook that bends the format is still graded.

    Only JSON that is not a notebook at all is refused: a file saved by another
    tool with, say, a missing cell id or odd metadata still has its code read,
    with a note, rather than costing the student every point. The work is
    bounded before anything is built: the raw bytes are counted for cells and
    JSON values, plain ``json.loads`` parses, and nbformat is needed only to
    validate (bounded by the cell count) and to convert old v3 notebooks.
    """
    cells_seen = data.count(b'"cell_type"')
    if cells_seen > MAX_CELLS:
        raise LoadError(_too_many_cells(cells_seen))
    items = data.count(b",") + data.count(b"{") + data.count(b"[")
    if items > MAX_JSON_ITEMS:
        raise LoadError(
            f"the notebook holds about {items:,} JSON values; the limit is {MAX_JSON_ITEMS:,}: "
            "clear its outputs and submit it again"
        )
    notes = list(notes or ())
    text = _decode(data, notes)
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        start = text.lstrip()[:1]
        if start == "<":
            raise LoadError(
                "this is a web page (HTML), not a Jupyter notebook: hand in the .ipynb file "
                "that Jupyter saves, not an HTML export or a downloaded page"
            ) from None
        if start not in ("{", "["):
            return Source("submission.py", [text], False, [*notes, PY_AS_NOTEBOOK])
        raise LoadError(f"this is not a valid Jupyter notebook: {str(exc)[:200]}") from None
    if not isinstance(nb, dict):
        raise LoadError("this is not a valid Jupyter notebook: it is not a JSON object")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns on stderr about missing ids etc.
        nb = _as_version_4(nb)
        raw_cells = nb.get("cells")
        if not isinstance(raw_cells, list):
            raise LoadError("this is not a valid Jupyter notebook: it has no list of cells")
        if len(raw_cells) > MAX_CELLS:
            raise LoadError(_too_many_cells(len(raw_cells)))
        import nbformat

        try:
            nbformat.validate(nb)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            notes.append(f"the notebook bends the notebook format ({first[:120]}); graded anyway")
    if not raw_cells:
        raise LoadError(
            "the notebook is empty (it has no cells): was it saved? Save it in Jupyter "
            "(Ctrl+S) and hand in the saved file"
        )
    cells: list[str] = []
    numbers: list[int] = []
    counts: list[int] = []
    markdown_defs: list[tuple[int, list[str]]] = []
    for index, cell in enumerate(raw_cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            names = _defined_in_markdown(cell) if len(markdown_defs) < 10 else []
            if names:
                markdown_defs.append((index, names))
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        if isinstance(raw, list) and all(isinstance(part, str) for part in raw):
            raw = "".join(raw)
        if not isinstance(raw, str):
            continue
        source, note = strip_ipython(raw)
        if note:
            notes.append(f"cell {index + 1}: {note}")
        cells.append(source)
        numbers.append(index + 1)
        count = cell.get("execution_count")
        if type(count) is int:
            counts.append(count)
    code = "\n".join(cells)
    in_code = set(_DEF.findall(code)) if markdown_defs else set()
    stranded = []
    for index, names in markdown_defs:
        lost = [n for n in names if n not in in_code]
        if lost:
            shown = ", ".join(f"`def {n}`" for n in lost[:3]) + (", …" if len(lost) > 3 else "")
            stranded.append(
                f"cell {index + 1} is a Markdown cell holding Python ({shown}), so it does "
                "not run: change its type to Code"
            )
    if not code.strip():
        empty = (
            "the notebook's code cells are empty: was it saved after the code was written?"
            if cells
            else "the notebook has no code cells"
        )
        raise LoadError("; ".join([empty, *stranded[:3]]))
    out_of_order = any(a > b for a, b in itertools.pairwise(counts))
    return Source("submission.ipynb", cells, True, notes + stranded[:10], numbers, out_of_order)


_DEF = re.compile(r"^\s*def\s+([^\W\d]\w*)\s*\(", re.M)


def _defined_in_markdown(cell: dict) -> list[str]:
    """The functions a Markdown cell defines in Python, as a cell of code typed by mistake."""
    raw = cell.get("source", "")
    if isinstance(raw, list) and all(isinstance(part, str) for part in raw):
        raw = "".join(raw)
    if not isinstance(raw, str) or "def" not in raw:
        return []
    return _DEF.findall(raw)[:20]


def _as_version_4(nb: dict) -> dict:
    """A v4 notebook as it is; an older one converted by nbformat (its cells are bounded first)."""
    major = nb.get("nbformat", 4)
    if isinstance(major, int) and not isinstance(major, bool) and major >= 4:
        return nb
    worksheets = nb.get("worksheets")
    if isinstance(worksheets, list):
        count = sum(len(w.get("cells", ())) for w in worksheets if isinstance(w, dict))
        if count > MAX_CELLS:
            raise LoadError(_too_many_cells(count))
    import nbformat

    try:
        converted = nbformat.convert(nbformat.from_dict(nb), 4)
    except Exception as exc:  # nbformat raises assorted errors for odd JSON
        raise LoadError(f"this is not a valid Jupyter notebook ({type(exc).__name__})") from None
    return converted if isinstance(converted, dict) else {}


def _too_many_cells(count: int) -> str:
    return f"the notebook has {count:,} cells; the limit is {MAX_CELLS:,}"


# What the scanner below looks for in code, and in a string closed by each delimiter.
_CODE_TOKEN = re.compile(r"#|'''|\"\"\"|'|\"|[(\[{]|[)\]}]|\\$")
_STRING_END = {q: re.compile(r"\\(.|$)|" + re.escape(q)) for q in ("'", '"', "'''", '"""')}
# ``x = %timeit -o f()`` or ``a, b = !ls``: IPython's assignment from a magic or a shell line.
_MAGIC_ASSIGN = re.compile(r"(?P<target>[^\W\d]\w*(?:\s*[.,]\s*[^\W\d]\w*)*)\s*=\s*[%!]")


def strip_ipython(source: str) -> tuple[str, str | None]:
    """Blank IPython-only lines, keeping line numbers; skip cells of non-Python magics.

    IPython's own rule decides what is IPython syntax: only a line that starts a
    statement can be a magic (``%``), a shell line (``!``) or a help request
    (``obj?``), never a line inside brackets, inside a string or after a
    backslash. So ``(a\\n != b)`` stays Python. A magic ends at the end of its
    line (and the lines it continues with a backslash); ``x = %timeit f()``
    becomes ``x = None`` so later uses of ``x`` still find a name.
    """
    lines = re.split(r"\r\n?|\n", source)
    first = lines[0].strip()
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            if magic in ("writefile", "file"):  # then `from sol import *` in a later cell
                return "", (
                    f"skipped (%%{magic} cell magic): no file is written here, so nothing can "
                    "import it; make it a plain code cell and drop the import"
                )
            return "", f"skipped (%%{magic} cell magic)"
        lines[0] = ""
    out = []
    depth, quote, continued, in_magic = 0, None, False, False
    for line in lines:
        if in_magic:  # the backslash-continued tail of a magic or shell line
            out.append("")
            in_magic = line.endswith("\\")
            continue
        if depth == 0 and quote is None and not continued:
            replaced = _ipython_line(line)
            if replaced is not None:
                out.append(replaced)
                in_magic = line.endswith("\\")
                continue
        out.append(line)
        depth, quote, continued = _scan(line, depth, quote)
    return "\n".join(out), None


def _ipython_line(line: str) -> str | None:
    """What replaces a statement-starting line if it is IPython syntax, else None."""
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith(("%", "!")):
        return indent + "pass"
    assign = _MAGIC_ASSIGN.match(stripped)
    if assign:
        target = assign["target"]
        return f"{indent}{target} = {', '.join(['None'] * (target.count(',') + 1))}"
    help_request = stripped.startswith("?") or stripped.endswith("?")
    if help_request and " " not in stripped and not stripped.startswith("#"):
        return indent + "pass"
    return None


def _scan(line: str, depth: int, quote: str | None) -> tuple[int, str | None, bool]:
    """The bracket depth, open string and backslash continuation after ``line``.

    A small scanner rather than ``tokenize``: a cell holding IPython syntax is
    not Python, and the tokenizer's behaviour on it differs between versions.
    """
    pos = 0
    while True:
        if quote is not None:
            found = _STRING_END[quote].search(line, pos)
            if found is None:  # a single-quoted string cannot span lines: stop looking for it
                return depth, (quote if len(quote) == 3 else None), False
            pos = found.end()
            if found.group() == "\\":  # a backslash at the end of the line
                return depth, quote, True
            if found.group() == quote:
                quote = None
            continue
        found = _CODE_TOKEN.search(line, pos)
        if found is None:
            return depth, None, False
        token, pos = found.group(), found.end()
        if token == "#":
            return depth, None, False
        if token == "\\":
            return depth, None, True
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth = max(0, depth - 1)
        else:
            quote = token
