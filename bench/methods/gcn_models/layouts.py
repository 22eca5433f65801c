"""bench skeleton layouts as MMAction2 sees them: graph, bone pairs, centre, left/right joints.

MMAction2's Graph knows 'nturgb+d', 'coco' and 'openpose' by name and any other skeleton as a dict
{num_node, inward, center}; its JointToBone and PreNormalize3D hard-code NTU's joints. For layouts
MMAction2 does not name (kinect20) we pass the dict and use our own transforms (transforms.py).
"""
from __future__ import annotations

from bench.data.layouts import Layout, get_layout

MMACTION_NAMES = {"ntu25": "nturgb+d"}  # bench layout -> MMAction2's own name for it
# The graph centre (ST-GCN's partition root). NTU's is the spine shoulder; Kinect v1's analogue is
# the shoulder centre.
GRAPH_CENTRES = {"kinect20": 2}
# PreNormalize3D's joints: origin (the spine), z axis (hip centre -> spine), x axis (right ->
# left shoulder). For kinect20 these are the same indices as in NTU's layout.
NORMALISE_JOINTS = {"ntu25": {"center": 1, "zaxis": [0, 1], "xaxis": [8, 4]},
                    "kinect20": {"center": 1, "zaxis": [0, 1], "xaxis": [8, 4]}}


def mmaction_graph(name: str):
    """What goes into `graph_cfg.layout`: MMAction2's name, or a dict for our other layouts."""
    if name in MMACTION_NAMES:
        return MMACTION_NAMES[name]
    layout = get_layout(name)
    return {"num_node": layout.num_joints, "inward": [list(b) for b in layout.bones],
            "center": GRAPH_CENTRES.get(name, layout.center)}


def bone_pairs(layout: Layout) -> list[tuple[int, int]]:
    """(joint, parent) for every joint; a root (no parent) pairs with itself: a zero bone."""
    parent = dict(layout.bones)
    return [(v, parent.get(v, v)) for v in range(layout.num_joints)]


def mirrored_joints(layout: Layout) -> tuple[list[int], list[int]]:
    """Index lists (left, right) of joints whose names differ only in left/right, for Flip."""
    index = {name: i for i, name in enumerate(layout.joints)}
    left, right = [], []
    for name, i in index.items():
        if name.startswith("left ") and "right " + name[5:] in index:
            left.append(i)
            right.append(index["right " + name[5:]])
    return left, right


def is_2d(layout: Layout) -> bool:
    """2D layouts carry (x, y, score) in the 3 channels (PYSKL's convention for GCNs)."""
    return getattr(layout, "dims", 3) == 2
