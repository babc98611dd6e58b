"""One typed settings object, read from the environment.

Every command and DAG resolves paths and URLs here, so the embedded default
(DuckDB lake and SQLite case store under ``WUGAN_HOME``) and production
(PostgreSQL by ``WUGAN_DB_URL``) differ only in environment variables.

The environment is a closed set: ``WUGAN_ENV=Production`` means production
(case and spaces do not matter) and a word outside the set is refused, so a
typo can never fall back to development's lenient defaults. A secret that is
set must not be a placeholder or short in production.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "PLACEHOLDER_SECRETS", "weak_secret"]

REPO_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "placeholder", "dev", "development", "insecure"}
MIN_SECRET_LENGTH = 32


def weak_secret(value: SecretStr | str | None) -> bool:
    """Empty, a placeholder, or shorter than 32 characters."""
    text = (value.get_secret_value() if isinstance(value, SecretStr) else value or "").strip()
    return text.lower() in PLACEHOLDER_SECRETS or len(text) < MIN_SECRET_LENGTH


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUGAN_", extra="ignore")

    home: Path = Field(default=Path("var"), description="data home: inbox/, lake/, lake.duckdb, cases.db")
    db_url: str | None = Field(default=None, description="case store URL; SQLite in home when unset")
    rules_dir: Path = Field(default=REPO_RULES_DIR, description="analysts' rule sets and parameters")
    models_dir: Path = Field(default=Path("models"), description="trained model artifacts")
    query_memory: str = Field(default="2GB", pattern=r"^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$",
                              description="DuckDB's memory limit per lake query; past it, it spills to lake/_spill")
    env: Literal["development", "production"] = Field(default="development",
                                                      description="development | production (any case)")
    secret_key: SecretStr = Field(default=SecretStr(""), description="web session signing key; required in production")
    pseudonym_key: SecretStr = Field(
        default=SecretStr(""),
        description="key of the analysts' person pseudonyms; apart from secret_key so they survive its rotation",
    )
    session_hours: float = Field(default=8.0, gt=0, le=24, description="a web session's lifetime, hours")
    login_limit_account: str = Field(
        default="5/minute;30/hour", description="failed logins allowed per account (limits' notation)")
    login_limit_address: str = Field(
        default="20/minute;200/hour", description="failed logins allowed per client address (limits' notation)")
    throttle_storage: str = Field(
        default="memory://", description="where login counters live: memory:// (one process) or redis://host/db")
    retention_days: int = Field(
        default=1095, ge=30, description="days after a case closes before its personal data is purged")

    @field_validator("env", mode="before")
    @classmethod
    def _normalise_env(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _no_weak_secrets_in_production(self) -> Settings:
        if self.env == "production":
            for name in ("secret_key", "pseudonym_key"):
                value = getattr(self, name)
                if value.get_secret_value() and weak_secret(value):
                    raise ValueError(
                        f"WUGAN_{name.upper()} is a placeholder or shorter than {MIN_SECRET_LENGTH} characters; "
                        "refusing it in production"
                    )
        return self

    @cached_property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @cached_property
    def lake(self) -> Path:
        return self.home / "lake"

    @cached_property
    def catalog(self) -> Path:
        return self.home / "lake.duckdb"

    @cached_property
    def truth(self) -> Path:
        """Synthetic ground truth, kept apart from the extracts."""
        return self.home / "truth"

    @property
    def case_store_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.home / 'cases.db').resolve()}"


def get_settings(home: Path | str | None = None) -> Settings:
    """Settings from the environment; ``home`` (the ``--home`` flag) wins over ``WUGAN_HOME``."""
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": Path(home)})
    return settings
