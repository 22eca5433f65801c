"""`bench data check DIR` on a small folder of NTU files with planted problems."""
import numpy as np
import pytest

from bench.cli import main
from bench.data.ntu.check import check_skeleton_dir, format_report
from bench.data.ntu.missing_skeletons import missing_skeleton_samples
from bench.data.ntu.names import format_sample_name
from bench.errors import DataError

INFO = "0 1 1 1 1 0 0.02 0.05 2"


def skeleton(bodies_per_frame, frames=4) -> str:
    """A small valid file: `bodies_per_frame` tall bodies in each of `frames` frames."""
    rng = np.random.default_rng(bodies_per_frame)
    lines = [str(frames)]
    for _ in range(frames):
        lines.append(str(bodies_per_frame))
        for b in range(bodies_per_frame):
            lines += [f"{72057594037927936 + b} {INFO}", "25"]
            joints = np.zeros((25, 12))
            joints[:, 0] = b + rng.uniform(-0.1, 0.1, 25)
            joints[:, 1] = np.linspace(-0.8, 0.8, 25)
            joints[:, 2] = 3.0
            lines += [" ".join(f"{v:.7g}" for v in row) for row in joints]
    return "\r\n".join(lines) + "\r\n"


# X-Sub train performers 1, 2; test performer 3. X-View: camera 1 test, 2 and 3 train.
TAKES = [(1, p, 1, a) for p in (1, 2, 3) for a in (1, 2)]
ABSENT = format_sample_name(1, 3, 3, 1, 2)  # one camera of a take deleted
EMPTY, NO_BODY, THREE_BODIES = (format_sample_name(1, c, 2, 1, 1) for c in (1, 2, 3))
CORRUPT = format_sample_name(1, 1, 1, 1, 2)
OFFICIAL_MISSING = "S001C002P005R002A008"  # on the official missing-skeleton lists


@pytest.fixture
def ntu_dir(tmp_path):
    root = tmp_path / "nturgb+d_skeletons"
    (root / "part2").mkdir(parents=True)  # the official archives nest folders
    for setup, performer, rep, action in TAKES:
        for camera in (1, 2, 3):
            name = format_sample_name(setup, camera, performer, rep, action)
            folder = root / "part2" if action == 2 else root
            (folder / f"{name}.skeleton").write_text(skeleton(1))
    (root / "part2" / f"{ABSENT}.skeleton").unlink()
    (root / f"{EMPTY}.skeleton").write_text("")
    (root / f"{NO_BODY}.skeleton").write_text("3\r\n0\r\n0\r\n0\r\n")
    (root / f"{THREE_BODIES}.skeleton").write_text(skeleton(3))
    good = skeleton(1).splitlines(True)
    (root / "part2" / f"{CORRUPT}.skeleton").write_text("".join(good[:40]))  # truncated
    for camera in (1, 2, 3):  # C002 of this take is on the official missing list
        (root / f"{OFFICIAL_MISSING.replace('C002', f'C00{camera}')}.skeleton").write_text(
            skeleton(1))
    (root / "notes.skeleton").write_text(skeleton(1))
    return root


def test_check_finds_every_planted_problem(ntu_dir):
    assert OFFICIAL_MISSING in missing_skeleton_samples("ntu60")
    report = check_skeleton_dir(ntu_dir, workers=1)
    assert report.dataset == "ntu60" and report.files == 21
    assert report.absent == [ABSENT]
    assert report.official_missing_present == [OFFICIAL_MISSING]
    assert report.empty == sorted([EMPTY, NO_BODY])
    assert report.multi_body == [THREE_BODIES]
    [(path, error)] = report.corrupt.items()
    assert path.endswith(f"{CORRUPT}.skeleton")
    assert error == f"{path}, line 40: file truncated inside body 1 of 1 in frame 2 of 4"
    assert report.bad_names == ["notes.skeleton"] and not report.usable
    # usable: 7 takes x 3 cameras - absent, empty, no body, corrupt, official missing = 16
    # (X-Sub: P001, P002, P005 train; X-View: C001 test).
    assert report.splits == {"xsub": (11, 5), "xview": (11, 5)}
    text = format_report(report)
    for expected in (ABSENT, OFFICIAL_MISSING, THREE_BODIES, error, "NOT usable", "xview"):
        assert expected in text


def test_check_against_an_available_list(ntu_dir, tmp_path):
    listed = [format_sample_name(1, c, p, 1, a) for _, p, _, a in TAKES for c in (1, 2, 3)]
    extra = format_sample_name(17, 1, 40, 2, 60)
    listing = tmp_path / "ntu60_available_samples.txt"
    listing.write_text("\n".join(listed + [extra, format_sample_name(18, 1, 1, 1, 1)]) + "\n")
    report = check_skeleton_dir(ntu_dir, expected=listing)
    assert report.absent == sorted([ABSENT, extra])  # the NTU120-only name is not expected
    assert report.expected_from == "listed in ntu60_available_samples.txt"
    listing.write_text("S001C001P001R001A001\nnot a name\n")
    with pytest.raises(DataError, match=r"ntu60_available_samples.txt, line 2: 'not a name'"):
        check_skeleton_dir(ntu_dir, expected=listing)


def test_cli_exit_status_follows_usability(ntu_dir, capsys):
    assert main(["data", "check", str(ntu_dir)]) == 1
    out = capsys.readouterr().out
    assert "corrupt files:" in out and out.rstrip().endswith("misnamed file(s)")
    (ntu_dir / "part2" / f"{CORRUPT}.skeleton").unlink()
    (ntu_dir / "notes.skeleton").unlink()
    assert main(["data", "check", str(ntu_dir), "--dataset", "ntu120"]) == 0
    out = capsys.readouterr().out
    assert "checked as ntu120" in out and "xset" in out and out.rstrip().endswith("data usable")


def test_check_errors(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["data", "check", str(tmp_path)]) == 2
    assert "holds no .skeleton files" in capsys.readouterr().err
