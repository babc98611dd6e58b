"""``wugan serve`` and ``wugan users``: mount ``app`` in the main CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from wugan.cli.options import Home

app = typer.Typer(help="web app: serve it, manage its users", no_args_is_help=True)
users = typer.Typer(help="web accounts", no_args_is_help=True)
app.add_typer(users, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    today: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="pin today's date (demo data)")] = None,
    home: Home = None,
) -> None:
    """Start the web app (migrates the case store first)."""
    from wugan.web import serve as _serve

    _serve(host, port, home, today=today.date() if today else None)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@users.command("add")
def add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option("--role", help="assistant | reviewer | analyst | admin")],
    villages: Annotated[list[str] | None, typer.Option("--villages", help="village codes (assistant), comma-separated or repeated")] = None,
    departments: Annotated[list[str] | None, typer.Option("--departments", help="department codes (reviewer)")] = None,
    assistant_id: Annotated[str | None, typer.Option("--assistant-id", help="the assistant's id in the lake")] = None,
    name: Annotated[str, typer.Option("--name", help="display name")] = "",
    password: Annotated[str | None, typer.Option("--password", help="else asked for")] = None,
    home: Home = None,
) -> None:
    """Create an account."""
    from wugan.cases.db import migrate, session_scope
    from wugan.settings import get_settings
    from wugan.web.accounts import add_user

    settings = get_settings(home)
    migrate(settings.case_store_url)
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(settings.case_store_url) as session:
            add_user(session, username=username, password=password, role=role, display_name=name,
                     villages=_split(villages), departments=_split(departments), assistant_id=assistant_id,
                     actor="cli")
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {username} ({role})")


def _change(home: Path | None, change) -> None:
    from wugan.cases.db import migrate, session_scope
    from wugan.settings import get_settings

    settings = get_settings(home)
    migrate(settings.case_store_url)
    try:
        with session_scope(settings.case_store_url) as session:
            change(session)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@users.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[str | None, typer.Option("--password", help="else asked for")] = None,
    home: Home = None,
) -> None:
    """Set a new password; the user's open sessions end."""
    from wugan.web.accounts import set_password

    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    _change(home, lambda s: set_password(s, username=username, password=password))
    typer.echo(f"password of {username} changed; its sessions ended")


@users.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument(help="login name")], home: Home = None) -> None:
    """Stop an account from logging in; its open sessions end."""
    from wugan.web.accounts import set_active

    _change(home, lambda s: set_active(s, username=username, active=False))
    typer.echo(f"{username} deactivated")


@users.command("activate")
def activate(username: Annotated[str, typer.Argument(help="login name")], home: Home = None) -> None:
    """Let a deactivated account log in again (with a new login: no old session comes back)."""
    from wugan.web.accounts import set_active

    _change(home, lambda s: set_active(s, username=username, active=True))
    typer.echo(f"{username} activated")


@users.command("demo")
def demo(home: Home = None) -> None:
    """Create (or reset) the demo accounts and print their logins."""
    from rich.console import Console
    from rich.table import Table

    from wugan.cases.db import migrate, session_scope
    from wugan.settings import get_settings
    from wugan.web.accounts import create_demo_users

    settings = get_settings(home)
    migrate(settings.case_store_url)
    with session_scope(settings.case_store_url) as session:
        logins = create_demo_users(session)
    table = Table("role", "login", "password", "sees", title="demo logins")
    for login in logins:
        table.add_row(login.role, login.username, login.password, login.scope)
    Console().print(table)
