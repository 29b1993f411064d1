from pathlib import Path

import pytest

from sfs.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SFS_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.database_url == f"sqlite:///{tmp_path / 'sfs-data' / 'sfs.db'}"
    assert settings.outbox_dir == tmp_path / "sfs-data" / "outbox"
    assert settings.master_key_path == tmp_path / "sfs-data" / "master.key"
    assert settings.region == "eu"
    assert not settings.served_over_https


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFS_PORT", "9090")
    monkeypatch.setenv("SFS_REGION", "US")
    monkeypatch.setenv("SFS_DATABASE_URL", "postgresql://db.internal/sfs")
    settings = load_settings()
    assert settings.port == 9090
    assert settings.region == "us"
    assert settings.base_url == "http://127.0.0.1:9090"
    assert settings.database_url == "postgresql://db.internal/sfs"


def test_a_toml_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "sfs.toml"
    config.write_text('port = 7000\nbase_url = "https://files.example.com/"\nregion = "us"\n')
    monkeypatch.setenv("SFS_CONFIG", str(config))
    monkeypatch.setenv("SFS_REGION", "eu")
    settings = load_settings()
    assert settings.port == 7000
    assert settings.base_url == "https://files.example.com"
    assert settings.served_over_https
    assert settings.region == "eu"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SFS_PORT", "70000", "SFS_PORT: Input should be less than or equal to 65535"),
        ("SFS_PORT", "eighty", "SFS_PORT: Input should be a valid integer"),
        ("SFS_DATABASE_URL", "mysql://x/y", "SFS_DATABASE_URL: must start with sqlite://"),
        ("SFS_MAIL_URL", "http://mail", "SFS_MAIL_URL: mail URL must start with smtp://"),
        ("SFS_BASE_URL", "files.example.com", "SFS_BASE_URL: must be an http:// or https://"),
        ("SFS_REGION", "europe!", "SFS_REGION: Region 'europe!' is not valid"),
        ("SFS_RATE_LIMIT_STORAGE", "memcached://x", "SFS_RATE_LIMIT_STORAGE: must be memory://"),
    ],
)
def test_each_bad_value_gets_a_message_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert message in str(raised.value)


def test_unknown_settings_in_the_file_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "sfs.toml"
    config.write_text("prot = 80\n")
    monkeypatch.setenv("SFS_CONFIG", str(config))
    with pytest.raises(ConfigError, match="SFS_PROT: Extra inputs are not permitted"):
        load_settings()


def test_a_malformed_toml_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sfs.toml"
    config.write_text("port = = 1\n")
    monkeypatch.setenv("SFS_CONFIG", str(config))
    with pytest.raises(ConfigError, match="SFS_CONFIG: cannot read"):
        load_settings()
