"""What every command group shares: the ``--home`` option and a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["Home", "progress"]

Home = Annotated[
    Path | None,
    typer.Option("--home", envvar="WUGAN_HOME",
                 help="data home: inbox/, lake/, lake.duckdb, cases.db (default: $WUGAN_HOME, else ./var)"),
]


def progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )
