"""The skeleton baselines: each profile p of a GCN runs baselines/<name>_<p>.py, whose `bench`
block holds its values (and the reasons for them).

`smoke` (tests, seconds) and `cpu` (minutes on a CPU) are narrower, shorter versions of the
published recipe; `paper` is MMAction2's recipe as published (see each `<name>_paper.py`).
stgcn_cpu.py says why the cpu recipe is what it is (small Kinect datasets); the other GCNs' smoke
and cpu files inherit ST-GCN's and change the model.
"""
from __future__ import annotations

from bench.methods.mmaction_gcn import MMActionGCN

REGISTER = {  # bench/methods/__init__.py reads this without importing the module
    "stgcn": {"class": "STGCN", "tags": ["skeleton", "mmaction"]},
    "aagcn": {"class": "AAGCN", "tags": ["skeleton", "mmaction"]},
    "stgcnpp": {"class": "STGCNPP", "tags": ["skeleton", "mmaction"]},
    "ctrgcn": {"class": "CTRGCN", "tags": ["skeleton", "mmaction"]},
    "msg3d": {"class": "MSG3D", "tags": ["skeleton", "mmaction"]},
}


class STGCN(MMActionGCN):
    """ST-GCN (Yan et al. 2018), as MMAction2 1.2.0 trains it."""

    RECIPE = "stgcn"


class AAGCN(MMActionGCN):
    """2s-AGCN (Shi et al. 2019): MMAction2's AAGCN backbone without attention, its recipe."""

    RECIPE = "aagcn"


class STGCNPP(MMActionGCN):
    """ST-GCN++ (PYSKL, Duan et al. 2022): adaptive graph, residual GCN, multi-scale TCN."""

    RECIPE = "stgcnpp"


class CTRGCN(MMActionGCN):
    """CTR-GCN (Chen et al. 2021): bench's implementation (gcn_models/ctrgcn.py)."""

    RECIPE = "ctrgcn"


class MSG3D(MMActionGCN):
    """MS-G3D (Liu et al. 2020): bench's implementation (gcn_models/msg3d.py); published widths
    96/192/384 with 13 GCN and 6 G3D scales."""

    RECIPE = "msg3d"
