"""What a failed load's error may carry into ops.source_loads (and on to the BI file)."""

from __future__ import annotations

from ingest.pipelines import redact


def test_errors_lose_credentials_tokens_and_phone_numbers():
    message = (
        "U8 database mssql+pyodbc://sa:S3c@ret!@u8-db/UFDATA_001 has no table Customer; "
        "GET https://qyapi.weixin.qq.com/cgi-bin/user/list?access_token=tok123&id=1 failed; "
        "row 12 phone 13812345678"
    )
    got = redact(message)
    assert "ret!" not in got and "sa:" not in got and "tok123" not in got
    assert "13812345678" not in got
    assert "mssql+pyodbc://…@u8-db/UFDATA_001 has no table Customer" in got
    assert "https://qyapi.weixin.qq.com/cgi-bin/user/list?…" in got
    assert len(redact("x" * 2000)) == 500
