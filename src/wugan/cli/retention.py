"""``wugan retention``: purge closed cases' personal data after the retention period."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from wugan.cli.options import Home

app = typer.Typer(help="personal data retention", no_args_is_help=True)


@app.command("purge")
def purge(
    day: Annotated[dt.datetime, typer.Option("--day", formats=["%Y-%m-%d"], help="the day the job runs for")],
    days: Annotated[int | None, typer.Option("--days", min=1, help="retention period in days "
                                             "(default: WUGAN_RETENTION_DAYS, 1095)")] = None,
    home: Home = None,
) -> None:
    """Remove the personal data of cases closed more than the retention period before DAY (audited)."""
    from wugan.cases.db import migrate
    from wugan.cases.retention import purge_personal_data
    from wugan.settings import get_settings

    settings = get_settings(home)
    if days is not None:
        settings = settings.model_copy(update={"retention_days": days})
    migrate(settings.case_store_url)
    report = purge_personal_data(settings, day=day.date())
    typer.echo(f"purged the personal data of {report.cases} case(s) closed on or before {report.cutoff}")
