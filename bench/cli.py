"""The `bench` command line. Heavy libraries are imported inside subcommands, never at start-up."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.errors import BenchError
from bench.recipes import EVALUATE, PROFILES


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="folder of raw NTU .skeleton files (or $BENCH_DATA_ROOT)")
    p.add_argument("--data", help="'synthetic' (a generated dataset in the NTU raw format) or an "
                   "MMAction2/PYSKL annotation pickle FILE.pkl (needs --layout)")
    p.add_argument("--layout", help="with --data FILE.pkl: ntu25 | kinect20 | coco17")
    p.add_argument("--split", help="with --data FILE.pkl: e.g. xsub (train on xsub_train, test "
                   "on xsub_val)")
    p.add_argument("--fps", type=float, help="with --data FILE.pkl: its frame rate (default 30, "
                   "NTU's); LVLM-VAR's token rate is per second")
    p.add_argument("--profile", default="cpu", help=f"{' | '.join(PROFILES)} (default: cpu)")
    p.add_argument("--seeds", help="comma-separated seeds (default: the suite's, suites/*.toml: "
                   "0 for synthetic suites, 0,1,2 for real-data ones)")
    p.add_argument("--out", default="bench-out", help="output folder (default: ./bench-out)")
    p.add_argument("--executor", default=os.environ.get("BENCH_EXECUTOR", "local"),
                   help="local | ray | slurm (or $BENCH_EXECUTOR; default: local)")
    p.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                   help="with --executor ray: the existing Ray cluster to run on, e.g. the "
                   "head's 10.0.0.1:6379 (or $RAY_ADDRESS; default: a private Ray instance on "
                   "this machine)")
    p.add_argument("--workers", type=_workers, default="auto",
                   help="runs in parallel (local processes, Ray CPUs, Slurm array parallelism); "
                   "default auto: as many runs as this machine's CPUs (and GPUs) hold at each "
                   "run's threads (--cpus-per-run, else $OMP_NUM_THREADS, else 1), at most the "
                   "runs planned")
    p.add_argument("--track", metavar="tensorboard|wandb",
                   help="log training curves into each run's folder (runs/<id>/tb/, "
                   "runs/<id>/wandb/, W&B offline without an API key); comma-separated for both; "
                   "off by default and not part of run ids")
    p.add_argument("--cpus-per-run", type=int, help="CPUs each run asks for (default: 1)")
    p.add_argument("--gpus-per-run", type=int,
                   help="GPUs each run asks for (default: 1 where the executor has GPUs, else 0)")
    p.add_argument("--procs-per-run", type=int,
                   help="processes per run, launched with torchrun (default: one per GPU)")
    p.add_argument("--retry-failed", action="store_true",
                   help="rerun the runs that failed before (finished ones are never rerun)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (run ids, swept values, done/failed/pending) and exit")
    p.add_argument("--limit", type=int, metavar="N",
                   help="at most N test samples per class (the first N by sample id), for quick "
                   "checks; part of the split manifest, so limited runs are runs of their own and "
                   "their reports say so (default: the profile's own, suites/protocol.toml: 3 for "
                   "quick, none otherwise)")
    p.add_argument("--evaluate", choices=EVALUATE, default="test",
                   help="which part of the split the runs are scored on: test (default), or val "
                   "to choose settings without touching test (every method fits on train only, "
                   "the validation part is scored; part of the split manifest, so these are "
                   "runs of their own and their reports say so)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set a method config field in every planned run that has it, e.g. "
                   "--set stream=bone (repeatable; VALUE is read as JSON, else as text)")
    p.add_argument("--allow-any-config", action="store_true",
                   help="let --set config=FILE name a file outside the shipped baselines/ "
                   "folder (it is executed as Python by mmengine)")


def _workers(text: str):
    """--workers: "auto" or a positive number."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected auto or a positive number")
    return value


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise BenchError(f"{what} {text!r}: expected comma-separated integers") from None


def _seeds(text: str) -> list[int]:
    seeds = _ints(text, "--seeds")
    if not seeds or min(seeds) < 0:
        raise BenchError(f"--seeds {text!r}: expected one or more non-negative integers, e.g. "
                         f"--seeds 0,1,2")
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:  # the same seed is the same run id: it would be planned twice
        raise BenchError(f"--seeds {text!r}: seed {twice[0]} is given twice")
    return seeds


def _source(args, suite_name, default_suite=None):
    """Validate the data arguments, then locate (or generate) the data: the slow step, so last.
    Returns (suite, source); with --data FILE.pkl the suite is made from the file. The source's
    ref (kind, content digest, layout, split, fps, location) goes into every planned RunSpec."""
    import dataclasses

    from bench.data.datasets import DEFAULT_SUITE, choose_data, resolve_source

    suite, ref = choose_data(suite_name, args.data_root, args.data, args.layout, args.split,
                             args.fps, default_suite or DEFAULT_SUITE)
    limit = suite.limit_for(args.profile, args.limit)  # the profile's own (quick) unless given
    if limit is not None:
        ref = dataclasses.replace(ref, limit=limit)
    return suite, resolve_source(suite, dataclasses.replace(ref, evaluate=args.evaluate))


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise BenchError(f"--limit {limit}: expected a positive number of test samples per "
                         f"class")


def _execute(args, specs, axes=()):
    from bench.driver import execute_plan, plan_lines, say
    from bench.executors import EXECUTORS
    from bench.store import Store

    from bench.tracking import parse as parse_trackers

    EXECUTORS.get(args.executor)  # unknown names fail before any work
    track = parse_trackers(args.track)  # unknown or not installed: one line, before any run
    if args.ray_address and args.executor != "ray":
        raise BenchError(f"--ray-address {args.ray_address}: only for --executor ray (got "
                         f"--executor {args.executor})")
    store = Store(Path(args.out))
    if not args.dry_run:
        store.check_writable()
    if args.dry_run:
        print("\n".join(plan_lines(specs, store, axes)))
        return store, None
    limit, evaluate = specs[0].data.limit, specs[0].data.evaluate
    say(f"manifest {specs[0].manifest_sha256[:12]}"
        + (f" (--limit {limit}: test samples capped per class)" if limit else "")
        + (" (--evaluate val: scored on the validation part, not test)"
           if evaluate == "val" else "")
        + f"; {len(specs)} runs -> {store.runs}")
    resources = {"cpus": args.cpus_per_run, "gpus": args.gpus_per_run,
                 "procs": args.procs_per_run}
    options = {"log_dir": str(Path(args.out) / "executor-logs")}
    if args.ray_address:
        options["address"] = args.ray_address
    return store, execute_plan(specs, store, workers=args.workers,
                               retry_failed=args.retry_failed, executor=args.executor,
                               resources=resources, executor_options=options, track=track)


def _with_overrides(specs, pairs: list[str], allow_any_config: bool = False):
    """`--set KEY=VALUE`: the planned runs with that config field set wherever the method's
    config has it (a dotted KEY reaches into nested fields); an error if no run has it."""
    import dataclasses

    from bench.ablations import set_config_value

    for key, value in _set_pairs(pairs, allow_any_config):
        changed = []
        for spec in specs:
            try:
                config = set_config_value(spec.config, key, value)
            except BenchError:
                config = None
            changed.append(spec if config is None else dataclasses.replace(spec, config=config))
        if all(a is b for a, b in zip(changed, specs)):
            methods = sorted({spec.method for spec in specs})
            raise BenchError(f"--set {key}: none of the planned methods ({', '.join(methods)}) "
                             f"has a config field {key!r}")
        specs = changed
    return specs


def _planned_methods(args) -> list[str]:
    """The methods `bench run` will plan, known before any data is read (a pickle's suite runs
    the pickle methods)."""
    from bench.data.datasets import DEFAULT_SUITE, PICKLE_METHODS
    from bench.suites import SUITES

    if args.methods:
        return args.methods.split(",")
    if args.data and args.data != "synthetic":
        return list(PICKLE_METHODS)
    return list(SUITES.get(args.suite or DEFAULT_SUITE).methods)


def _check_set_keys(pairs: list[str], methods: list[str], profile: str) -> None:
    """A `--set` key that no planned method's config has fails here, before the data is read or
    generated, naming the closest key."""
    from bench.ablations import set_config_value
    from bench.plan import method_config
    from bench.registry import did_you_mean

    configs = [method_config(m, profile) for m in methods]
    for pair in pairs:
        key = pair.partition("=")[0]
        if not key or any(_has_key(set_config_value, c, key) for c in configs):
            continue  # a malformed pair gets its own error from _set_pairs
        known = {k for c in configs for k in _dotted_keys(c)}
        raise BenchError(f"--set {key}: none of the planned methods ({', '.join(sorted(methods))})"
                         f" has a config field {key!r}{did_you_mean(key, known)}")


def _has_key(set_value, config: dict, key: str) -> bool:
    try:
        set_value(config, key, None)
        return True
    except BenchError:
        return False


def _dotted_keys(config: dict, prefix: str = "") -> list[str]:
    """Every settable key of a config: top-level keys and dotted paths into nested dicts."""
    keys = []
    for k, v in config.items():
        keys.append(prefix + k)
        if isinstance(v, dict):
            keys += _dotted_keys(v, f"{prefix}{k}.")
    return keys


def _set_pairs(pairs: list[str], allow_any_config: bool = False) -> list[tuple[str, object]]:
    """`--set KEY=VALUE` pairs as (key, value): VALUE read as JSON, else as text."""
    import json

    parsed = []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise BenchError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set stream=bone")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        if key == "config" and not allow_any_config:
            _check_baseline_config(value)
        parsed.append((key, value))
    return parsed


def cmd_config(args) -> int:
    """The resolved config (JSON) a run of METHOD would use: the profile's defaults with the
    --set overrides, checked as at plan time."""
    import json

    from bench.ablations import set_config_value
    from bench.plan import check_config, method_config

    config = method_config(args.method, args.profile)
    for key, value in _set_pairs(args.set, args.allow_any_config):
        try:
            config = set_config_value(config, key, value)
        except BenchError:
            from bench.registry import did_you_mean

            raise BenchError(f"--set {key}: {args.method} has no config field {key!r}"
                             f"{did_you_mean(key, _dotted_keys(config))} (its fields: "
                             f"{', '.join(sorted(config))})") from None
    check_config(args.method, config)
    print(json.dumps(config, indent=2, default=str))
    return 0


def _check_baseline_config(value) -> None:
    """A config file is Python that mmengine executes: only the shipped baselines/ unless the
    user says otherwise (--allow-any-config)."""
    from bench.paths import content_dir

    baselines = content_dir("baselines").resolve()
    path = (baselines / str(value)).resolve()  # an absolute value replaces the folder
    if baselines not in path.parents:
        raise BenchError(f"--set config={value}: not a file under {baselines}; a config is "
                         f"executed as Python, so pass --allow-any-config to run another file")
    if not path.is_file():
        raise BenchError(f"--set config={value}: no such file under {baselines}")


def cmd_run(args) -> int:
    results, report = run_and_report(args)
    if results is None:
        return 0
    print(report)
    return _exit_status(results)


def run_and_report(args):
    """`bench run`'s work (also bench.run_suite's): plan, run what is not done, write the suite
    report. Returns (results, report.md path), or (None, None) for --dry-run."""
    from bench.methods import METHODS
    from bench.plan import check_configs, plan_suite

    for m in (args.methods.split(",") if args.methods else []):
        METHODS.get(m)  # unknown names fail before any data is read
    if args.seeds is not None:
        _seeds(args.seeds)  # a bad value fails before any data is read
    _check_limit(args.limit)
    _check_set_keys(args.set, _planned_methods(args), args.profile)
    suite, source = _source(args, args.suite)
    seeds = _seeds(args.seeds) if args.seeds is not None else list(suite.seeds)
    methods = args.methods.split(",") if args.methods else list(suite.methods)
    specs = check_configs(_with_overrides(plan_suite(source, methods, args.profile, seeds),
                                          args.set, args.allow_any_config))
    store, results = _execute(args, specs)
    if results is None:
        return None, None
    return results, _suite_report(store, suite, results, source.synthetic)


def _exit_status(results) -> int:
    """1 when any planned run failed (the driver has listed them), so scripts and CI notice."""
    return 1 if any(r["status"] != "done" for r in results) else 0


def _suite_report(store, suite, results, synthetic):
    from bench.data.datasets import suite_class_names
    from bench.reporting.report import suite_report

    names = suite_class_names(suite)
    return suite_report(store, suite, results, names, synthetic)


def cmd_ablate(args) -> int:
    from bench.ablations import resolve_sweep
    from bench.plan import check_configs, plan_sweep
    from bench.reporting.ablation import ablation_report

    ablation = resolve_sweep(args.ablation)  # one axis, or several: "vst.codebook,lora.rank"
    grids = ablation.grids(args.profile, args.values)
    if args.seeds is not None:
        _seeds(args.seeds)
    _check_limit(args.limit)
    _check_set_keys(args.set, [ablation.method], args.profile)
    suite, source = _source(args, args.suite, ablation.default_suite)
    seeds = _seeds(args.seeds) if args.seeds is not None else list(suite.seeds)
    specs = check_configs(_with_overrides(plan_sweep(source, ablation, grids, args.profile,
                                                     seeds), args.set, args.allow_any_config))
    store, results = _execute(args, specs, ablation.config_keys)
    if results is None:
        return 0
    print(ablation_report(store, ablation, suite, results, source.synthetic))
    return _exit_status(results)


# What a report folder holds: report.md, report.tex, results.json, results.csv
REPORT_FILES = {"md": "report.md", "tex": "report.tex", "json": "results.json",
                "csv": "results.csv"}


def _report_formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    wrong = [f for f in formats if f not in REPORT_FILES]
    if wrong or not formats:
        raise BenchError(f"--format {text!r}: expected one or more of "
                         f"{', '.join(REPORT_FILES)}, comma-separated (the files a report "
                         f"writes)")
    return formats


def cmd_report(args) -> int:
    from bench.store import Store

    formats = _report_formats(args.format)
    store = Store(Path(args.out))
    store.heal(deep_ids=())  # unreadable results are moved aside; predictions checked on read
    results = store.results()
    profile = args.profile or "cpu"
    if args.ablation:
        from bench.ablations import resolve_sweep
        from bench.reporting.ablation import ablation_report

        ablation = resolve_sweep(args.ablation)
        suite = _stored_suite(args.suite or ablation.default_suite, results)
        runs = [r for r in results if r["spec"]["suite"] == suite.name
                and r["spec"]["method"] == ablation.method]
        chosen = _of_limit(_of_evaluate(_of_profile(runs, profile, args.profile,
                                                    f"ablation {ablation.name}", store),
                                        args.evaluate, f"ablation {ablation.name}", store),
                           suite.limit_for(profile, args.limit), f"ablation {ablation.name}", store)
        path = ablation_report(store, ablation, suite, chosen, _synthetic(chosen))
    else:
        suite = _stored_suite(args.suite, results)
        runs = [r for r in results if r["spec"]["suite"] == suite.name]
        chosen = _of_limit(_of_evaluate(_of_profile(runs, profile, args.profile,
                                                    f"suite {suite.name}", store),
                                        args.evaluate, f"suite {suite.name}", store),
                           suite.limit_for(profile, args.limit), f"suite {suite.name}", store)
        path = _suite_report(store, suite, chosen, _synthetic(chosen))
    for fmt in formats:
        print(path.with_name(REPORT_FILES[fmt]))
    return 0


def _stored_suite(name: str, results: list[dict]):
    """A registered suite, or one made from a pickle (`FILE.pkl-<split>`): rebuilt from the
    stored runs' data reference, so its class names come from the file again."""
    from bench.suites import SUITES

    if name in SUITES:
        return SUITES.get(name)
    refs = [r["spec"]["data"] for r in results if r["spec"]["suite"] == name]
    if not refs:
        SUITES.get(name)  # the registry's one-line "unknown suite" error
    from bench.data.datasets import suite_for
    from bench.specs import DataRef

    ref = DataRef.from_any(refs[-1])
    if ref.kind != "pickle" or not Path(ref.location).is_file():
        raise BenchError(f"suite {name!r}: its runs read {ref.location or ref.kind}, which is "
                         f"not there any more; the report needs the file's class names")
    return suite_for(name, ref)


def _of_profile(runs: list[dict], profile: str, given: str | None, what: str, store) -> list:
    """The runs of one profile; none is an error saying which profile was looked for."""
    chosen = [r for r in runs if r["spec"]["profile"] == profile]
    if chosen:
        return chosen
    stored = sorted({r["spec"]["profile"] for r in runs})
    how = "given" if given else "the default; pass --profile to choose"
    others = f"; stored profiles: {', '.join(stored)}" if stored else ""
    raise BenchError(f"no runs of {what} with profile {profile!r} ({how}) under "
                     f"{store.out}{others}")


def _of_evaluate(runs: list[dict], evaluate: str, what: str, store) -> list:
    """The runs scored on the `evaluate` part of the split (test unless --evaluate val), so
    validation runs never share a report with test runs."""
    from bench.specs import DataRef

    chosen = [r for r in runs if DataRef.from_any(r["spec"]["data"]).evaluate == evaluate]
    if chosen or not runs:
        return chosen
    other = "val" if evaluate == "test" else "test"
    raise BenchError(f"no runs of {what} scored on {evaluate} under {store.out}; stored: runs "
                     f"scored on {other} (pass --evaluate {other})")


def _of_limit(runs: list[dict], limit: int | None, what: str, store) -> list:
    """The runs made with `--limit N` (none given: the unlimited ones), so a quick limited check
    and the full run in one folder each get their report rather than a manifest clash."""
    from bench.specs import DataRef

    _check_limit(limit)
    limit_of = {r["run_id"]: DataRef.from_any(r["spec"]["data"]).limit for r in runs}
    chosen = [r for r in runs if limit_of[r["run_id"]] == (limit or 0)]
    if chosen:
        return chosen
    stored = ", ".join(f"--limit {n}" if n else "no --limit"
                       for n in sorted(set(limit_of.values())))
    asked = f"--limit {limit}" if limit else "no --limit (pass --limit N for limited runs)"
    raise BenchError(f"no runs of {what} with {asked} under {store.out}; stored: {stored}")


def _synthetic(results) -> bool:
    from bench.specs import DataRef

    # DataRef.from_any: runs stored before DataRef hold a string here
    return any(DataRef.from_any(r["spec"]["data"]).kind == "synthetic" for r in results)


def cmd_list(args) -> int:
    from bench.suites import SUITES

    if args.what == "suites":
        for name in SUITES:
            s = SUITES.get(name)
            print(f"{name:18s} {s.dataset}/{s.protocol}  methods: {','.join(s.methods)}  {s.description}")
    elif args.what == "methods":
        from bench.methods import METHODS
        print("\n".join(METHODS.names()))
    elif args.what == "ablations":
        from bench.ablations import load_ablations
        ablations = load_ablations()
        for name in ablations:
            a = ablations.get(name)
            fixed = "".join(f" --set {k}={v}" for k, v in a.fixed.items())
            fixed = f" (every run:{fixed})" if fixed else ""
            print(f"{name:16s} method={a.method} grid={a.values['paper']}  {a.description}{fixed}")
    elif args.what == "metrics":
        from bench.metrics.registry import CONTROL_DEFINITION, CONTROLS, DIAGNOSTICS, METRICS
        for m in METRICS + DIAGNOSTICS:  # the registry: stored key, column, direction, definition
            better = "higher" if m.higher_is_better else "lower"
            controls = " +@" + ",@".join(CONTROLS) if m.kind == "text" else ""
            print(f"{m.key + controls:48s} {m.header:20s} {better:6s} {m.definition}")
        print(f"{'(controls)':48s} {CONTROL_DEFINITION}")
    return 0


def cmd_data(args) -> int:
    from bench.data.datasets import SYNTHETIC, load_bundle, resolve_source
    from bench.suites import SUITES

    if args.action != "synth" and not args.path:
        raise BenchError(f"bench data {args.action} needs a data root: bench data {args.action} DIR")
    if args.action == "synth" and args.full:
        print(_full_synthetic(SUITES.get(args.suite).dataset))
    elif args.action == "synth":
        source = resolve_source(SUITES.get(args.suite), SYNTHETIC)
        print(source.root)
    elif args.action == "check":
        from bench.data.ntu.check import check_skeleton_dir, format_report
        report = check_skeleton_dir(args.path, args.expected, args.dataset,
                                    workers=os.cpu_count() or 1)
        print(format_report(report))
        return 0 if report.usable else 1
    elif args.action == "prepare":
        suite, source = _data_path_source(args)
        bundle = load_bundle(source, workers=os.cpu_count() or 1)
        print(f"{suite.name}: train {len(bundle.train)}, val {len(bundle.val)}, "
              f"test {len(bundle.test)}; manifest {source.manifest.short}")
        if args.to:
            from bench.data.datasets import export_pickle
            fmt, out = args.to
            if fmt != "pkl":
                raise BenchError(f"--to {fmt!r}: expected 'pkl' (bench data prepare DIR --to pkl "
                                 f"OUT.pkl)")
            print(export_pickle(source, out, workers=os.cpu_count() or 1))
    return 0


def _full_synthetic(dataset: str) -> Path:
    """`bench data synth --full`: every NTU sample name, generated once into the cache (a
    progress line on stderr while it writes)."""
    from bench.data.synthetic.full import full_synthetic_root
    from bench.paths import cache_root

    live = sys.stderr.isatty()  # one line rewritten on a terminal, plain lines in a log

    def progress(done: int, total: int) -> None:
        if done == total or done % 8192 < 512:
            start = "\r" if live else ""
            print(f"{start}generating {dataset}: {done:,}/{total:,} files",
                  end="\n" if done == total or not live else "", file=sys.stderr, flush=True)
    return full_synthetic_root(dataset, cache_root(), progress=progress)


def _data_path_source(args):
    """`bench data prepare PATH`: PATH is a data root, 'synthetic', or FILE.pkl (with --layout)."""
    from bench.data.datasets import choose_data, resolve_source

    is_data = args.path == "synthetic" or Path(args.path).is_file()
    suite, ref = choose_data(None, None if is_data else args.path, args.path if is_data else None,
                             args.layout, args.split, args.fps, default_suite=args.suite)
    return suite, resolve_source(suite, ref)


def _add_data_parser(p: argparse.ArgumentParser) -> None:
    """`bench data synth|prepare|check`: one sub-parser per verb, so each --help shows only the
    options that verb reads. The path stays optional so a missing one is a one-line error."""
    verbs = p.add_subparsers(dest="action", required=True, metavar="{synth,prepare,check}")
    v = verbs.add_parser("synth", help="generate a suite's synthetic dataset into the cache and "
                         "print its folder")
    v.add_argument("--suite", default="ntu60-xsub", help="the suite whose synthetic stand-in to "
                   "generate (default: ntu60-xsub)")
    v.add_argument("--full", action="store_true", help="every NTU sample name of the suite's "
                   "dataset (56,578 NTU60 / 113,945 NTU120 files, 30-300 frames) in the raw "
                   "format; use the printed folder as --data-root")
    v = verbs.add_parser("prepare", help="read a dataset once into the cache (arrays and split "
                         "manifest); optionally export it as an annotation pickle")
    v.add_argument("path", nargs="?", help="a folder of raw NTU .skeleton files, 'synthetic', "
                   "or an annotation pickle FILE.pkl")
    v.add_argument("--suite", default="ntu60-xsub", help="the suite (split protocol) for a data "
                   "folder or 'synthetic' (default: ntu60-xsub)")
    v.add_argument("--to", nargs=2, metavar=("FORMAT", "FILE"),
                   help="also write the data as FORMAT (pkl: MMAction2/PYSKL pickle)")
    v.add_argument("--layout", help="with FILE.pkl: ntu25 | kinect20 | coco17")
    v.add_argument("--split", help="with FILE.pkl: e.g. xsub")
    v.add_argument("--fps", type=float, help="with FILE.pkl: its frame rate (default 30)")
    v = verbs.add_parser("check", help="check a folder of raw NTU .skeleton files: unreadable, "
                         "empty and absent samples")
    v.add_argument("path", nargs="?", help="the folder of raw NTU .skeleton files")
    v.add_argument("--expected", metavar="FILE", help="the official available-samples list "
                   "(e.g. ntu120_available_samples.txt) to find absent samples")
    v.add_argument("--dataset", choices=["ntu60", "ntu120"],
                   help="the dataset the folder holds (default: guessed from the names)")
    p.set_defaults(fn=cmd_data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench", description=(
        "Benchmark and ablation toolkit for interpretable, LLM-based action recognition."))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a suite's methods and write its report")
    p.add_argument("--suite", help="default: ntu60-xsub (with --data FILE.pkl: made from the file)")
    p.add_argument("--methods", help="comma-separated method names (default: the suite's)")
    _add_run_options(p)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("ablate", help="sweep one knob (e.g. vst.codebook) or a grid of several "
                       "(vst.codebook,lora.rank) and report it")
    p.add_argument("ablation", help="registered ablation(s), comma-separated, or an ad-hoc "
                   "<method>.<config key> axis (needs --values)")
    p.add_argument("--suite")
    p.add_argument("--values", help="comma-separated values, one ';'-separated group per axis "
                   "(default: the profile's grid)")
    _add_run_options(p)
    p.set_defaults(fn=cmd_ablate)
    p = sub.add_parser("report", help="re-render a report from stored runs (no model is run)")
    p.add_argument("--suite", help="the suite whose runs to report (default: ntu60-xsub; a "
                   "pickle's suite is FILE.pkl-<split>)")
    p.add_argument("--ablation", help="report an ablation instead (e.g. vst.codebook), on its "
                   "default suite unless --suite is given")
    p.add_argument("--profile", help="the profile of the runs to report: "
                   f"{' | '.join(PROFILES)} (default: cpu)")
    p.add_argument("--format", default="md,tex", help="which of the written files' paths to "
                   "print: md, tex, json, csv, comma-separated (default: md,tex); all four are "
                   "always written")
    p.add_argument("--out", default="bench-out", help="the output folder the runs are stored "
                   "in (default: ./bench-out)")
    p.add_argument("--limit", type=int, metavar="N", help="report the runs made with --limit N "
                   "(default: the profile's own, as for bench run: 3 for quick, else none)")
    p.add_argument("--evaluate", choices=EVALUATE, default="test",
                   help="report the runs scored on this part of the split (default: test)")
    p.set_defaults(fn=cmd_report)
    _add_data_parser(sub.add_parser("data", help="synthetic data, preparation and checks"))
    p = sub.add_parser("config", help="print the resolved config (JSON) a run of METHOD would "
                       "use, checked as at plan time")
    p.add_argument("method", help="a method name (bench list methods)")
    p.add_argument("--profile", default="cpu", help=f"{' | '.join(PROFILES)} (default: cpu)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set a config field, as for bench run (repeatable)")
    p.add_argument("--allow-any-config", action="store_true",
                   help="let --set config=FILE name a file outside baselines/")
    p.set_defaults(fn=cmd_config)
    p = sub.add_parser("list", help="list suites, methods, ablations or metrics")
    p.add_argument("what", choices=["suites", "methods", "ablations", "metrics"])
    p.set_defaults(fn=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "report" and not (args.suite or args.ablation):
        args.suite = "ntu60-xsub"
    try:
        return args.fn(args)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C, or the driver's Stopped (SIGINT / SIGTERM)
        if not getattr(exc, "reported", False):  # the driver says what it stopped itself
            print("bench: interrupted; finished runs are kept, rerun to resume", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    except BrokenPipeError:  # the reader left (`bench list metrics | head`): stop as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 128 + 13  # SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
