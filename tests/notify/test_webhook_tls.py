"""The webhook carries citizens' names and phones: outside development it is sent over TLS or not at all."""

from __future__ import annotations

import pytest

from wugan.notify.send import FileSender, WebhookSender, sender_for

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize("url", ["http://sms-gateway.example/notices", "HTTP://sms-gateway.example/n",
                                 "ftp://sms-gateway.example/n", "sms-gateway.example/n"])
def test_production_refuses_a_webhook_without_tls(tmp_path, url):
    with pytest.raises(ValueError, match="https"):
        sender_for(url, home=tmp_path, env="production")


def test_production_sends_over_https(tmp_path):
    sender = sender_for("https://sms-gateway.example/notices", home=tmp_path, env="production")
    assert isinstance(sender, WebhookSender) and sender.url.startswith("https://")


def test_development_may_use_plain_http(tmp_path):
    assert isinstance(sender_for("http://127.0.0.1:9/notices", home=tmp_path, env="development"), WebhookSender)


def test_the_sender_itself_refuses_plain_http_unless_told():
    with pytest.raises(ValueError, match="https"):
        WebhookSender("http://sms-gateway.example/notices")


def test_the_default_sender_writes_files(tmp_path):
    assert isinstance(sender_for(None, home=tmp_path, env="production"), FileSender)
