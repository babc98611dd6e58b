"""One typed settings object, read from the environment.

Every command and DAG resolves paths and URLs here, so the embedded default
(DuckDB lake and SQLite case store under ``WUGAN_HOME``) and production
(PostgreSQL by ``WUGAN_DB_URL``) differ only in environment variables.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

REPO_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUGAN_", extra="ignore")

    home: Path = Field(default=Path("var"), description="data home: inbox/, lake/, lake.duckdb, cases.db")
    db_url: str | None = Field(default=None, description="case store URL; SQLite in home when unset")
    rules_dir: Path = Field(default=REPO_RULES_DIR, description="analysts' rule sets and parameters")
    models_dir: Path = Field(default=Path("models"), description="trained model artifacts")
    env: str = Field(default="development", description="development | production")
    secret_key: str = Field(default="", description="web session signing key; required in production")

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
