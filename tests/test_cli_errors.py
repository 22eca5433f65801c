import os
import subprocess
import sys

import pytest


def bench(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          env=env)


@pytest.mark.parametrize("args, message", [
    (["run", "--suite", "ntu60-xsb", "--data", "synthetic"], "did you mean 'ntu60-xsub'"),
    (["run", "--methods", "stgcm", "--data", "synthetic", "--suite", "mini-xsub"], "unknown method 'stgcm'"),
    (["ablate", "vst.codebok", "--data", "synthetic"], "did you mean 'vst.codebook'"),
    (["run", "--data-root", "/nonexistent/ntu"], "does not exist"),
    (["run", "--seeds", "0,1,0", "--data", "synthetic", "--suite", "mini-xsub"],
     "seed 0 is given twice"),
])
def test_bad_input_is_one_line_without_traceback(args, message):
    out = bench(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_empty_data_root_is_refused(tmp_path):
    out = bench("run", "--data-root", str(tmp_path))
    assert out.returncode == 2 and "no NTU .skeleton files" in out.stderr
    assert "Traceback" not in out.stderr


def test_list_is_instant_and_imports_no_torch():
    code = ("import sys; from bench.cli import main; main(['list', 'methods']); "
            "main(['list', 'suites']); main(['list', 'ablations']); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"
    assert "lvlm_var" in out.stdout and "ntu60-xsub" in out.stdout and "vst.codebook" in out.stdout


def test_a_closed_pipe_ends_quietly():
    """`bench list metrics | head`: the reader has gone; no traceback, SIGPIPE's exit status."""
    read, write = os.pipe()
    os.close(read)  # the reader left before the first line
    with open(write, "wb") as stdout:
        out = subprocess.run([sys.executable, "-m", "bench", "list", "metrics"], stdout=stdout,
                             stderr=subprocess.PIPE, text=True)
    assert out.returncode == 141 and out.stderr == ""


def test_data_commands_need_a_root():
    out = bench("data", "prepare")
    assert out.returncode == 2 and "needs a data root" in out.stderr and "Traceback" not in out.stderr
