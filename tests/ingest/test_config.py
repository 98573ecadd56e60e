"""`rerun-zmq serve` options: bad values are refused with a message naming the option."""

from __future__ import annotations

import pytest

from ingest.config import config_from_args
from ingest.errors import ConfigError


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "70000"], "--port"),
        (["--shards", "0"], "--shards"),
        (["--memory-limit", "lots"], "--memory-limit"),
        (["--memory-limit", "150%"], "percentage"),
        (["--max-message-bytes", "10"], "--max-message-bytes"),
        (["--stats-interval", "0"], "--stats-interval"),
        (["--stats-interval", "-1"], "--stats-interval"),
        (["--shutdown-timeout", "-2"], "--shutdown-timeout"),
        (["--save", "/no/such/folder/x.rrd"], "does not exist"),
    ],
)
def test_bad_options(argv, needle):
    with pytest.raises(ConfigError, match=needle):
        config_from_args(argv)


def test_defaults():
    cfg = config_from_args([])
    assert cfg.port == 9876 and cfg.shards == 1 and cfg.stats_interval > 0
