"""bench's own MMAction2 modules: CTR-GCN and MS-G3D backbones (not in the mmaction2 wheel) and
layout-aware skeleton transforms, registered into mmaction's registries once per process."""
from __future__ import annotations

BACKBONES = {"CTRGCN": "bench.methods.gcn_models.ctrgcn:CTRGCN",
             "MSG3D": "bench.methods.gcn_models.msg3d:MSG3D"}


def register_bench_modules(MODELS, TRANSFORMS) -> None:
    """Idempotent: a name already registered (by us, earlier) is left alone."""
    import importlib

    for name, target in BACKBONES.items():
        if MODELS.get(name) is None:
            module, attr = target.split(":")
            MODELS.register_module(name=name, module=getattr(importlib.import_module(module), attr))
    from bench.methods.gcn_models.transforms import transform_classes

    if TRANSFORMS.get("SkeletonToPose2D") is None:
        for name, cls in transform_classes().items():
            TRANSFORMS.register_module(name=name, module=cls)
