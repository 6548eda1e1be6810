"""The service's settings: one TOML file, overridden by DLPE_* environment variables.

Precedence, highest first: keyword arguments (the CLI's --host, --port, --rpc-url), environment
variables (DLPE_PORT=9000, DLPE_RPC_URL=...; nested none), the TOML file (--config, or the file
named by DLPE_CONFIG), the defaults below. Every field is documented in docs/operator.md.

The operator's signing key is never read from the file: only from the environment variable
DLPE_OPERATOR_KEY (hex). Without it, only a local devnet (chain id 31337) may be used, with
anvil's well-known development account #1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from bn254.cache import dlpe_cache_folder
from solver.paths import data_dir


class ServiceSettings(BaseSettings):
    """Every setting of `dlpe serve` (see docs/operator.md for each one's meaning)."""

    model_config = SettingsConfigDict(env_prefix="DLPE_", extra="forbid", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    db_path: Path = Field(default_factory=lambda: data_dir() / "solver.sqlite")
    key_dir: Path = Field(default_factory=lambda: dlpe_cache_folder() / "worker-keys")  # apart from prover.keys_for's keys/
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    feed: Literal["simulator", "replay", "deribit"] = "simulator"
    replay_path: Path | None = None
    replay_speed: float = Field(1.0, gt=0, allow_inf_nan=False)
    sim_seed: int = Field(1, ge=0)
    sim_step_seconds: float = Field(1.0, gt=0, le=3600, allow_inf_nan=False)
    sim_steps: int = Field(86_400, ge=10)
    max_tick_age_s: float = Field(5.0, gt=0, allow_inf_nan=False)
    deribit_url: str = "wss://www.deribit.com/ws/api/v2"
    deribit_expiries: int = Field(2, ge=1, le=12)
    deribit_strikes: int = Field(7, ge=5, le=40)
    deribit_tick_s: float = Field(1.0, ge=0.1, le=60, allow_inf_nan=False)

    rpc_url: str | None = None
    vault_address: str | None = None
    operator_key: SecretStr | None = None
    post_oracle: bool | None = None  # None: post on a devnet (chain id 31337), never elsewhere

    batch_quotes: int = Field(1, ge=1, le=64)
    book_slots: int = Field(4, ge=1, le=64)
    book_fills: int = Field(2, ge=1, le=64)
    book_expiries: int = Field(2, ge=1, le=4)
    quote_size: float = Field(1.0, gt=0, le=1e6, allow_inf_nan=False)
    iv_band: float = Field(0.25, gt=0, le=1, allow_inf_nan=False)
    spot_tolerance: float = Field(0.02, gt=0, lt=1, allow_inf_nan=False)
    devnet_collateral: int = Field(1_000_000_000, ge=0)
    cut_interval_s: float = Field(30.0, gt=0, allow_inf_nan=False)
    cut_on_move: float = Field(0.002, gt=0, allow_inf_nan=False)
    prover_workers: int = Field(1, ge=1, le=64)
    workers: str | None = Field(None, pattern=r"^(tcp|tls)://[^\s/]+:\d+$")  # a Dask scheduler; None: local processes
    prover_nice: int = Field(10, ge=0, le=19)
    prove_attempts: int = Field(3, ge=1)
    submit_attempts: int = Field(6, ge=1)
    backoff_s: float = Field(0.5, gt=0, allow_inf_nan=False)
    backoff_max_s: float = Field(10.0, gt=0, allow_inf_nan=False)
    receipt_timeout_s: float = Field(60.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSettings:
        if self.feed == "replay" and self.replay_path is None:
            raise ValueError("replay_path: required when feed = 'replay'")
        if self.vault_address is not None and self.rpc_url is None:
            raise ValueError("vault_address: needs rpc_url (the node the vault lives on)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = os.environ.get("DLPE_CONFIG")
        if toml:
            sources.append(_TomlWithoutKey(settings_cls, toml_file=Path(toml)))
        return tuple(sources)


class _TomlWithoutKey(TomlConfigSettingsSource):
    """The TOML file as a source, refusing a signing key written in it."""

    def __call__(self) -> dict:
        data = super().__call__()
        if "operator_key" in data:
            raise ValueError("operator_key: not allowed in the config file; set DLPE_OPERATOR_KEY in the environment")
        return data


def load_settings(config_file: Path | None = None, **overrides: object) -> ServiceSettings:
    """Settings from ``config_file`` (or $DLPE_CONFIG), the environment and ``overrides`` (None ones ignored)."""
    if config_file is not None:
        if not Path(config_file).is_file():
            raise FileNotFoundError(f"config file {config_file} does not exist")
        os.environ["DLPE_CONFIG"] = str(config_file)
    return ServiceSettings(**{k: v for k, v in overrides.items() if v is not None})
