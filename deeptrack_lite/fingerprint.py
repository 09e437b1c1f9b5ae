"""What a stored result was computed by: a fingerprint of the package code and weights one module depends on.

A tracking result on disk can be reused only if the code that would compute it again is the same. The
package version alone does not say so (it changes at releases, the code at every edit, including a
student's), so :func:`code_fingerprint` hashes the source of a module and of every ``deeptrack_lite``
module it imports, directly or not (found by reading their ``import`` statements; packages' ``__init__``
files, which only gather names, are not followed), plus the shipped
weight files. Editing MDNet's tracker then makes MDNet's stored runs stale and leaves KCF's valid.
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


@lru_cache(maxsize=None)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    data = Path(path).read_bytes()
    if path.endswith(".py"):
        data = data.replace(b"\r\n", b"\n")  # a checkout with Windows line endings is the same code
    return hashlib.sha1(data).hexdigest()


def code_fingerprint(module: str) -> str:
    """SHA-1 (first 16 hex digits) of the sources of :func:`module_closure` and of the package's weight files."""
    h = hashlib.sha1()
    files = [_source(m) for m in module_closure(module)] + sorted((ROOT / "weights").glob("*.pt"))
    for path in files:
        st = path.stat()
        h.update(f"{path.relative_to(ROOT).as_posix()}:{_file_digest(str(path), st.st_mtime_ns, st.st_size)}\n".encode())
    return h.hexdigest()[:16]


__all__ = ["code_fingerprint", "module_closure"]
