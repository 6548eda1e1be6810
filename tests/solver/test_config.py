"""Settings: TOML file, environment overrides, keyword overrides; the key never from the file."""

import pytest
from pydantic import ValidationError

from solver.service.config import load_settings


def test_precedence_file_then_environment_then_keywords(tmp_path, monkeypatch):
    config = tmp_path / "dlpe.toml"
    config.write_text('port = 9100\ncut_interval_s = 12.5\nbatch_quotes = 2\nlog_format = "text"\n')
    monkeypatch.delenv("DLPE_CONFIG", raising=False)
    monkeypatch.setenv("DLPE_BATCH_QUOTES", "3")
    settings = load_settings(config, port=9200, host=None)
    assert (settings.port, settings.cut_interval_s, settings.batch_quotes, settings.log_format) == (9200, 12.5, 3, "text")
    assert settings.host == "127.0.0.1"


def test_bad_settings_name_the_field(tmp_path, monkeypatch):
    monkeypatch.delenv("DLPE_CONFIG", raising=False)
    with pytest.raises(ValidationError, match="cut_interval_s"):
        load_settings(cut_interval_s=-1)
    with pytest.raises(ValidationError, match="replay_path"):
        load_settings(feed="replay")
    config = tmp_path / "dlpe.toml"
    config.write_text('operator_key = "0x01"\n')
    with pytest.raises(ValueError, match="DLPE_OPERATOR_KEY"):
        load_settings(config)
