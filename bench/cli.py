"""The `bench` command line. Heavy libraries are imported inside subcommands, never at start-up."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.errors import BenchError


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="folder of raw NTU .skeleton files (or $BENCH_DATA_ROOT)")
    p.add_argument("--data", help="'synthetic': a generated dataset in the NTU raw format")
    p.add_argument("--profile", default="cpu", help="smoke | cpu | paper (default: cpu)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    p.add_argument("--out", default="bench-out", help="output folder (default: ./bench-out)")
    p.add_argument("--executor", default=os.environ.get("BENCH_EXECUTOR", "local"))
    p.add_argument("--workers", type=int, default=1, help="runs in parallel (local executor)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit")


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise BenchError(f"{what} {text!r}: expected comma-separated integers") from None


def _source(args, suite):
    """Validate the data arguments, then locate (or generate) the data: the slow step, so last."""
    from bench.datasets import default_data_arg, resolve_source

    data_arg = default_data_arg(args.data_root, args.data)
    return data_arg, resolve_source(suite, data_arg)


def _execute(args, specs, data_arg):
    from bench.driver import execute_plan, say
    from bench.executors import EXECUTORS
    from bench.store import Store

    EXECUTORS.get(args.executor)  # unknown names fail before any work
    store = Store(Path(args.out))
    if args.dry_run:
        for s in specs:
            state = "done" if store.is_done(s.run_id) else "pending"
            print(f"{s.run_id}\t{s.method}\tseed={s.seed}\t{s.profile}\t{state}")
        return store, None
    say(f"manifest {specs[0].manifest_sha256[:12]}; {len(specs)} runs -> {store.runs}")
    return store, execute_plan(specs, store, data_arg, workers=args.workers)


def cmd_run(args) -> int:
    from bench.methods import METHODS
    from bench.plan import plan_suite
    from bench.suites import SUITES

    suite = SUITES.get(args.suite)
    methods = args.methods.split(",") if args.methods else list(suite.methods)
    for m in methods:
        METHODS.get(m)
    data_arg, source = _source(args, suite)
    specs = plan_suite(source, methods, args.profile, _ints(args.seeds, "--seeds"))
    store, results = _execute(args, specs, data_arg)
    if results is not None:
        print(_suite_report(store, suite, results, source.synthetic))
    return 0


def _suite_report(store, suite, results, synthetic):
    from bench.data.ntu_classes import class_names
    from bench.reporting.report import suite_report

    names = class_names(suite.dataset)[:suite.num_actions]
    return suite_report(store, suite, results, names, synthetic)


def cmd_ablate(args) -> int:
    from bench.ablations import load_ablations
    from bench.plan import plan_ablation
    from bench.reporting.report import ablation_report

    from bench.suites import SUITES

    ablation = load_ablations().get(args.ablation)
    suite = SUITES.get(args.suite or ablation.default_suite)
    data_arg, source = _source(args, suite)
    values = ([_parse_value(v) for v in args.values.split(",")] if args.values
              else ablation.grid(args.profile))
    specs = plan_ablation(source, ablation, values, args.profile, _ints(args.seeds, "--seeds"))
    store, results = _execute(args, specs, data_arg)
    if results is not None:
        print(ablation_report(store, ablation, suite, results, source.synthetic))
    return 0


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def cmd_report(args) -> int:
    from bench.store import Store

    store = Store(Path(args.out))
    results = store.results()
    if args.ablation:
        from bench.ablations import load_ablations
        from bench.reporting.report import ablation_report
        from bench.suites import SUITES

        ablation = load_ablations().get(args.ablation)
        suite = SUITES.get(args.suite or ablation.default_suite)
        runs = [r for r in results if r["spec"]["suite"] == suite.name
                and r["spec"]["method"] == ablation.method and r["spec"]["profile"] == args.profile]
        path = ablation_report(store, ablation, suite, runs, _synthetic(runs))
    else:
        from bench.suites import SUITES

        suite = SUITES.get(args.suite)
        runs = [r for r in results if r["spec"]["suite"] == suite.name
                and r["spec"]["profile"] == args.profile]
        path = _suite_report(store, suite, runs, _synthetic(runs))
    for fmt in args.format.split(","):
        print(path.with_suffix("." + fmt.strip()))
    return 0


def _synthetic(results) -> bool:
    return any(r["spec"]["data"].startswith("synthetic:") for r in results)


def cmd_list(args) -> int:
    from bench.suites import SUITES

    if args.what == "suites":
        for name in SUITES:
            s = SUITES.get(name)
            print(f"{name:14s} {s.dataset}/{s.protocol}  methods: {','.join(s.methods)}  {s.description}")
    elif args.what == "methods":
        from bench.methods import METHODS
        print("\n".join(METHODS.names()))
    elif args.what == "ablations":
        from bench.ablations import load_ablations
        ablations = load_ablations()
        for name in ablations:
            a = ablations.get(name)
            print(f"{name:16s} method={a.method} grid={a.values['paper']}  {a.description}")
    elif args.what == "metrics":
        print("top1\ntop5\nmean_class_acc\nrouge_l\nvst_test_utilisation\nvst_test_perplexity\n"
              "vst_test_flip_rate")
    return 0


def cmd_data(args) -> int:
    from bench.datasets import load_bundle, resolve_source
    from bench.suites import SUITES

    if args.action != "synth" and not args.path:
        raise BenchError(f"bench data {args.action} needs a data root: bench data {args.action} DIR")
    if args.action == "synth":
        source = resolve_source(SUITES.get(args.suite), "synthetic")
        print(source.root)
    elif args.action == "check":
        from bench.data.ntu_loader import find_skeleton_files
        files = find_skeleton_files(Path(args.path))
        print(f"{len(files)} .skeleton files under {args.path}")
    elif args.action == "prepare":
        suite = SUITES.get(args.suite)
        source = resolve_source(suite, args.path)
        bundle = load_bundle(source, workers=os.cpu_count() or 1)
        print(f"{suite.name}: train {len(bundle.train)}, val {len(bundle.val)}, "
              f"test {len(bundle.test)}; manifest {source.manifest.short}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench", description=(
        "Benchmark and ablation toolkit for interpretable, LLM-based action recognition."))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a suite's methods and write its report")
    p.add_argument("--suite", default="ntu60-xsub")
    p.add_argument("--methods", help="comma-separated method names (default: the suite's)")
    _add_run_options(p)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("ablate", help="sweep one knob (e.g. vst.codebook) and report it")
    p.add_argument("ablation")
    p.add_argument("--suite")
    p.add_argument("--values", help="comma-separated values (default: the profile's grid)")
    _add_run_options(p)
    p.set_defaults(fn=cmd_ablate)
    p = sub.add_parser("report", help="re-render a report from stored runs (no model is run)")
    p.add_argument("--suite")
    p.add_argument("--ablation")
    p.add_argument("--profile", default="cpu")
    p.add_argument("--format", default="md,tex")
    p.add_argument("--out", default="bench-out")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("data", help="synthetic data, preparation and checks")
    p.add_argument("action", choices=["synth", "prepare", "check"])
    p.add_argument("path", nargs="?", help="data root (prepare, check)")
    p.add_argument("--suite", default="ntu60-xsub")
    p.set_defaults(fn=cmd_data)
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
    except KeyboardInterrupt:
        print("bench: interrupted; finished runs are kept, rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
