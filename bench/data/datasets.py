"""From a suite and a data reference to a DataBundle: locate files, build the manifest, load arrays.

The data a run reads is a DataRef (bench/specs.py), built once from the command line by
`choose_data` and stored in every RunSpec:
- `synthetic`: generated once into the cache, in the real NTU raw format;
- `ntu-raw` / `kinect-v1` (`--data-root DIR`): raw NTU `.skeleton` files, or for the Kinect v1
  suites (utd-mhad-xsub, msr-action3d-xsub) the dataset's own folder, converted once;
- `pickle` (`--data FILE.pkl --layout L --split S [--fps F]`): any MMAction2/PYSKL annotation
  pickle with a declared layout; its suite is made from the file (`<name>-<split>`).
`resolve_source` fills in the content digest, so a run id names the data's content, not its path.
Nothing ever falls back to synthetic data silently. Prepared arrays are cached by the content
hash of the sources and the preparation settings (bench/data/prepared.py).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.paths import cache_root, safe_folder_name
from bench.specs import DataRef, SplitManifest
from bench.suites import SUITES, SuiteSpec

SYNTHETIC = "synthetic"
PICKLE_FPS = 30.0  # a pickle does not record its frame rate: NTU's unless --fps says otherwise
ARRAYS_VERSION = 2  # bump when the prepared NTU-array format changes
DEFAULT_SUITE = "ntu60-xsub"
PICKLE_METHODS = ("lvlm_var", "stgcn", "knn")
# The split names MMAction2's NTU pickles carry (`<protocol>_train`, `<protocol>_val`).
MMACTION_PROTOCOLS = {"ntu60": ("xsub", "xview"), "ntu120": ("xsub", "xset")}


@dataclass
class DataSource:
    """Where a suite's samples come from, with the split manifest they form."""

    suite: SuiteSpec
    root: Path
    files: dict  # raw NTU: sample name -> .skeleton path (the suite's samples); else empty
    manifest: SplitManifest
    ref: DataRef  # recorded in every RunSpec, its content digest filled in
    prepared: Path | None = None  # pose datasets: their prepared folder (arrays + meta.json)

    @property
    def synthetic(self) -> bool:
        """Generated data: `--data synthetic`, or a data root a generator wrote (`bench data
        synth --full` marks its meta.json), so its reports say synthetic."""
        return self.ref.kind == "synthetic" or (self.ref.kind == "ntu-raw"
                                                and _marked_synthetic(self.root))

    @property
    def class_names(self) -> list[str]:
        return suite_class_names(self.suite)


def _marked_synthetic(root: Path) -> bool:
    for folder in (root, root.parent):
        try:
            return bool(json.loads((folder / "meta.json").read_text()).get("synthetic"))
        except (OSError, ValueError, AttributeError):
            continue
    return False


def suite_class_names(suite: SuiteSpec) -> list[str]:
    if suite.class_names:
        return list(suite.class_names)
    from bench.data.ntu.classes import class_names
    return class_names(suite.dataset)[:suite.num_actions]


# ---- the user's choice of data -----------------------------------------------------------------

def choose_data(suite_name: str | None, data_root: str | None, data: str | None,
                layout: str | None = None, split: str | None = None, fps: float | None = None,
                default_suite: str = DEFAULT_SUITE) -> tuple[SuiteSpec, DataRef]:
    """The suite and data the arguments name: --data synthetic, --data FILE.pkl (with --layout),
    --data-root DIR or $BENCH_DATA_ROOT. The digest is filled in later, by resolve_source."""
    if data and data_root:
        raise BenchError("give either --data (synthetic or FILE.pkl) or --data-root DIR, not both")
    if data and data != SYNTHETIC:
        if not data.endswith((".pkl", ".pickle")) and not Path(data).is_file():
            raise BenchError(f"--data {data!r}: expected 'synthetic' or an annotation pickle "
                             f"FILE.pkl (use --data-root DIR for a dataset folder)")
        ref = pickle_ref(data, layout, split, fps)
        return suite_for(suite_name, ref), ref
    if layout or split or fps is not None:
        raise BenchError("--layout, --split and --fps apply only to --data FILE.pkl")
    suite = SUITES.get(suite_name or default_suite)
    if data:
        return suite, suite_ref(suite, SYNTHETIC)
    root = data_root or os.environ.get("BENCH_DATA_ROOT")
    if not root:
        raise BenchError("no data given: pass --data-root DIR (raw NTU .skeleton files), set "
                         "BENCH_DATA_ROOT, or pass --data synthetic (or --data FILE.pkl)")
    return suite, suite_ref(suite, root)


def suite_ref(suite: SuiteSpec, data: str) -> DataRef:
    """A registered suite's data: 'synthetic' or its data root (layout, split, fps: the suite's)."""
    from bench.data.pose.kinect_v1 import KINECT_V1_DATASETS

    read_as = {"layout": suite.layout, "split": suite.protocol, "fps": suite.fps}
    if data == SYNTHETIC:
        return DataRef("synthetic", **read_as)
    kind = "kinect-v1" if suite.dataset in KINECT_V1_DATASETS else "ntu-raw"
    return DataRef(kind, location=str(Path(data).expanduser().resolve()), **read_as)


def pickle_ref(path: str, layout: str | None, split: str | None,
               fps: float | None = None) -> DataRef:
    """An annotation pickle read with a declared layout; the split defaults to its only one."""
    from bench.data.layouts import LAYOUTS, get_layout

    if not layout:
        raise BenchError(f"--data {path} needs --layout: the skeleton layout of its keypoints "
                         f"(one of {', '.join(sorted(LAYOUTS))})")
    get_layout(layout)
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise BenchError(f"--data {path}: no such file")
    if fps is not None and not 0 < fps <= 1000:
        raise BenchError(f"--fps {fps}: expected the pickle's frame rate in frames per second")
    if not split:
        from bench.data.pose.prepare import available_protocols
        protocols = available_protocols(_open_pickle_source(file, layout)["meta"]["split"])
        if len(protocols) != 1:
            raise BenchError(f"{file} has splits {', '.join(protocols) or 'none'}: choose one "
                             f"with --split")
        split = protocols[0]
    return DataRef("pickle", layout=layout, split=split, fps=fps or PICKLE_FPS,
                   location=str(file))


def suite_for(name: str | None, ref: DataRef) -> SuiteSpec:
    """The suite a run uses: a registered suite, or for a pickle the suite made from the file
    (then a given name may only repeat its name)."""
    if ref.kind != "pickle":
        return SUITES.get(name or DEFAULT_SUITE)
    path = Path(ref.location)
    meta = _open_pickle_source(path, ref.layout)["meta"]
    # the split name comes from the file: the suite name becomes a report folder
    suite = SuiteSpec(safe_folder_name(f"{path.name}-{ref.split}"), path.name, ref.split,
                      PICKLE_METHODS,
                      f"{path.name}, split {ref.split}_train / {ref.split}_val, layout "
                      f"{ref.layout}", len(meta["class_names"]), layout=ref.layout, fps=ref.fps,
                      class_names=tuple(meta["class_names"]))
    if name and name != suite.name:
        raise BenchError(f"--suite {name!r} does not apply to --data {path}: its suite is "
                         f"{suite.name!r}, made from the file and --split")
    return suite


# ---- sources -----------------------------------------------------------------------------------

def resolve_source(suite: SuiteSpec, data: DataRef | str) -> DataSource:
    """The source of `data`: a DataRef, or for a registered suite 'synthetic' or a data root."""
    ref = data if isinstance(data, DataRef) else suite_ref(suite, data)
    if ref.kind == "pickle":
        source = _pickle_source(suite, ref)
    elif ref.kind == "kinect-v1":
        source = _kinect_v1_source(suite, ref)
    else:
        source = _ntu_source(suite, ref)
    if ref.evaluate == "val":
        source = _validation_as_test(source)
    return _limited(source) if ref.limit else source


def _validation_as_test(source: DataSource) -> DataSource:
    """`--evaluate val`: the manifest's validation list becomes its test list and the validation
    list is emptied, so nothing scored is trained on or selected on (fit_on=train+val and
    best-on-val checkpoints have no validation part to use)."""
    manifest = source.manifest
    if not manifest.val:
        raise BenchError(f"--evaluate val: suite {source.suite.name}'s split has no validation "
                         f"part to score on")
    return dataclasses.replace(source, manifest=dataclasses.replace(
        manifest, test=tuple(manifest.val), val=()))


def _limited(source: DataSource) -> DataSource:
    """`--limit N`: the manifest's test list cut to the first N sample ids (sorted) of each
    class; train and val stay whole. Deterministic, so the runner rebuilds the same manifest."""
    label_of = _test_labels(source)
    kept, per_class = set(), {}
    for sample in sorted(source.manifest.test):
        label = label_of[sample]
        if per_class.get(label, 0) < source.ref.limit:
            per_class[label] = per_class.get(label, 0) + 1
            kept.add(sample)
    test = tuple(s for s in source.manifest.test if s in kept)
    return dataclasses.replace(source, manifest=dataclasses.replace(source.manifest, test=test))


def _test_labels(source: DataSource) -> dict:
    """Test sample id -> class: a prepared pose folder's labels, else the NTU name's action."""
    if source.prepared is not None:
        from bench.data.prepared import load_arrays
        arrays = load_arrays(source.prepared, ("labels",), mmap=())
        return dict(zip(arrays["meta"]["names"], arrays["labels"].tolist()))
    from bench.data.ntu.names import parse_sample_name
    return {name: parse_sample_name(name).action for name in source.manifest.test}


def _ntu_source(suite: SuiteSpec, ref: DataRef) -> DataSource:
    from bench.data.pose.kinect_v1 import KINECT_V1_DATASETS
    from bench.data.ntu.loader import find_skeleton_files
    from bench.data.ntu.names import parse_sample_name
    from bench.data.prepared import content_digest
    from bench.data.splits import make_manifest

    synthetic = ref.kind == "synthetic"
    if synthetic:
        from bench.data.synthetic.generator import synthetic_root
        if suite.dataset in KINECT_V1_DATASETS:
            raise BenchError(f"suite {suite.name} runs on the real dataset only: pass --data-root "
                             f"DIR (the {suite.dataset} folder)")
        if not suite.synthetic:
            raise BenchError(f"suite {suite.name} has no synthetic stand-in: pass --data-root")
        root = synthetic_root(suite.synthetic, cache_root())
    else:
        root = Path(ref.location)
        if not root.is_dir():
            raise BenchError(f"data root {root} does not exist: point --data-root (or "
                             f"BENCH_DATA_ROOT) at the folder of NTU .skeleton files")
    files = find_skeleton_files(root)
    max_setup = 17 if suite.dataset == "ntu60" else 32
    files = {name: path for name, path in files.items()
             if parse_sample_name(name).action <= suite.num_actions
             and parse_sample_name(name).setup <= max_setup}
    if not files:
        raise BenchError(f"{root} holds no {suite.dataset.upper()} samples of actions "
                         f"A001-A{suite.num_actions:03d} (expected SsssCcccPpppRrrrAaaa.skeleton)")
    manifest = make_manifest(suite.dataset, suite.protocol, sorted(files))
    # synthetic: the folder's name is the hash of the generator and its parameters
    digest = root.name if synthetic else content_digest((n, files[n]) for n in sorted(files))
    ref = dataclasses.replace(ref, digest=digest, location=str(root))
    return DataSource(suite, root, files, manifest, ref)


def _open_pickle_source(path: Path, layout_name: str) -> dict:
    from bench.data.layouts import get_layout
    from bench.data.pose.pkl_io import read_pose_pickle
    from bench.data.pose.prepare import open_pose, prepare_pose
    from bench.data.prepared import file_digests

    layout = get_layout(layout_name)
    if not path.is_file():
        raise BenchError(f"annotation pickle {path} does not exist")
    digest = file_digests([path])[0]  # the file's sha256, as `sha256sum` prints it
    folder = prepare_pose("pkl", digest, layout, lambda: (read_pose_pickle(path, layout), []))
    return {"folder": folder, "digest": digest, **open_pose(folder)}


def _pickle_source(suite: SuiteSpec, ref: DataRef) -> DataSource:
    from bench.data.pose.prepare import pose_manifest

    path = Path(ref.location)
    opened = _open_pickle_source(path, ref.layout)
    manifest = pose_manifest(opened["meta"], ref.split,
                             f"{path.name}@sha256:{opened['digest'][:16]}", str(path))
    return DataSource(suite, path, {}, manifest, dataclasses.replace(ref, digest=opened["digest"]),
                      opened["folder"])


def _kinect_v1_source(suite: SuiteSpec, ref: DataRef) -> DataSource:
    from bench.data.pose.kinect_v1 import KINECT_V1_DATASETS, convert
    from bench.data.layouts import get_layout
    from bench.data.pose.prepare import open_pose, pose_manifest, prepare_pose
    from bench.data.prepared import content_digest

    dataset = KINECT_V1_DATASETS[suite.dataset]
    root = Path(ref.location)
    digest = content_digest(dataset.find(root))
    folder = prepare_pose(dataset.name, digest, get_layout(suite.layout),
                          lambda: convert(dataset, root))
    manifest = pose_manifest(open_pose(folder)["meta"], suite.protocol,
                             f"{dataset.name}@sha256:{digest[:16]}", str(root))
    return DataSource(suite, root, {}, manifest, dataclasses.replace(ref, digest=digest), folder)


# ---- bundles -----------------------------------------------------------------------------------

def load_bundle(source: DataSource, workers: int = 1):
    """Arrays for every manifest sample, prepared once and cached by source content and settings."""
    from bench.data.bundle import DataBundle, RowView, SkeletonSet

    if source.prepared is not None:
        from bench.data.pose.prepare import open_pose
        arrays = open_pose(source.prepared)
        names, labels = arrays["meta"]["names"], arrays["labels"]
        descriptions, extras = None, arrays["extras"]  # extras: img_shape etc. of pickles
    else:
        arrays = _prepared_arrays(source, workers)
        names = arrays["names"]
        labels = np.array([int(n[-3:]) - 1 for n in names], dtype=np.int64)
        descriptions = _descriptions(source.root) if source.synthetic else None
        extras = None
    index = {name: i for i, name in enumerate(names)}

    def split(ids) -> SkeletonSet:
        idx = np.array([index[i] for i in ids], dtype=np.int64)
        desc = [descriptions[i] for i in ids] if descriptions else None
        # rows of the memory map, read when a method uses them (not a copy of the split)
        return SkeletonSet(list(ids), RowView(arrays["keypoint"], idx), arrays["num_frames"][idx],
                           labels[idx], desc,
                           extras=None if extras is None else [extras[i] for i in idx])

    m, suite = source.manifest, source.suite
    return DataBundle(manifest=m, class_names=source.class_names, layout=suite.layout,
                      fps=suite.fps, train=split(m.train), val=split(m.val), test=split(m.test),
                      synthetic=source.synthetic, root=source.root)


def _prepared_arrays(source: DataSource, workers: int) -> dict:
    from bench.data.ntu.loader import MAX_BODIES, write_ntu_keypoint
    from bench.data.prepared import build_once, content_digest, load_arrays, prepared_key, \
        save_arrays

    names = sorted(source.files)
    digest = content_digest((n, source.files[n]) for n in names)
    key = prepared_key("ntu", digest, {"max_bodies": MAX_BODIES, "version": ARRAYS_VERSION})

    def fill(tmp: Path) -> None:
        # clip by clip into the file: the padded array is never in memory
        num_frames, _ = write_ntu_keypoint([source.files[n] for n in names],
                                           tmp / "keypoint.npy", workers=workers)
        save_arrays(tmp, {"num_frames": num_frames}, {"names": names, "digest": digest})

    arrays = load_arrays(build_once(key, fill), ("keypoint", "num_frames"))
    arrays["names"] = arrays["meta"]["names"]
    return arrays


def _descriptions(root: Path) -> dict[str, str]:
    path = root / "descriptions.jsonl"
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {row["sample_id"]: row["description"] for row in rows}


# ---- export ------------------------------------------------------------------------------------

def export_pickle(source: DataSource, out: str | os.PathLike, workers: int = 1) -> Path:
    """Write the source's samples as an MMAction2/PYSKL annotation pickle (atomically): NTU with
    MMAction2's split names for its dataset (xsub/xview or xsub/xset), other sources with the
    splits they came with."""
    from bench.data.layouts import get_layout
    from bench.data.pose.pkl_io import PoseData, clip_annotation, write_pose_pickle

    layout = get_layout(source.suite.layout)
    if source.prepared is not None:  # the source's own annotations back, extra fields included
        from bench.data.pose.prepare import open_pose, pose_annotations
        arrays = open_pose(source.prepared)
        data = PoseData(arrays["meta"]["split"], pose_annotations(arrays, layout),
                        source.class_names, arrays["top_level"])
        return write_pose_pickle(out, data, layout)
    from bench.data.splits import split_names
    arrays = _prepared_arrays(source, workers)
    names = arrays["names"]
    labels = [int(n[-3:]) - 1 for n in names]
    split = {}
    for protocol in MMACTION_PROTOCOLS[source.suite.dataset]:
        train, test = split_names(names, protocol, source.suite.dataset)
        split.update({f"{protocol}_train": train, f"{protocol}_val": test})
    annotations = [clip_annotation(n, arrays["keypoint"][i], arrays["num_frames"][i], labels[i],
                                   layout) for i, n in enumerate(names)]
    data = PoseData(split, annotations, source.class_names)
    return write_pose_pickle(out, data, layout)
