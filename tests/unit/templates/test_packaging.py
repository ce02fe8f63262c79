"""package_lambda.py: contents and byte-for-byte reproducibility."""

import zipfile
from pathlib import Path

import pytest

import package_lambda
from package_lambda import FUNCTIONS, PackagingError, build_zip, main

ROOT = Path(package_lambda.__file__).resolve().parent


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def fake_tree(tmp_path):
    """A small lambda/ tree: two handlers, a legacy one, shared/."""
    root = tmp_path / "lambda"
    _write(root / "execution-handler" / "index.py", "E = 1\n")
    _write(root / "execution-handler" / "wave_start.py", "W = 1\n")
    _write(root / "query-handler" / "index.py", "Q = 1\n")
    _write(root / "query-handler" / "wave_poll.py", "P = 1\n")
    _write(root / "query-handler" / "__pycache__" / "x.cpython-311.pyc", "")
    _write(root / "orchestration-stepfunctions" / "index.py", "L = 1\n")
    _write(root / "orchestration-stepfunctions" / "legacy.py", "X = 1\n")
    _write(root / "shared" / "__init__.py", "")
    _write(root / "shared" / "config.py", "C = 1\n")
    _write(root / "shared" / "__pycache__" / "config.cpython-311.pyc", "")
    return root


def _names(path: Path):
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_zip_holds_handler_modules_and_shared(fake_tree, tmp_path):
    # Given a handler folder with a cache directory in the fake tree
    # When its zip is built
    target = build_zip("query-handler", tmp_path / "out", fake_tree)
    # Then it holds its modules at the root and shared/ as a package, sorted
    assert _names(target) == [
        "index.py",
        "shared/__init__.py",
        "shared/config.py",
        "wave_poll.py",
    ]
    with zipfile.ZipFile(target) as archive:
        for info in archive.infolist():
            assert info.date_time == package_lambda.FIXED_DATE
            assert info.external_attr >> 16 == 0o644


def test_same_input_gives_same_bytes(fake_tree, tmp_path):
    # Given two builds of the same tree into different directories
    first = build_zip("execution-handler", tmp_path / "a", fake_tree)
    second = build_zip("execution-handler", tmp_path / "b", fake_tree)
    # Then the archives are byte-for-byte identical
    assert first.read_bytes() == second.read_bytes()
    # And a changed module changes the archive
    _write(fake_tree / "execution-handler" / "wave_start.py", "W = 2\n")
    third = build_zip("execution-handler", tmp_path / "c", fake_tree)
    assert third.read_bytes() != first.read_bytes()


def test_legacy_orchestration_bundles_handler_modules(fake_tree, tmp_path):
    # Given the legacy orchestration folder (it runs DRS code in-process)
    # When its zip is built
    target = build_zip("orchestration-stepfunctions", tmp_path, fake_tree)
    # Then it has its own index and the handlers' non-index modules
    assert _names(target) == [
        "index.py",
        "legacy.py",
        "shared/__init__.py",
        "shared/config.py",
        "wave_poll.py",
        "wave_start.py",
    ]
    with zipfile.ZipFile(target) as archive:
        assert archive.read("index.py") == b"L = 1\n"


def test_duplicate_module_names_are_refused(fake_tree, tmp_path):
    # Given a module name present in two bundled folders
    _write(fake_tree / "orchestration-stepfunctions" / "wave_poll.py", "")
    # When the legacy zip is built / Then packaging refuses it
    with pytest.raises(PackagingError, match="wave_poll.py"):
        build_zip("orchestration-stepfunctions", tmp_path, fake_tree)


def test_missing_folder_or_handler_is_an_error(fake_tree, tmp_path):
    # Given a folder without index.py, and a folder that does not exist
    (fake_tree / "execution-handler" / "index.py").unlink()
    # Then both are refused with a clear message
    with pytest.raises(PackagingError, match="index.py"):
        build_zip("execution-handler", tmp_path, fake_tree)
    with pytest.raises(PackagingError, match="missing function folder"):
        build_zip("notification-formatter", tmp_path, fake_tree)


def test_cli_exits_non_zero_on_missing_folder(fake_tree, tmp_path, capsys):
    # Given the command line pointed at the fake tree (no formatter folder)
    common = ["--output-dir", str(tmp_path), "--lambda-dir", str(fake_tree)]
    # When one existing and one missing function are built
    ok = main(["--function", "query-handler"] + common)
    bad = main(["--function", "notification-formatter"] + common)
    # Then the first succeeds, the second exits 1 naming the folder
    captured = capsys.readouterr()
    assert ok == 0 and "built" in captured.out
    assert (tmp_path / "query-handler.zip").is_file()
    assert bad == 1
    assert "notification-formatter" in captured.err


@pytest.mark.parametrize("folder", sorted(FUNCTIONS))
def test_real_function_zip_is_reproducible(folder, tmp_path):
    # Given a real function folder (skipped until its engineer creates it)
    if not (ROOT / "lambda" / folder / "index.py").is_file():
        pytest.skip(f"lambda/{folder} is not written yet")
    # When it is built twice
    first = build_zip(folder, tmp_path / "a")
    second = build_zip(folder, tmp_path / "b")
    # Then the bytes are identical and nothing cached is inside
    assert first.read_bytes() == second.read_bytes()
    assert not [n for n in _names(first) if "__pycache__" in n]
    assert "shared/__init__.py" in _names(first)
