"""The official checker runs sandboxed: a scrubbed environment (none of the worker's secrets), its own
scratch directory, and limits on CPU time, memory and file size."""

import json
import os
import subprocess
import sys

import pytest

from submissions import checks

PROBE = """
import json, os, resource
print(json.dumps({
    "env": dict(os.environ), "cwd": os.getcwd(),
    "cpu": resource.getrlimit(resource.RLIMIT_CPU), "mem": resource.getrlimit(resource.RLIMIT_AS),
    "fsize": resource.getrlimit(resource.RLIMIT_FSIZE), "core": resource.getrlimit(resource.RLIMIT_CORE),
}))
"""


def _run(tmp_path, code: str, limits: checks.SandboxLimits) -> subprocess.CompletedProcess:
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = checks.sandbox_popen([sys.executable, "-c", code], scratch=tmp_path, limits=limits, stdout=o, stderr=e)
        proc.wait(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.read_text(), err.read_text())


def test_the_checker_sees_a_scrubbed_environment_its_scratch_and_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "the-portal-secret")
    monkeypatch.setenv("DATABASE_URL", "postgres://portal:secret@db/portal")
    monkeypatch.setenv("EMAIL_URL", "smtp://user:secret@mail:587")
    limits = checks.SandboxLimits(cpu_seconds=30, memory_bytes=2 * 1024**3, file_bytes=8 * 1024**2)
    done = _run(tmp_path, PROBE, limits)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert not {"SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"} & set(seen["env"])
    assert not any("secret" in v for v in seen["env"].values())
    assert os.path.realpath(seen["cwd"]) == os.path.realpath(tmp_path)
    assert seen["env"]["HOME"] == seen["env"]["TMPDIR"] == str(tmp_path)
    assert seen["cpu"][0] == 30 and seen["mem"] == [2 * 1024**3] * 2 and seen["fsize"] == [8 * 1024**2] * 2
    assert seen["core"] == [0, 0]


def test_a_checker_writing_past_the_file_size_limit_is_stopped(tmp_path):
    limits = checks.SandboxLimits(cpu_seconds=30, file_bytes=1024 * 1024)
    done = _run(tmp_path, "open('big', 'wb').write(b'x' * (4 * 1024 * 1024))", limits)
    assert done.returncode != 0 and "File too large" in done.stderr
    assert (tmp_path / "big").stat().st_size <= 1024 * 1024


def test_a_checker_using_too_much_memory_is_stopped(tmp_path):
    limits = checks.SandboxLimits(cpu_seconds=30, memory_bytes=512 * 1024**2)
    done = _run(tmp_path, "x = bytearray(1024 * 1024**2)", limits)
    assert done.returncode != 0 and "MemoryError" in done.stderr


@pytest.mark.realdata
def test_official_check_still_passes_a_real_package_in_the_sandbox(mlperf_dir):
    root = mlperf_dir / "training_results_v5.1" / "Krai"
    outcome = checks.official_check(root, "training", "5.1.0", timeout=300)
    assert (outcome.state, outcome.verdict) == ("passed", "pass"), outcome
