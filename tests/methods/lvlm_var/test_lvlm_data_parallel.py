"""LVLM-VAR's LoRA training data-parallel on 2 gloo processes (torchrun, CPU) equals 1 process at
the same global batch, and so does one process that accumulates the batch in micro-batches
(lvlm.micro_batch): loss curve, LoRA/projector weights and test scores, float32 (the smoke
profile's dtype). lora.dropout=0: dropout masks are drawn per rank and would differ; token noise
is kept on, as every rank draws the whole global batch's noise from the same generator.
The ranks import the code when torchrun starts them, after the single run: an edit of the code
in between (a shared working tree) makes them differ; rerun."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from toys import named_motion_bundle


OVERRIDES = {
    "lvlm.steps": 4, "lvlm.batch_size": 5,  # 5 rows: shards of 3 and 2, unequal on purpose
    "lvlm.micro_batch": 0,  # the whole batch (or shard) in one pass unless a test says so
    "lora.dropout": 0.0, "lvlm.token_noise": 0.3,
    "vst.epochs": 3, "vst.vq_epochs": 1, "lvlm.max_new_tokens": 4,
    "eval.faithfulness_samples": 2, "eval.token_baselines": False,
}


def _bundle():
    return named_motion_bundle(num_classes=3, train_per_class=4, test_per_class=2)


def fit_and_predict(out: str, cache: str, micro_batch: int = 0) -> int:
    """One process of a run (rank RANK of a torchrun group, or the only one): fit and predict,
    then save what the comparison needs to OUT/rank{RANK}.pt."""
    from bench.methods.lvlm_var import tuning
    from bench.methods.lvlm_var.method import LvlmVar

    torch.set_num_threads(1)
    rank = int(os.environ.get("RANK", "0"))
    rows, real = [], tuning.answer_loss

    def spy(bb, shared, ids, *args, **kwargs):  # the rows this process trains on per step
        rows.append(len(ids))
        return real(bb, shared, ids, *args, **kwargs)

    tuning.answer_loss = spy
    try:
        bundle = _bundle()
        config = {**LvlmVar.default_config("smoke"), **OVERRIDES, "lvlm.micro_batch": micro_batch}
        method = LvlmVar(config, profile="smoke",
                         seed=0, workdir=Path(out) / f"work{rank}", cache_dir=Path(cache))
        method.workdir.mkdir(parents=True)
        method.fit(bundle)
        trained = {n: p.detach().clone() for n, p in method.bb.peft_model.named_parameters()
                   if p.requires_grad}
        pred = method.predict(bundle.test, bundle)
    finally:
        tuning.answer_loss = real
    torch.save({"losses": method.train_losses, "trained": trained, "scores": pred.scores,
                "texts": pred.texts, "diag": method.diagnostics(), "rows": rows},
               Path(out) / f"rank{rank}.pt")
    return rank


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from bench.executors.task import invoke

    tmp = tmp_path_factory.mktemp("dp")
    one, two, micro = tmp / "one", tmp / "two", tmp / "micro"
    one.mkdir(), two.mkdir(), micro.mkdir()
    fit_and_predict(str(one), str(tmp / "cache1"))
    fit_and_predict(str(micro), str(tmp / "cache1"), micro_batch=2)  # the VST from the cache
    # the ranks import this module by name, and it imports tests/toys.py
    here = Path(__file__).resolve().parent
    env = {"PYTHONPATH": os.pathsep.join([str(here), str(here.parents[1])] + sys.path),
           "OMP_NUM_THREADS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    try:  # invoke sets the env for torchrun (and so for the ranks)
        assert invoke(fit_and_predict, (str(two), str(tmp / "cache2")), {}, env, procs=2) == 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    load = lambda p: torch.load(p, weights_only=False)  # noqa: E731
    return (tmp, load(one / "rank0.pt"), load(two / "rank0.pt"), load(two / "rank1.pt"),
            load(micro / "rank0.pt"))


def test_two_processes_train_like_one_at_the_same_global_batch(runs):
    _, single, rank0, rank1, _ = runs
    assert single["diag"]["lvlm_steps"] == rank0["diag"]["lvlm_steps"] == 4
    assert rank0["diag"]["lvlm_train_procs"] == 2 and "lvlm_train_procs" not in single["diag"]
    # each rank ran its shard of every global batch of 5, the single process the whole batch
    assert single["rows"] == [5] * 4
    assert rank0["rows"] == [3] * 4 and rank1["rows"] == [2] * 4
    np.testing.assert_allclose(rank0["losses"], single["losses"], rtol=1e-5)
    assert rank1["losses"] == rank0["losses"]  # the all-reduced loss of the global batch
    assert single["losses"][0] != single["losses"][-1]
    assert rank0["trained"].keys() == single["trained"].keys()
    assert any("lora_A" in n for n in single["trained"]) and any(
        "multi_modal_projector" in n for n in single["trained"])
    for name, w in single["trained"].items():
        # Adam divides each gradient element by its own size, so float-order differences in
        # near-zero gradient elements (two shard sums vs one batch sum) grow: measured up to
        # 4e-5 of a tensor's norm after 4 steps, while losses and scores agree to 1e-7
        diff = float((rank0["trained"][name] - w).norm() / w.norm())
        assert diff < 2e-4, (name, diff)
        assert torch.equal(rank1["trained"][name], rank0["trained"][name])  # in lockstep
    moved = [n for n, w in single["trained"].items() if "lora_B" in n and w.abs().max() > 0]
    assert moved  # LoRA B starts at zero: training changed it


def test_two_processes_predict_like_one(runs):
    _, single, rank0, rank1, _ = runs
    np.testing.assert_allclose(rank0["scores"], single["scores"], rtol=1e-5)
    np.testing.assert_array_equal(rank0["scores"].argmax(1), single["scores"].argmax(1))
    assert rank0["texts"] == single["texts"]
    np.testing.assert_array_equal(rank1["scores"], rank0["scores"])


def test_the_vst_is_trained_once_by_rank_0_and_only_rank_0_saves_the_adapter(runs):
    tmp, _, rank0, rank1, _ = runs
    assert rank0["diag"]["vst_cache_hit"] == 0.0 and rank1["diag"]["vst_cache_hit"] == 1.0
    assert len([p for p in (tmp / "cache2" / "vst").iterdir() if p.is_dir()]) == 1
    assert (tmp / "two" / "work0" / "lvlm" / "projector.pt").is_file()
    assert not (tmp / "two" / "work1" / "lvlm").exists()


def test_micro_batches_train_and_predict_like_the_whole_batch(runs):
    """lvlm.micro_batch=2: each batch of 5 as passes of 2, 2 and 1 rows, gradients accumulated
    over the batch's weight total: the loss curve, weights and scores of the whole batch."""
    _, single, _, _, micro = runs
    assert micro["rows"] == [2, 2, 1] * 4
    np.testing.assert_allclose(micro["losses"], single["losses"], rtol=1e-5)
    for name, w in single["trained"].items():
        diff = float((micro["trained"][name] - w).norm() / w.norm())
        assert diff < 2e-4, (name, diff)  # float order, amplified by Adam (see above)
    np.testing.assert_allclose(micro["scores"], single["scores"], rtol=1e-5)
    assert micro["texts"] == single["texts"]


def test_a_single_process_joins_no_group(monkeypatch):
    from bench.methods.lvlm_var.distributed import join, launched_ranks

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")  # without torchrun's LOCAL_RANK: not a rank
    assert launched_ranks() == 1 and join() is None


def test_gpu_benchmark_data_parallel_mode_runs_on_two_gloo_processes(tmp_path):
    """benchmarks/lvlm_gpu.py --data-parallel (what gpu_check.sh runs on several GPUs), tiny
    geometry on the CPU: the global batch is both ranks' rows, scaled against one process."""
    import json
    import subprocess

    script = Path(__file__).resolve().parents[3] / "benchmarks" / "lvlm_gpu.py"
    single, dp = tmp_path / "one.json", tmp_path / "dp.json"
    common = ["--geometry", "tiny", "--seq-lens", "16", "--batch", "2", "--iters", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # what a one-process run of the script writes (only the fields the scaling reads)
    single.write_text(json.dumps([{"geometry": "tiny", "seq_len": 16, "batch": 2,
                                   "train_tokens_per_s": 10.0}]))
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node=2", str(script), "--data-parallel", *common,
                           "--single", str(single), "--out", str(dp)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    [r] = json.loads(dp.read_text())
    assert r["procs"] == 2 and r["batch"] == 4 and r["device"] == "cpu"
    assert r["train_tokens_per_s"] > 0 and r["allreduce_ms"] > 0
    assert r["scaling_efficiency"] == pytest.approx(r["train_tokens_per_s"] / (2 * 10.0))
    assert r["trainable_params"] > 0
    assert "cpu x 2" in done.stdout


@pytest.mark.parametrize("checkpointing", [False, True])
def test_shard_losses_over_the_global_weight_total_add_up_to_the_batch_loss(checkpointing):
    """What each rank computes: its shard's loss over weight_total of the whole batch; the sum
    over shards is the one-process loss, with the shared prompt cached or (checkpointing) not."""
    from bench.methods.lvlm_var.config import default_config
    from bench.methods.lvlm_var.inputs import pad
    from bench.methods.lvlm_var.lm import build_backbone
    from bench.methods.lvlm_var.prompts import PromptBuilder, template_text
    from bench.methods.lvlm_var.tuning import answer_loss, weight_total

    cfg = {**default_config("smoke"), "lvlm.injection": "vocab"}  # code tokens in the ids
    names = ["wave hand", "kick left leg", "nod head"]
    corpus = names + ["the right hand rises", cfg["prompt.system"], cfg["prompt.instruction"]]
    bb = build_backbone(cfg, corpus=corpus + template_text(), num_codes=6, seed=0)
    bb.checkpointing = checkpointing  # full rows, no shared cache (what checkpointing needs)
    prompts = PromptBuilder(bb.tokenizer, cfg["lvlm.template"], cfg["prompt.system"],
                            cfg["prompt.instruction"], bb.placeholder_id, bb.code_token_ids, None)
    rng = np.random.default_rng(0)
    rows = [prompts.training_example(rng.integers(6, size=rng.integers(2, 9)).tolist(),
                                     names[k % 3], "the right hand rises" * (k % 2), 0.5)
            for k in range(5)]
    shared = prompts.shared()

    def loss(part, total=None):
        ids, mask = pad([r[0] for r in part], int(bb.tokenizer.pad_token_id), "right")
        weights, _ = pad([r[1] for r in part], 0.0, "right")
        return float(answer_loss(bb, shared, ids, mask, weights, None, total=total))

    with torch.no_grad():
        whole = loss(rows)
        total = weight_total(bb, shared, [r[1] for r in rows])
        shards = [loss(rows[r::2], total) for r in range(2)]
        own = [loss(rows[r::2]) for r in range(2)]  # each shard over its own weights
    assert sum(shards) == pytest.approx(whole, rel=1e-5)
    assert np.mean(own) != pytest.approx(whole, rel=1e-5)  # what averaging rank losses gives
