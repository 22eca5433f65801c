"""bench: benchmark and ablation toolkit for interpretable, LLM-based action recognition."""

__version__ = "0.1.0"


def run_suite(suite="ntu60-xsub", data="synthetic", methods=None, profile="cpu", seeds=(0,),
              out="bench-out", **options):
    """Run a suite as `bench run` does; one record per run (see bench.api.run_suite)."""
    from bench.api import run_suite as run  # imported here: `import bench` stays instant

    return run(suite, data, methods, profile, seeds, out, **options)


def load_results(out="bench-out", suite=None):
    """The stored runs' records, as in results.json (see bench.api.load_results)."""
    from bench.api import load_results as load

    return load(out, suite)
