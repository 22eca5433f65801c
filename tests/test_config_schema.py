"""Every method's config is checked at plan time against its recipe's own values (types, nested
fields, counts >= 1, non-negative numbers), so a bad --set fails before anything runs."""
from __future__ import annotations

import pytest

from bench.errors import BenchError
from bench.plan import check_config


def _config(method: str, **changes) -> dict:
    from bench.methods import METHODS

    config = METHODS.get(method).default_config("cpu")
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for p in parents:
            node = node[p]
        node[last] = value
    return config


@pytest.mark.parametrize("method, change, message", [
    ("knn", {"frames": "abc"}, "frames='abc'; expected an int"),
    ("knn", {"frames": 0}, "frames=0; expected >= 1"),
    ("knn", {"include_val": 1}, "include_val=1; expected a bool"),
    ("stgcn", {"lr": -0.1}, "lr=-0.1; expected >= 0"),
    ("stgcn", {"model__backbone__base_channels": "x"}, "model.backbone.base_channels='x'"),
    ("noop", {"sleep_s": "long"}, "sleep_s='long'"),
    # augment is checked by the GCNs themselves (OWN_CHECKS): null or angles >= 0
    ("stgcn", {"augment__yaw_deg": -5}, "augment.yaw_deg=-5; expected null or {yaw_deg"),
    ("stgcn", {"augment": 3}, "augment=3; expected null or"),
    # lvlm_var's own check (config.py) also holds each value to its [base] value's type
    ("lvlm_var", {"lvlm.lr": "abc"}, "lvlm.lr='abc'; expected a float"),
    ("lvlm_var", {"lvlm.steps": 1.5}, "lvlm.steps=1.5; expected an int"),
    ("lvlm_var", {"vst.merge_runs": 1}, "vst.merge_runs=1; expected a bool"),
])
def test_a_value_unlike_the_recipe_is_refused_in_one_line(method, change, message):
    with pytest.raises(BenchError, match=message.replace("(", r"\(").replace(".", r"\.")):
        check_config(method, _config(method, **change))


@pytest.mark.parametrize("method, change", [
    ("knn", {"frames": 16, "metric": "euclidean", "include_val": False}),
    ("stgcn", {"lr": 1, "epochs": 2, "stream": "bone", "checkpoint": "last"}),  # int for float
    ("tsn", {"video_root": "/data/rgb"}),  # a None default takes anything
    ("stgcn", {"augment": None}),  # augmentation off
    ("stgcn", {"augment": {"yaw_deg": 0, "tilt_deg": 0, "scale": 0}}),  # 0 degrees is no count
    # lvlm_var: 0 means off / the whole batch for these counts, an int may stand for a float
    ("lvlm_var", {"lvlm.micro_batch": 0, "lvlm.min_steps": 0, "vst.aug_copies": 0, "lvlm.lr": 1}),
])
def test_values_like_the_recipe_pass(method, change):
    check_config(method, _config(method, **change))
