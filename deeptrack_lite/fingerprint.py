"""What a stored result was computed by: a fingerprint of the package code and weights one module depends on.

A tracking result on disk can be reused only if the code that would compute it again is the same. The
package version alone does not say so (it changes at releases, the code at every edit, including a
student's), so :func:`code_fingerprint` hashes the code of a module and of every ``deeptrack_lite``
module it imports, directly or not (found by reading their ``import`` statements; packages' ``__init__``
files, which only gather names, are not followed), plus the shipped weight files when one of those modules
reads them (it uses ``fileio.WEIGHTS_DIR``). Editing MDNet's tracker then makes MDNet's stored runs stale and
leaves KCF's valid, and a new weight file leaves the trackers that load none valid.

"Code" is the syntax tree without docstrings: a comment, a docstring or a line break changes no result,
so it does not make stored runs stale; any change to a statement, a name or a constant does.
"""
from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "deeptrack_lite"
ROOT = Path(__file__).resolve().parent


def _source(module: str) -> Path | None:
    """The file of a ``deeptrack_lite`` module; None for other modules (a tracker defined in a notebook or a
    test: its code is not fingerprinted)."""
    head, *rest = module.split(".")
    if head != PACKAGE or not rest:
        return None
    rel = Path(*rest)
    for path in (ROOT / rel / "__init__.py", ROOT / rel.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imports(module: str, path: Path) -> set[str]:
    """The ``deeptrack_lite`` modules ``module`` (at ``path``) imports, absolute and relative."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] != PACKAGE:
                continue
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)  # `from . import x` may name a module
    # packages' __init__ files only gather names for users (deeptrack_lite's imports everything): following
    # them would make every module depend on the whole package
    return {m for m in found if _source(m) is not None and _source(m).name != "__init__.py"}


@lru_cache(maxsize=None)
def module_closure(module: str) -> tuple[str, ...]:
    """``module`` and every package module it depends on through imports, sorted."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        path = _source(m)
        if m in seen or path is None:
            continue
        seen.add(m)
        todo += sorted(_imports(m, path))
    return tuple(sorted(seen))


def code_of(source: str) -> str:
    """The syntax tree of Python ``source`` with docstrings removed, as text: what :func:`code_fingerprint`
    hashes (comments, docstrings, blank lines and line endings drop out; positions are not part of it)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@lru_cache(maxsize=None)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    data = Path(path).read_bytes()
    if path.endswith(".py"):
        data = code_of(data.decode("utf-8")).encode()
    return hashlib.sha1(data).hexdigest()


def _reads_weights(path: Path) -> bool:
    """Whether a module reads :data:`deeptrack_lite.fileio.WEIGHTS_DIR` (uses the name, not only defines it)."""
    st = path.stat()
    return _file_reads_weights(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=None)
def _file_reads_weights(path: str, mtime_ns: int, size: int) -> bool:
    # keyed like _file_digest: parsing every module again for every job cost more than some jobs' tracking
    return any(isinstance(n, ast.Name) and n.id == "WEIGHTS_DIR" and isinstance(n.ctx, ast.Load)
               for n in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))))


def code_fingerprint(module: str) -> str:
    """SHA-1 (first 16 hex digits) of the code of :func:`module_closure`, and of the package's weight files when
    a module of it reads them."""
    h = hashlib.sha1()
    sources = [_source(m) for m in module_closure(module)]
    files = sources + (sorted((ROOT / "weights").glob("*.pt")) if any(_reads_weights(p) for p in sources) else [])
    for path in files:
        st = path.stat()
        h.update(f"{path.relative_to(ROOT).as_posix()}:{_file_digest(str(path), st.st_mtime_ns, st.st_size)}\n".encode())
    return h.hexdigest()[:16]


__all__ = ["code_fingerprint", "code_of", "module_closure"]
