"""Ctrl-C is never ignored and never a traceback: an interrupted import says what it kept and how to finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlalchemy import func, select


def till(tmp_path, n=12):
    lines = ["receipt_id,timestamp,customer,amount"]
    lines += [f"R-{i:03d},2026-06-01T{8 + i // 6:02d}:{(i % 6) * 10:02d}:00,600010000{i:04d},{10 + i}.00"
              for i in range(n)]
    path = tmp_path / "till.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def purchases(database) -> int:
    from loyaltycli.store.models import Purchase

    with database.session(write=False) as s:
        return s.execute(select(func.count()).select_from(Purchase)).scalar_one()


def test_interrupted_import_says_what_was_kept_and_the_rerun_finishes(cli, database, tmp_path, monkeypatch):
    from loyaltycli.services import importer

    path = till(tmp_path)
    original = importer.Importer._flush
    calls = []

    def flush_then_ctrl_c(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(importer.Importer, "_flush", flush_then_ctrl_c)
    result = cli("import", path, "--enroll-unknown", "--batch-rows", "2")
    assert result.exit_code == 130
    kept = purchases(database)
    assert 0 < kept < 12
    assert result.stderr.strip() == (
        f"error: interrupted; {kept} receipts of {path} were kept (committed in whole batches; the batch in "
        "progress was rolled back). Run the same command again to finish the job: it skips the receipts "
        "already kept")
    assert "Traceback" not in result.stderr + result.stdout
    monkeypatch.setattr(importer.Importer, "_flush", original)
    again = cli("import", path, "--enroll-unknown", "--batch-rows", "2", "--json")
    assert again.exit_code == 0, again.stderr
    assert purchases(database) == 12


def test_ctrl_c_before_anything_was_kept(cli, database, tmp_path, monkeypatch):
    from loyaltycli.services import importer

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importer.Importer, "_flush", interrupted)
    path = till(tmp_path)
    result = cli("import", path, "--enroll-unknown")
    assert result.exit_code == 130
    assert result.stderr.strip() == (f"error: interrupted; nothing of {path} was imported yet (the batch in "
                                     "progress was rolled back)")
    assert purchases(database) == 0


def test_sigint_to_a_real_process_is_one_line(db_path, tmp_path):
    """A real Ctrl-C (SIGINT) at any moment of a command: one line, exit 130, never a traceback."""
    env = dict(os.environ)
    # Ctrl-C as a terminal sends it: a suite started in the background (`.ci/run &`) hands its children
    # SIGINT ignored, and Python then leaves it ignored
    proc = subprocess.Popen([sys.executable, "-m", "loyaltycli", "counter"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    proc.stdin.write(b"balance nobody\n")
    proc.stdin.flush()
    first = proc.stderr.readline()  # the first line has run; the counter waits for the next one
    assert first.startswith(b"line 1: error: unknown customer"), first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err, err
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.decode().strip().startswith("error: interrupted"), err


def test_ctrl_c_during_a_piped_counter_line_stops_the_script(monkeypatch, capsys):
    import io

    from loyaltycli.cli import counter, dispatch

    ran = []

    def run_line(line, capture=False, base_args=()):
        ran.append(line.strip())
        return (130, "") if line.startswith("slow") else (0, "")

    monkeypatch.setattr(dispatch, "run_line", run_line)
    code = counter.run_lines(io.StringIO("balance C1\nslow\nbalance C2\n"), [])
    assert code == 130 and ran == ["balance C1", "slow"]
