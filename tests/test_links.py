"""The repository is named in one place, pyproject.toml's [project.urls] Repository; `python3 make.py links` writes it
into the README's badges and every notebook's Colab install line, and here they must agree with it."""
import shutil
from pathlib import Path

from conftest import load_make_script as _make

ROOT = Path(__file__).resolve().parents[1]


def test_every_badge_and_install_line_names_the_repository_of_pyproject():
    make = _make()
    url, slug = make.repository()
    try:  # the key where packaging tools read it (tomllib: Python 3.11 and newer)
        import tomllib
    except ImportError:
        tomllib = None
    if tomllib is not None:
        assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"] == url
    assert make.linked_files() == {}, "run: python3 make.py links"
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and all(f"git+{url}" in p.read_text() for p in notebooks)
    readme = (ROOT / "README.md").read_text()
    assert f"mybinder.org/v2/gh/{slug}/main" in readme and f"colab.research.google.com/github/{slug}/blob/main" in readme


def test_a_fork_changes_one_line_and_the_links_follow(tmp_path):
    make = _make()
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    old, slug = make.repository(tmp_path)
    toml = tmp_path / "pyproject.toml"
    toml.write_text(toml.read_text().replace(f'Repository = "{old}"', 'Repository = "https://github.com/a-teacher/my_course"'))
    changed = make.linked_files(tmp_path)
    assert set(changed) == {tmp_path / "README.md", *(tmp_path / "notebooks").glob("*.ipynb")}
    for path, text in changed.items():
        assert slug not in text and ("a-teacher/my_course" in text)
        if path.suffix == ".ipynb":  # the notebook stays valid JSON, only the URL differs
            import json
            before = path.read_text()
            assert json.loads(text) and len(text) - len(before) == text.count("a-teacher/my_course") * (
                len("a-teacher/my_course") - len(slug))
