"""Scale benchmark (issue 18): each stage of the main command on full-size synthetic NTU
(`bench data synth --full`), with its wall time and peak RSS.

    OMP_NUM_THREADS=1 BENCH_CACHE=/tmp/scale-cache python benchmarks/scale.py \\
        --suite ntu60-xsub,ntu120-xsub --stages rate,generate,prepare,manifest,knn --out scale
    # the training stages on all clips, their time cut (the README's rows):
    OMP_NUM_THREADS=1 BENCH_CACHE=/tmp/scale-cache python benchmarks/scale.py \
        --suite ntu120-xsub --stages vst,predict,stgcn --max-test 2000 --predict-clips 100 \
        --stgcn-clips 4000 --lvlm-set vst.epochs=1 --lvlm-set vst.vq_epochs=1 \
        --lvlm-set vst.parts=none --out scale-train

Every stage runs in a fresh subprocess (this script with --child), so its peak RSS is its own:
the parent reads the child's ru_maxrss from os.wait4, and kills a child whose RSS passes
--rss-limit-gb (reported as such) so that a stage that does not fit cannot take the machine
down. The data is read through --data-root, as a user would point bench at it.

  rate      the generator on one core: --rate-files files made (CPU time) without and with
            writing them into a temporary folder next to the cache
  generate  the whole dataset into the cache (reported as a cache hit if already there)
  prepare   the first run's data step, from an empty prepared cache: find the files, sha256 of
            every file, the split manifest (datasets.resolve_source), then parse every file
            into the padded keypoint array (datasets._prepared_arrays)
  manifest  a later run's data step: the same, with the hashes memoised and the arrays cached
  knn       datasets.load_bundle, then knn fit and predict on the test split
  stgcn     load_bundle, then ST-GCN at profile cpu for one epoch (epochs=1), fit and predict;
            --stgcn-clips N cuts the epoch to N clips by its sampler (the dataset is still built
            on every clip) and extrapolates the whole epoch's time
  vst       load_bundle, then LVLM-VAR's VST stage (stage.fit_or_load_vst), an empty VST cache
  lora      load_bundle, then LVLM-VAR fit with lvlm.steps=20 (the VST from the vst stage's
            cache: run vst first with the same --max-train)
  predict   the lora stage's fit, then predict on --predict-clips test clips; the stage's
            time and peak RSS are the prediction's (VmHWM reset after the fit)

--max-train N keeps N train clips (every k-th by name, val cut in proportion) and --max-test
M test clips for the stages that train; the table says so in its "subset" column.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("rate", "generate", "prepare", "manifest", "knn", "stgcn", "vst", "lora", "predict")
RESULT = "SCALE_RESULT "  # the child's last line: RESULT + JSON
GB = 1 << 30


# ---- parent ---------------------------------------------------------------------------------

def main() -> int:
    args = parse_args()
    if args.child:
        return child(args)
    cache = Path(args.cache).resolve()
    logs = cache / "scale-logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows = []
    for suite in args.suite.split(","):
        for stage in args.stages.split(","):
            row = run_stage(args, suite, stage, cache, logs)
            rows.append(row)
            print(format_row(row), flush=True)
    write_out(args, rows)
    return 0 if all(r["status"] in ("ok", "cached") for r in rows) else 1


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", default="ntu60-xsub", help="comma-separated: ntu60-xsub, "
                   "ntu120-xsub, ... (default: ntu60-xsub)")
    p.add_argument("--stages", default="rate,generate,prepare,manifest,knn",
                   help=f"comma-separated, in order, of {','.join(STAGES)}")
    p.add_argument("--out", help="write the table: PATH.json, PATH.md, or both for a PATH "
                   "without either suffix")
    p.add_argument("--cache", default=os.environ.get("BENCH_CACHE", "/tmp/bench-scale-cache"),
                   help="BENCH_CACHE for every stage (data, prepared arrays, VST)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes for generate and prepare (default: all cores)")
    p.add_argument("--max-train", type=int, default=0, help="train clips for the training "
                   "stages (0: all)")
    p.add_argument("--max-test", type=int, default=0, help="test clips for knn and stgcn "
                   "(0: all)")
    p.add_argument("--predict-clips", type=int, default=1000)
    p.add_argument("--stgcn-clips", type=int, default=0,
                   help="stgcn: the training epoch cut to this many clips by its sampler (the "
                   "dataset still built on every train clip; the full epoch's time extrapolated "
                   "from the rate; 0: the whole epoch)")
    p.add_argument("--rate-files", type=int, default=2000)
    p.add_argument("--lvlm-profile", default="cpu", help="LVLM-VAR's profile (default: cpu)")
    p.add_argument("--lvlm-set", action="append", default=[], metavar="KEY=VALUE",
                   help="an LVLM-VAR config override for the vst, lora and predict stages "
                   "(repeatable; e.g. vst.epochs=1 to bound the VST's time at full size: "
                   "memory does not depend on the number of epochs); the table says so")
    p.add_argument("--rss-limit-gb", type=float, default=10.0,
                   help="kill a stage whose RSS passes this (default 10)")
    p.add_argument("--anon-limit-gb", type=float, default=8.0,
                   help="kill a stage whose anonymous RSS passes this (default 8)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per stage")
    p.add_argument("--child", choices=STAGES, help=argparse.SUPPRESS)
    args = p.parse_args()
    for stage in args.stages.split(","):
        if stage not in STAGES:
            p.error(f"unknown stage {stage!r}; expected some of {','.join(STAGES)}")
    for kv in args.lvlm_set:
        if "=" not in kv:
            p.error(f"--lvlm-set {kv!r}: expected KEY=VALUE")
    return args


def lvlm_overrides(args) -> dict:
    from bench.ablations import parse_value

    return dict((k, parse_value(v)) for k, v in (kv.split("=", 1) for kv in args.lvlm_set))


def _lvlm_note(args) -> str:
    sets = ", ".join(args.lvlm_set)
    return f"profile {args.lvlm_profile}" + (f" with {sets}" if sets else "")


def run_stage(args, suite: str, stage: str, cache: Path, logs: Path) -> dict:
    """One stage in a fresh process: its wall time, its peak RSS (wait4), its own report."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", stage, "--suite", suite,
           "--cache", str(cache), "--workers", str(args.workers),
           "--max-train", str(args.max_train), "--max-test", str(args.max_test),
           "--predict-clips", str(args.predict_clips), "--rate-files", str(args.rate_files),
           "--stgcn-clips", str(args.stgcn_clips),
           "--lvlm-profile", args.lvlm_profile]
    cmd += [f"--lvlm-set={kv}" for kv in args.lvlm_set]
    env = {**os.environ, "BENCH_CACHE": str(cache), "PYTHONPATH": str(REPO)}
    env.setdefault("OMP_NUM_THREADS", "1")
    log_path = logs / f"{suite}-{stage}.log"
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        watch = Watchdog(proc.pid, args.rss_limit_gb * GB, args.anon_limit_gb * GB,
                         args.timeout)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        watch.stop()
    wall = time.perf_counter() - started
    row = {"suite": suite, "stage": stage, "wall_s": round(wall, 1),
           "peak_rss_gb": round(usage.ru_maxrss * 1024 / GB, 2), "log": str(log_path),
           # sampled every 0.2 s: how much of the peak was anonymous memory, how much mapped
           # file pages (the prepared arrays, which the kernel can drop)
           "sampled_anon_gb": round(watch.peaks.get("RssAnon", 0) / GB, 2),
           "sampled_file_gb": round(watch.peaks.get("RssFile", 0) / GB, 2)}
    report = _child_report(log_path)
    if watch.killed:
        row.update(status="killed", note=watch.killed)
    elif proc.returncode != 0 or report is None:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        row.update(status="failed", note=f"exit {proc.returncode}: {tail[0][:200]}")
    else:
        # a stage measured inside a longer process (predict) reports its own time and peak
        row["process_wall_s"], row["process_peak_rss_gb"] = row["wall_s"], row["peak_rss_gb"]
        row["wall_s"] = report.pop("stage_wall_s", row["wall_s"])
        row["peak_rss_gb"] = report.pop("stage_peak_rss_gb", row["peak_rss_gb"])
        row.update(report)
        row.setdefault("status", "ok")
    return row


class Watchdog:
    """Polls the child's RSS; kills its process group past either limit or the timeout. Mapped
    file pages (the prepared arrays) count in RSS but the kernel can drop them; anonymous
    memory is what can exhaust the machine, hence its own limit."""

    def __init__(self, pid: int, limit: float, anon_limit: float, timeout: float):
        self.pid, self.limit, self.deadline = pid, limit, time.monotonic() + timeout
        self.anon_limit = anon_limit
        self.killed = ""
        self.peaks: dict[str, int] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.2):
            status = _status(self.pid)
            rss = status.get("VmRSS", 0)
            for key in ("RssAnon", "RssFile"):  # sampled: file pages are mapped arrays
                self.peaks[key] = max(self.peaks.get(key, 0), status.get(key, 0))
            anon = status.get("RssAnon", 0)
            if rss > self.limit or anon > self.anon_limit or time.monotonic() > self.deadline:
                self.killed = (f"RSS {rss / GB:.1f} GB > limit {self.limit / GB:.0f} GB"
                               if rss > self.limit else
                               f"anonymous RSS {anon / GB:.1f} GB > limit "
                               f"{self.anon_limit / GB:.0f} GB" if anon > self.anon_limit
                               else "timeout")
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _status(pid: int) -> dict[str, int]:
    """The memory lines of /proc/<pid>/status, in bytes."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
                    out[line.split(":")[0]] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return out


def _child_report(log_path: Path) -> dict | None:
    for line in reversed(log_path.read_text(errors="replace").splitlines()):
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    return None


COLUMNS = ("suite", "stage", "status", "wall_s", "peak_rss_gb", "subset", "detail")


def format_row(row: dict) -> str:
    detail = row.get("detail") or row.get("note", "")
    return (f"{row['suite']:12s} {row['stage']:9s} {row['status']:7s} {row['wall_s']:8.1f} s "
            f"{row['peak_rss_gb']:6.2f} GB (anon {row['sampled_anon_gb']:.2f}, file "
            f"{row['sampled_file_gb']:.2f})  {row.get('subset', '')}  {detail}")


def markdown(rows: list[dict]) -> str:
    head = ("| suite | stage | wall (s) | peak RSS (GB) | mapped file pages, sampled max (GB) | "
            "subset | detail |\n|---|---|---:|---:|---:|---|---|\n")
    lines = []
    for r in rows:
        detail = r.get("detail") or r.get("note", "")
        status = "" if r["status"] == "ok" else f" ({r['status']})"
        lines.append(f"| {r['suite']} | {r['stage']}{status} | {r['wall_s']:.1f} | "
                     f"{r['peak_rss_gb']:.2f} | {r['sampled_file_gb']:.2f} | "
                     f"{r.get('subset', '') or 'full'} | {detail} |")
    return head + "\n".join(lines) + "\n"


def write_out(args, rows: list[dict]) -> None:
    if not args.out:
        return
    out = Path(args.out)
    machine = {"cpus": os.cpu_count(), "load_avg": os.getloadavg(),
               "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB, 1)}
    paths = [out] if out.suffix in (".json", ".md") else [out.with_suffix(".json"),
                                                          out.with_suffix(".md")]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            path.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")
        else:
            path.write_text(markdown(rows))
        print(path)


# ---- child: one stage -----------------------------------------------------------------------

def child(args) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import logging  # the methods' own progress lines (epochs, steps) into the stage's log

    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(name)s %(message)s")
    from bench.suites import SUITES

    suite = SUITES.get(args.suite)
    report = CHILD_STAGES[args.child](args, suite, Path(args.cache))
    print(RESULT + json.dumps(report), flush=True)
    return 0


def _dataset_root(suite, cache: Path) -> Path:
    from bench.data.synthetic import full as sf
    from bench.errors import BenchError

    root = cache / sf.CACHE_DIR / sf.params_key(suite.dataset, 0)
    if not sf.is_complete(root):
        raise BenchError(f"no full-size {suite.dataset} under {cache}: run the generate stage")
    return root


def stage_rate(args, suite, cache: Path) -> dict:
    """Generator speed on one core (this process): format only, then format and write."""
    import numpy as np

    from bench.data.synthetic import full as sf

    names = sf.available_names(suite.dataset)
    pick = names[::max(1, len(names) // args.rate_files)][:args.rate_files]
    t0 = time.perf_counter()
    sf.warm_up(pick, 0)  # the template bank of every action, the compiled writer
    warm = time.perf_counter() - t0
    buf = np.empty(1 << 20, np.uint8)
    cpu, size = time.process_time(), 0
    for name in pick:
        size += len(sf.skeleton_bytes(name, 0, buf)[0])
    format_rate = len(pick) / (time.process_time() - cpu)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".rate-", dir=cache))
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        sf.write_files(tmp / "files", pick, 0, workers=1)
        write_cpu, write_wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"subset": f"{len(pick):,} files", "format_files_per_cpu_s": round(format_rate),
            "write_files_per_cpu_s": round(len(pick) / write_cpu),
            "write_files_per_wall_s": round(len(pick) / write_wall),
            "mean_file_kb": round(size / len(pick) / 1e3), "warm_up_s": round(warm, 1),
            "detail": f"one core: {format_rate:,.0f} files/s formatting, "
                      f"{len(pick) / write_cpu:,.0f} files/s formatting + writing (CPU time; "
                      f"{len(pick) / write_wall:,.0f}/s wall), {size / len(pick) / 1e3:.0f} KB "
                      f"a file; bank + compile {warm:.0f} s"}


def stage_generate(args, suite, cache: Path) -> dict:
    from bench.data.synthetic import full as sf

    root = cache / sf.CACHE_DIR / sf.params_key(suite.dataset, 0)
    cached = sf.is_complete(root)
    root = sf.full_synthetic_root(suite.dataset, cache, workers=args.workers)
    meta = json.loads((root / sf.META_FILE).read_text())
    rate = meta["num_samples"] / meta["seconds"] if meta["seconds"] else 0
    return {"status": "cached" if cached else "ok", "root": str(root),
            "files": meta["num_samples"], "gb": round(meta["bytes"] / 1e9, 1),
            "detail": f"{meta['num_samples']:,} files, {meta['bytes'] / 1e9:.1f} GB, "
                      f"{rate:,.0f} files/s with {args.workers} processes"
                      + (" (generated earlier)" if cached else "")}


def _source(args, suite, cache: Path):
    from bench.data.datasets import choose_data, resolve_source

    suite, ref = choose_data(suite.name, str(_dataset_root(suite, cache)), None)
    return resolve_source(suite, ref)


def stage_prepare(args, suite, cache: Path) -> dict:
    from bench.data.datasets import _prepared_arrays

    shutil.rmtree(cache / "prepared", ignore_errors=True)  # also the sha256 memo: a first run
    t0 = time.perf_counter()
    source = _source(args, suite, cache)
    found = time.perf_counter() - t0
    arrays = _prepared_arrays(source, args.workers)
    parse = time.perf_counter() - t0 - found
    return {"files_hash_manifest_s": round(found, 1), "parse_write_s": round(parse, 1),
            **_arrays_report(arrays),
            "detail": f"find + sha256 + manifest {found:.0f} s, parse + write {parse:.0f} s; "
                      + _arrays_report(arrays)["arrays"]}


def _arrays_report(arrays) -> dict:
    keypoint = arrays["keypoint"]
    path = Path(keypoint.filename)
    disk = path.stat().st_blocks * 512
    return {"keypoint_shape": list(keypoint.shape), "keypoint_disk_gb": round(disk / 1e9, 1),
            "arrays": f"keypoint {tuple(keypoint.shape)} ({keypoint.nbytes / 1e9:.1f} GB, "
                      f"{disk / 1e9:.1f} GB on disk)"}


def stage_manifest(args, suite, cache: Path) -> dict:
    import numpy as np

    from bench.data.datasets import _prepared_arrays

    source = _source(args, suite, cache)
    arrays = _prepared_arrays(source, args.workers)
    index = {name: i for i, name in enumerate(arrays["names"])}
    m = source.manifest
    split = {k: np.array([index[s] for s in getattr(m, k)]) for k in ("train", "val", "test")}
    counts = {k: len(v) for k, v in split.items()}
    return {"counts": counts, "manifest": m.short,
            "detail": f"train {counts['train']:,} + val {counts['val']:,} / test "
                      f"{counts['test']:,} ({m.short}); arrays memory-mapped"}


def _trimmed(args, source, test_clips: int):
    """The source with at most --max-train train clips (val in proportion) and test_clips
    test clips, every k-th by name (all classes stay)."""
    m = source.manifest

    def every(ids, n):
        return ids if not n or n >= len(ids) else ids[::math.ceil(len(ids) / n)][:n]
    train = every(m.train, args.max_train)
    val = every(m.val, round(len(m.val) * len(train) / max(1, len(m.train))))
    test = every(m.test, test_clips)
    subset = [] if len(train) == len(m.train) else [f"train {len(train):,}"]
    subset += [] if len(test) == len(m.test) else [f"test {len(test):,}"]
    manifest = dataclasses.replace(m, train=tuple(train), val=tuple(val), test=tuple(test))
    return dataclasses.replace(source, manifest=manifest), ", ".join(subset)


def _bundle(args, suite, cache: Path, test_clips: int):
    from bench.data.datasets import load_bundle

    source, subset = _trimmed(args, _source(args, suite, cache), test_clips)
    t0 = time.perf_counter()
    bundle = load_bundle(source, workers=args.workers)
    return bundle, subset, time.perf_counter() - t0


def _method(name: str, profile: str, suite, overrides: dict, workdir: Path):
    from bench.methods import METHODS
    from bench.paths import cache_root
    from bench.plan import check_config, method_config

    config = {**method_config(name, profile, suite.fit_on_for(profile)), **overrides}
    check_config(name, config)
    workdir.mkdir(parents=True, exist_ok=True)
    return METHODS.get(name)(config, profile=profile, seed=0, workdir=workdir,
                             cache_dir=cache_root())


def _fit_predict(args, suite, cache: Path, name: str, profile: str, overrides: dict) -> dict:
    from bench.metrics.classification import topk_accuracy

    bundle, subset, load = _bundle(args, suite, cache, args.max_test)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        method = _method(name, profile, suite, overrides, Path(work))
        t0 = time.perf_counter()
        method.fit(bundle)
        fit = time.perf_counter() - t0
        predictions = method.predict(bundle.test, bundle)
        predict = time.perf_counter() - t0 - fit
    top1 = float(topk_accuracy(predictions.scores, predictions.labels, 1))
    fit_clips = len(bundle.train) + (len(bundle.val) if method.config.get("fit_on") == "train+val"
                                     else 0)
    return {"subset": subset, "train_clips": fit_clips, "load_s": round(load, 1),
            "fit_s": round(fit, 1),
            "predict_s": round(predict, 1), "top1": round(top1, 4),
            "detail": f"load_bundle {load:.0f} s, fit {fit:.0f} s, predict {predict:.0f} s "
                      f"({len(bundle.test):,} clips), top-1 {100 * top1:.1f}%"}


def stage_knn(args, suite, cache: Path) -> dict:
    return _fit_predict(args, suite, cache, "knn", "cpu", {})


def stage_stgcn(args, suite, cache: Path) -> dict:
    if args.stgcn_clips:
        _cut_training_epochs(args.stgcn_clips)
    epoch_s = _time_training_epochs()
    row = _fit_predict(args, suite, cache, "stgcn", "cpu", {"epochs": 1})
    clips = row.pop("train_clips")
    row["epoch_s"] = round(sum(epoch_s), 1)
    row["detail"] += f"; the training epoch {row['epoch_s']:.0f} s"
    if args.stgcn_clips:
        seen = min(args.stgcn_clips, clips)
        row["epoch_s_extrapolated"] = round(row["epoch_s"] * clips / seen, 1)
        row["detail"] += (f" on {seen:,} of the {clips:,} train clips (the sampler cut the "
                          f"epoch; the dataset was built on all): a whole epoch "
                          f"~{row['epoch_s_extrapolated']:.0f} s")
    return row


def _time_training_epochs() -> list[float]:
    """The wall time of each training epoch (mmengine's loop), appended as they finish."""
    from mmengine.runner import EpochBasedTrainLoop

    times, run_epoch = [], EpochBasedTrainLoop.run_epoch

    def timed(self):
        t0 = time.perf_counter()
        run_epoch(self)
        times.append(time.perf_counter() - t0)

    EpochBasedTrainLoop.run_epoch = timed
    return times


def _cut_training_epochs(limit: int) -> None:
    """Train on the first `limit` clips of each shuffled epoch: a sampler registered for this
    process, set on the training dataloader as the GCN method builds its config."""
    from mmengine.dataset import DefaultSampler
    from mmengine.registry import DATA_SAMPLERS

    from bench.methods.mmaction_gcn import MMActionGCN

    @DATA_SAMPLERS.register_module(force=True)
    class FirstOfEpochSampler(DefaultSampler):
        def __iter__(self):
            return iter(list(super().__iter__())[:limit])

        def __len__(self):
            return min(limit, super().__len__())

    build = MMActionGCN.build_config

    def build_cut(self, mm, data, ann_file):
        cfg = build(self, mm, data, ann_file)
        if cfg.get("train_dataloader"):
            cfg.train_dataloader.sampler = dict(type="FirstOfEpochSampler", shuffle=True)
        return cfg

    MMActionGCN.build_config = build_cut


def stage_vst(args, suite, cache: Path) -> dict:
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    shutil.rmtree(cache / "vst", ignore_errors=True)
    bundle, subset, load = _bundle(args, suite, cache, 1)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        method = _method("lvlm_var", args.lvlm_profile, suite, lvlm_overrides(args), Path(work))
        data = bundle.with_val_in_train() if method.config["fit_on"] == "train+val" else bundle
        t0 = time.perf_counter()
        vst, hit = fit_or_load_vst(method, data)
        fit = time.perf_counter() - t0
    return {"subset": subset, "load_s": round(load, 1), "fit_s": round(fit, 1),
            "detail": f"load_bundle {load:.0f} s, VST fit {fit:.0f} s on "
                      f"{len(data.train):,} clips ({_lvlm_note(args)})"}


def _lvlm_fit(args, suite, cache: Path, test_clips: int):
    bundle, subset, load = _bundle(args, suite, cache, test_clips)
    work = Path(tempfile.mkdtemp(dir=cache))
    method = _method("lvlm_var", args.lvlm_profile, suite,
                     {**lvlm_overrides(args), "lvlm.steps": 20}, work)
    t0 = time.perf_counter()
    method.fit(bundle)
    return method, bundle, subset, load, time.perf_counter() - t0, work


def stage_lora(args, suite, cache: Path) -> dict:
    method, bundle, subset, load, fit, work = _lvlm_fit(args, suite, cache, 1)
    shutil.rmtree(work, ignore_errors=True)
    s = method.stats
    hit = "VST from the cache" if s.get("vst_cache_hit") else "VST trained here (no cache)"
    return {"subset": subset, "load_s": round(load, 1), "fit_s": round(fit, 1),
            "lvlm_train_s": round(s.get("lvlm_train_s", 0), 1),
            "detail": f"load_bundle {load:.0f} s, fit {fit:.0f} s ({hit}; tokens + narrator + "
                      f"backbone, then 20 LoRA steps {s.get('lvlm_train_s', 0):.0f} s; "
                      f"{_lvlm_note(args)})"}


def stage_predict(args, suite, cache: Path) -> dict:
    method, bundle, subset, load, fit, work = _lvlm_fit(args, suite, cache, args.predict_clips)
    before = _vm("VmHWM")
    with open("/proc/self/clear_refs", "w") as f:  # VmHWM := VmRSS: the prediction's own peak
        f.write("5")
    t0 = time.perf_counter()
    method.predict(bundle.test, bundle)
    predict = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    peak = _vm("VmHWM")
    return {"subset": subset, "fit_s": round(fit, 1), "stage_wall_s": round(predict, 1),
            "stage_peak_rss_gb": round(peak / GB, 2), "fit_peak_rss_gb": round(before / GB, 2),
            "detail": f"predict {predict:.0f} s on {len(bundle.test):,} test clips "
                      f"({_lvlm_note(args)}), its peak RSS "
                      f"{peak / GB:.2f} GB (the fit before it: {fit:.0f} s, peak "
                      f"{before / GB:.2f} GB, in the same process)"}


def _vm(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


CHILD_STAGES = {"rate": stage_rate, "generate": stage_generate, "prepare": stage_prepare,
                "manifest": stage_manifest, "knn": stage_knn, "stgcn": stage_stgcn,
                "vst": stage_vst, "lora": stage_lora, "predict": stage_predict}

if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed stage leaves no core file
    sys.exit(main())
