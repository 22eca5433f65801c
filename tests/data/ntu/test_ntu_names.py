import pytest

from bench.data.ntu.names import SampleName, format_sample_name, is_sample_name, parse_sample_name
from bench.errors import DataError


def test_parse_and_format_round_trip():
    s = parse_sample_name("S017C003P020R002A060")
    assert s == SampleName(setup=17, camera=3, performer=20, replication=2, action=60)
    assert s.name == "S017C003P020R002A060" == format_sample_name(17, 3, 20, 2, 60)
    assert s.label == 59


@pytest.mark.parametrize("text", ["S001C001P001R001A001.skeleton", "S001C001P001R001A001_rgb.avi",
                                  "some/dir/S001C001P001R001A001.skeleton"])
def test_file_names_accepted(text):
    assert parse_sample_name(text).name == "S001C001P001R001A001"


@pytest.mark.parametrize("text", ["S001C001P001R001A01", "s001c001p001r001a001",
                                  "S001C001P001R001A001.pkl", "S000C001P001R001A001",
                                  "xS001C001P001R001A001", ""])
def test_bad_names_rejected_with_the_pattern(text):
    with pytest.raises(DataError, match="SsssCcccPpppRrrrAaaa") as err:
        parse_sample_name(text)
    assert "\n" not in str(err.value)
    assert not is_sample_name(text)
