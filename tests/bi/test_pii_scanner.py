"""The personal-data scanner the BI tests run over every published file: a mobile number is
found wherever a person's would be written, and not inside a hash the site names a file by."""

from __future__ import annotations

from tests.support.pii import scan_text


def test_a_mobile_number_is_found_in_text_and_not_inside_a_file_hash():
    found = [
        "13812345678",
        "客户电话13812345678，已回访",
        "tel:13812345678",
        "call 13812345678 now",
        '{"mobile": "13812345678"}',
        "13812345678abc",  # letters after it, but no run as long as a hash
    ]
    for text in found:
        assert scan_text(text) == [("phone", "13812345678")], text
    not_found = [
        # a site's data file, named by a 16-digit hexadecimal hash of its query
        "static/data/warehouse/rpt_win_paths/14984311332f8c13/rpt_win_paths.parquet",
        "d41d8cd98f00b204e9800998ecf8427e13812345678a",  # inside a longer hash
        "138123456789",  # twelve digits: no mobile number
        "2138123456789",
    ]
    for text in not_found:
        assert scan_text(text) == [], text
