"""Stand-in `sbatch`, `srun`, `sacct` and `scancel` (Python scripts written onto PATH by
`install`) for tests that drive the Slurm executor without Slurm: job state lives in files under
$FAKE_SLURM_DIR. sbatch keeps a copy of each script (<job>.sbatch), runs each array task in its
own session and notes its process group (<task>.pgid) for scancel, which logs its argv and, as
Slurm does, sends SIGTERM to every process of each named job (an array id: all its tasks),
marking them CANCELLED."""
import os
import stat
import sys
from pathlib import Path

SRUN = r'''
import glob, os, subprocess, sys, time
args, files = sys.argv[1:], {}
while args and args[0].startswith("-"):
    flag = args.pop(0)
    if flag in ("--output", "--error"):
        files[flag] = args.pop(0)
def expand(p):
    e = os.environ
    return (p.replace("%A", e.get("SLURM_ARRAY_JOB_ID", "")).replace("%a", e.get("SLURM_ARRAY_TASK_ID", ""))
             .replace("%j", e["SLURM_JOB_ID"]).replace("%t", "0"))
# A real job waits in the queue; this one starts at once, and may start before submitit has put
# a job array's task folder and pickle in place (seen on a loaded machine): wait for them.
folders = {os.path.dirname(expand(v)) for v in files.values()}
deadline = time.time() + 60
while time.time() < deadline and not all(glob.glob(os.path.join(f, "*_submitted.pkl"))
                                         for f in folders):
    time.sleep(0.1)
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

SBATCH = r'''
import os, re, subprocess, sys, pathlib
state = pathlib.Path(os.environ["FAKE_SLURM_DIR"])
script = pathlib.Path(sys.argv[-1])
text = script.read_text()
counter = state / "next_id"
jid = int(counter.read_text()) if counter.exists() else 1000
counter.write_text(str(jid + 1))
(state / f"{jid}.sbatch").write_text(text)  # what was submitted, for tests to read
m = re.search(r"^#SBATCH --array=(\d+)-(\d+)", text, re.M)
for t in (range(int(m[1]), int(m[2]) + 1) if m else [None]):
    key = str(jid) if t is None else f"{jid}_{t}"
    env = dict(os.environ, SLURM_JOB_ID=str(jid), SLURM_NTASKS="1", SLURM_JOB_NUM_NODES="1",
               SLURM_NODEID="0", SLURM_PROCID="0", SLURM_LOCALID="0",
               SLURM_JOB_NODELIST="localhost")
    if t is not None:
        env.update(SLURM_ARRAY_JOB_ID=str(jid), SLURM_ARRAY_TASK_ID=str(t))
    (state / f"{key}.state").write_text("RUNNING")
    done = f"echo COMPLETED > {state}/{key}.state || echo FAILED > {state}/{key}.state"
    with open(state / f"{key}.batch.log", "w") as log:  # the batch script's own output
        p = subprocess.Popen(["bash", "-c", f"bash {script} && {done}"], env=env,
                             start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    (state / f"{key}.pgid").write_text(str(p.pid))
print(f"Submitted batch job {jid}")
'''

SCANCEL = r'''
import os, signal, sys, pathlib
state = pathlib.Path(os.environ["FAKE_SLURM_DIR"])
with open(state / "scancel.log", "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")
for jid in sys.argv[1:]:
    for pg in list(state.glob(f"{jid}.pgid")) + list(state.glob(f"{jid}_*.pgid")):
        (state / f"{pg.stem}.state").write_text("CANCELLED")
        try:
            os.killpg(int(pg.read_text()), signal.SIGTERM)
        except ProcessLookupError:
            pass
'''


def install(root: Path) -> tuple[Path, dict[str, str]]:
    """The four stand-ins under root/bin; returns the state folder and the env that uses them."""
    bin_dir, state = root / "bin", root / "slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in (("sbatch", SBATCH), ("srun", SRUN), ("sacct", SACCT),
                       ("scancel", SCANCEL)):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return state, {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SLURM_DIR": str(state)}
