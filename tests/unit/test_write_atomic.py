"""The one atomic writer keeps a file's mode, and gives a new file the usual one (not 0600)."""

from __future__ import annotations

import os

from evals_core.files import write_atomic


def test_a_new_file_gets_the_usual_mode_and_an_old_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        new = tmp_path / "baseline.json"
        write_atomic(new, "{}")
        assert new.stat().st_mode & 0o777 == 0o644
        new.chmod(0o600)  # a file someone made private stays private
        write_atomic(new, "{}\n")
        assert new.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)
