"""The skeleton baselines: which baseline file and which values each profile uses.

`smoke` (tests, seconds) and `cpu` (minutes on a CPU) are narrower, shorter versions of the
published recipe; `paper` is MMAction2's recipe as published (see each `<name>_paper.py`).
"""
from __future__ import annotations

from bench.methods.mmaction_gcn import _COMMON, MMActionGCN

# Backbone widths per profile for the 10-stage GCNs (ST-GCN, AAGCN, ST-GCN++, CTR-GCN), whose
# published form is 10 stages of 64/128/256 channels.
_SMOKE_STAGES = {"base_channels": 16, "num_stages": 4, "inflate_stages": [3], "down_stages": [3]}
_CPU_STAGES = {"base_channels": 16, "num_stages": 6, "inflate_stages": [3, 5],
               "down_stages": [3, 5]}


def gcn_profiles(name: str, smoke_backbone: dict, cpu_backbone: dict, smoke_out: int,
                 cpu_out: int) -> dict:
    """smoke / cpu / paper for a GCN trained with MMAction2's NTU recipe (u100, 80 passes)."""
    gcn = {**_COMMON, "stream": "joint"}
    return {
        "smoke": {**gcn, "config": f"{name}_smoke.py",
                  "model": {"backbone": smoke_backbone, "cls_head": {"in_channels": smoke_out}},
                  "epochs": 10, "clip_len": 32, "test_clips": 1, "batch_size": 8,
                  "test_batch_size": 8, "lr": 0.025},
        "cpu": {**gcn, "config": f"{name}_cpu.py",
                "model": {"backbone": cpu_backbone, "cls_head": {"in_channels": cpu_out}},
                "epochs": 16, "clip_len": 48, "test_clips": 2, "batch_size": 16,
                "test_batch_size": 16, "lr": 0.05,
                # UTD-MHAD (~330 train clips): 16 epochs of one pass gave ST-GCN 36% top-1,
                # below 1-NN (84%); three passes per epoch there, one on synthetic NTU60.
                "min_epoch_clips": 700},
        # MMAction2's recipe: 16 epochs x RepeatDataset(5), u100, 10 test clips, SGD nesterov,
        # lr 0.1 per 128 samples (scaled linearly to the real total batch).
        "paper": {**gcn, "config": f"{name}_paper.py", "model": {},
                  "epochs": 16, "repeat": 5, "clip_len": 100, "test_clips": 10,
                  "batch_size": 16, "test_batch_size": 1, "lr": 0.1, "auto_scale_lr": True,
                  "num_workers": 2},
    }


class STGCN(MMActionGCN):
    """ST-GCN (Yan et al. 2018), as MMAction2 1.2.0 trains it."""

    PROFILES = gcn_profiles("stgcn", _SMOKE_STAGES, _CPU_STAGES, 32, 64)


class AAGCN(MMActionGCN):
    """2s-AGCN (Shi et al. 2019): MMAction2's AAGCN backbone without attention, its recipe."""

    PROFILES = gcn_profiles("aagcn", _SMOKE_STAGES, _CPU_STAGES, 32, 64)


class STGCNPP(MMActionGCN):
    """ST-GCN++ (PYSKL, Duan et al. 2022): adaptive graph, residual GCN, multi-scale TCN."""

    PROFILES = gcn_profiles("stgcnpp", _SMOKE_STAGES, _CPU_STAGES, 32, 64)


class CTRGCN(MMActionGCN):
    """CTR-GCN (Chen et al. 2021): bench's implementation (gcn_models/ctrgcn.py)."""

    PROFILES = gcn_profiles("ctrgcn", _SMOKE_STAGES, _CPU_STAGES, 32, 64)


class MSG3D(MMActionGCN):
    """MS-G3D (Liu et al. 2020): bench's implementation (gcn_models/msg3d.py); published widths
    96/192/384 with 13 GCN and 6 G3D scales."""

    PROFILES = gcn_profiles(
        "msg3d", {"base_channels": 8, "num_gcn_scales": 4, "num_g3d_scales": 2},
        {"base_channels": 16, "num_gcn_scales": 8, "num_g3d_scales": 4}, 32, 64)
