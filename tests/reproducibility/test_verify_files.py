"""`isoloop verify` checks every file of a run folder, not only the re-run digest.

The manifest records the SHA-256 and size of each file the run wrote; an edited,
deleted or replaced artifact is named (exit 1) even though re-running still gives
the recorded digest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOG_CFG = ROOT / "configs" / "goog_sma.yaml"
# The digest of configs/goog_sma.yaml (digest version 2: the binary order layout); file
# hashes are a manifest field, not part of it.
GOLDEN = "181ef2a907cbdbd93e6110db8dcef3fdee8af1b8d2d6eb2cddefd112195f48de"
# What releases before digest version 2 published for the same config (and no
# `digest_version` in the manifest): such a folder must still verify.
GOLDEN_V1 = "ff0df1728c5bd45e33d6c7c3bea794494125302e09d1f0abca585ff5b2be2f79"
ORDER_LIST_HASH_V1 = "72cd1bd60a799994432e36d23e62c29dab974a7555789a9d48da480317f558bf"
WRITTEN = {
    "equity.csv",
    "equity.parquet",
    "events.csv",
    "events.jsonl",
    "orders.jsonl",
    "report.html",
    "trades.csv",
    "trades.parquet",
}


def isoloop(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "isoloop.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=240,
    )


def verify(run_dir: Path) -> tuple[int, dict[str, object]]:
    proc = isoloop("verify", str(run_dir), "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    proc = isoloop("backtest", str(GOOG_CFG), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["run_dir"])


@pytest.fixture
def copy(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target


def test_the_manifest_records_every_file_it_wrote_and_the_digest_is_unchanged(
    run_dir: Path,
) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["digest"] == GOLDEN
    assert manifest["digest_version"] == 2
    on_disk = {p.name for p in run_dir.iterdir()}
    assert on_disk == WRITTEN | {"manifest.json"}  # no staging marker or temp file left
    assert set(manifest["files"]) == WRITTEN
    for name, record in manifest["files"].items():
        assert record["bytes"] == (run_dir / name).stat().st_size, name
        assert len(record["sha256"]) == 64


def test_an_untouched_run_folder_verifies(run_dir: Path) -> None:
    code, outcome = verify(run_dir)
    assert code == 0, outcome
    assert outcome["ok"] is True and outcome["differences"] == []
    assert outcome["digest"] == GOLDEN


def _as_written_before_version_2(folder: Path, digest: str) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("digest_version", None)
    manifest["digest"] = digest
    manifest["order_list_hash"] = ORDER_LIST_HASH_V1
    path.write_text(json.dumps(manifest))


def test_a_folder_written_before_digest_version_2_verifies_under_its_own_hash(
    copy: Path,
) -> None:
    _as_written_before_version_2(copy, GOLDEN_V1)
    code, outcome = verify(copy)
    assert code == 0, outcome
    assert outcome["digest"] == GOLDEN_V1
    # A wrong old digest is still caught, in the old version's terms.
    _as_written_before_version_2(copy, "0" * 64)
    code, outcome = verify(copy)
    assert code == 1 and outcome["digest"] == GOLDEN_V1, outcome


def test_a_digest_version_this_release_does_not_know_is_one_error_line(copy: Path) -> None:
    path = copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["digest_version"] = 99
    path.write_text(json.dumps(manifest))
    proc = isoloop("verify", str(copy))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "digest_version 99" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def _append(name: str, text: str) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        with (folder / name).open("a", encoding="utf-8") as fh:
            fh.write(text)

    return tamper


def _edit_first_order(folder: Path) -> None:
    path = folder / "orders.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["size"] = (first.get("size") or 1) * 2
    path.write_text("\n".join([json.dumps(first, sort_keys=True), *lines[1:]]) + "\n")


def _delete(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


@pytest.mark.parametrize(
    ("name", "tamper", "word"),
    [
        ("trades.csv", _append("trades.csv", "1,2,3\n"), "changed"),
        ("equity.parquet", _delete("equity.parquet"), "missing"),
        ("orders.jsonl", _edit_first_order, "changed"),
        ("events.jsonl", _append("events.jsonl", '{"event": "forged"}\n'), "changed"),
        ("report.html", _delete("report.html"), "missing"),
    ],
)
def test_a_changed_or_deleted_file_is_named_and_verify_fails(
    copy: Path, name: str, tamper: Callable[[Path], None], word: str
) -> None:
    tamper(copy)
    code, outcome = verify(copy)
    assert code == 1
    assert outcome["ok"] is False
    # The re-run still reproduces the digest: only the tampered file is reported.
    assert outcome["digest"] == GOLDEN
    differences = outcome["differences"]
    assert isinstance(differences, list)
    assert len(differences) == 1, differences
    assert differences[0].startswith(f"{name}: {word}"), differences


def test_the_plain_output_names_each_bad_file(copy: Path) -> None:
    (copy / "trades.csv").write_text("entry,exit\n", encoding="utf-8")
    (copy / "equity.parquet").unlink()
    proc = isoloop("verify", str(copy))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert any(line.startswith("differs trades.csv: changed") for line in lines), lines
    assert any(line.startswith("differs equity.parquet: missing") for line in lines), lines


def test_a_deleted_report_written_again_by_isoloop_report_verifies(copy: Path) -> None:
    (copy / "report.html").unlink()
    proc = isoloop("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    # The report is a pure function of the run's files: the same bytes as at run time.
    assert verify(copy)[0] == 0


def test_a_manifest_pointing_outside_the_folder_is_refused_not_followed(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["../../../etc/hostname"] = {"sha256": "0" * 64, "bytes": 1}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, outcome = verify(copy)
    assert code == 1
    assert outcome["differences"] == [
        "manifest: lists a path that is not a plain file name (the manifest was edited)"
    ]
