"""Stand-in `srun` and `sacct` (Python scripts written onto PATH) for tests that drive the Slurm
executor without Slurm: job state lives in files under $FAKE_SLURM_DIR, written by the stand-in
sbatch each test file defines (tests/executors/test_executors_slurm.py, tests/executors/test_executor_signals.py)."""

SRUN = r'''
import os, subprocess, sys
args, files = sys.argv[1:], {}
while args and args[0].startswith("-"):
    flag = args.pop(0)
    if flag in ("--output", "--error"):
        files[flag] = args.pop(0)
def expand(p):
    e = os.environ
    return (p.replace("%A", e.get("SLURM_ARRAY_JOB_ID", "")).replace("%a", e.get("SLURM_ARRAY_TASK_ID", ""))
             .replace("%j", e["SLURM_JOB_ID"]).replace("%t", "0"))
outs = {k: open(expand(v), "a") for k, v in files.items()}
sys.exit(subprocess.call(args, stdout=outs.get("--output"), stderr=outs.get("--error")))
'''

SACCT = r'''
import os, sys, pathlib
state = pathlib.Path(os.environ["FAKE_SLURM_DIR"])
ids = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "-j"]
print("JobID|State|NodeList")
for jid in ids:
    for f in sorted(state.glob(f"{jid}*.state")):
        print(f"{f.stem}|{f.read_text().strip()}|localhost")
'''
