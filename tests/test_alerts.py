"""Alerts reach a WeCom group robot (the stand-in's webhook) and fail clearly when refused."""

from __future__ import annotations

import pytest

from devkit.standins.wecom import WeComStandIn
from salesops.alerts import MARKDOWN_LIMIT, AlertError, fit, send_wecom


def test_markdown_reaches_the_robot_and_long_text_is_cut(tmp_path):
    with WeComStandIn(tmp_path, webhook_keys=("robot-1",)) as wecom:
        url = f"{wecom.base_url}/cgi-bin/webhook/send?key=robot-1"
        send_wecom(url, "**停滞预警** 3 个商机超过 7 天没有实质跟进")
        send_wecom(url, "长" * 5000)
        assert len(wecom.webhook_messages) == 2
        first, second = wecom.webhook_messages
        assert first["msgtype"] == "markdown" and "停滞预警" in first["markdown"]["content"]
        assert len(second["markdown"]["content"].encode("utf-8")) <= MARKDOWN_LIMIT
        assert second["markdown"]["content"].endswith("…")


def test_a_refused_message_names_the_errcode_not_the_key(tmp_path):
    with WeComStandIn(tmp_path, webhook_keys=("robot-1",)) as wecom:
        url = f"{wecom.base_url}/cgi-bin/webhook/send?key=secret-key-123"
        with pytest.raises(AlertError, match="93000") as info:
            send_wecom(url, "hello", backoff_seconds=0.01)
    assert "secret-key-123" not in str(info.value)


def test_fit_keeps_whole_characters():
    assert fit("短", 10) == "短"
    cut = fit("汉字" * 100, 20)
    assert len(cut.encode("utf-8")) <= 20 and cut.endswith("…")
