"""A production-like run on this host without Docker: the services of docker-compose.yml, natively.

PostgreSQL from Debian's packages (its own data directory, run as ``postgres``)
holds two databases, Airflow's metadata and the wugan case store; ``airflow db
migrate``; ``airflow api-server``, ``scheduler`` and ``dag-processor`` each in
its own process group (LocalExecutor instead of Celery, parallelism 4). The
ingest DAG is triggered through the REST API for the last day of a small
synthetic city; the life-event DAGs start by themselves on the lake Assets and
the case store fills.

The city's days end on the ingest DAG's latest scheduled day by the wall clock
(its cron is 23:00 China time), and that run is triggered through the API
before the scheduler starts, so the scheduler does not add its own run for
the day; the purely time-based DAGs (deadline watch, notices, retraining) are
paused through the API, since their wall-clock runs have nothing to do here. Prints the seconds from the first trigger to the first
cases written, and a JSON summary as the last line; exit status 0 on success.

    .venv/bin/python deploy/native_run.py [--persons 3000] [--days 2] [--timeout 200] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CST = dt.timezone(dt.timedelta(hours=8))
TIME_BASED = ("wugan_deadline_watch", "wugan_notices", "wugan_retrain")


def latest_scheduled_day(now: dt.datetime | None = None) -> dt.date:
    """The day of wugan_ingest's latest cron run (23:00 China time) at ``now``."""
    now = (now or dt.datetime.now(CST)).astimezone(CST)
    return now.date() if now.time() >= dt.time(23) else now.date() - dt.timedelta(days=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]


class Postgres:
    """A throwaway PostgreSQL server from Debian's binaries."""

    def __init__(self, root: Path) -> None:
        initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdb:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bindir = Path(initdb[-1]).parent
        self.root, self.data, self.sockets = root, root / "data", root / "run"
        self.port = free_port()

    def start(self) -> None:
        self.root.mkdir(parents=True)
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        subprocess.run(as_postgres([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                                    "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, capture_output=True)
        subprocess.run(as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                                    str(self.root / "log"), "-w", "-o",
                                    f"-k {self.sockets} -c listen_addresses=127.0.0.1 -p {self.port} "
                                    "-c max_connections=200", "start"]),
                       check=True, capture_output=True)

    def create(self, *names: str) -> None:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            for name in names:
                c.execute(f"CREATE DATABASE {name}")

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                       capture_output=True)


def airflow_env(root: Path, pg: Postgres, api_port: int, home: Path) -> dict[str, str]:
    """The same variables docker-compose.yml sets, LocalExecutor instead of Celery."""
    airflow_home = root / "airflow"
    airflow_home.mkdir()
    passwords = airflow_home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}))
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WUGAN_"))},
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": "",  # compose requires one; natively, connections come from the env
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg.url("airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": pg.url("airflow", "postgresql+psycopg_async"),
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # wugan: the lake home as a Variable, the case store as a Connection (as in docker-compose.yml)
        "AIRFLOW_VAR_WUGAN_HOME": str(home),
        "AIRFLOW_CONN_WUGAN_CASES": pg.url("wugan_cases", "postgres"),
        "WUGAN_ENV": "development",
    }


class Services:
    """Airflow's services, each in its own session so that its whole process group can be stopped."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, {}
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, *args: str) -> None:
        log = open(self.logs / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen([str(BIN / "airflow"), *args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.procs.items()}

    def stop(self, grace: float = 15.0) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in self.procs.values():
            try:
                p.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs.values():
            try:
                os.killpg(p.pid, signal.SIGKILL)  # stragglers of the group, if any
            except ProcessLookupError:
                pass
            p.wait()


def wait(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except (httpx.HTTPError, psycopg.Error):
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as c:
        exists = c.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone()[0]
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if exists else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=200.0, help="seconds for the DAGs to write cases")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="wugan-native-"))
    if os.geteuid() == 0:
        os.chmod(root, 0o755)
    home = root / "home"
    sys.path.insert(0, str(ROOT / "src"))
    from wugan.settings import get_settings
    from wugan.synth import generate

    settings = get_settings(home)
    last = latest_scheduled_day()
    start = last - dt.timedelta(days=args.days - 1)
    generate(inbox=settings.inbox, truth=settings.truth, persons=args.persons, seed=args.seed, start=start,
             days=args.days)

    pg = Postgres(root / "pg")
    api_port = free_port()
    services: Services | None = None
    result: dict = {"ok": False}
    try:
        pg.start()
        pg.create("airflow", "wugan_cases")
        env = airflow_env(root, pg, api_port, home)
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        services = Services(env, root / "logs")
        services.start("api-server", "api-server", "--port", str(api_port))
        services.start("dag-processor", "dag-processor")
        api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10)
        wait(lambda: api.get("/api/v2/monitor/health").status_code == 200, 90, "the API server")
        token = api.post("/auth/token", json={"username": "admin", "password": "admin"}).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        wait(lambda: api.get("/api/v2/dags/wugan_ingest").status_code == 200
             and api.get("/api/v2/dags/wugan_assign").status_code == 200, 90, "the DAGs to be parsed")
        for dag_id in TIME_BASED:
            api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": True}).raise_for_status()
        ready = time.monotonic()

        triggered = time.monotonic()
        at = dt.datetime.combine(last, dt.time(23), tzinfo=CST)
        response = api.post("/api/v2/dags/wugan_ingest/dagRuns", json={"logical_date": at.isoformat()})
        response.raise_for_status()
        services.start("scheduler", "scheduler")
        store = pg.url("wugan_cases", "postgresql")
        wait(lambda: count(store, "cases") > 0, args.timeout, "cases in the case store")
        to_cases = time.monotonic() - triggered
        print(f"trigger -> cases written: {to_cases:.1f}s", flush=True)

        def assigned() -> bool:
            listed = api.get("/api/v2/dags/wugan_assign/dagRuns").json()["dag_runs"]
            return any(r["state"] == "success" for r in listed)

        wait(assigned, args.timeout, "wugan_assign to finish (tasks assigned, notices sent)")
        result = {
            "ok": True,
            "trigger_to_cases_s": round(to_cases, 1),
            "trigger_to_assigned_s": round(time.monotonic() - triggered, 1),
            "startup_s": round(ready - began, 1),
            "days": [start.isoformat(), last.isoformat()],
            "ingest_run": response.json()["dag_run_id"],
            "counts": {t: count(store, t) for t in ("events", "decisions", "cases", "items", "tasks", "notices")},
            "event_dag_runs": {
                f"wugan_event_{e}": [r["run_type"] for r in
                                     api.get(f"/api/v2/dags/wugan_event_{e}/dagRuns").json()["dag_runs"]]
                for e in ("birth", "death", "retirement", "medical_hardship", "old_age")
            },
            "services_alive": services.alive(),
        }
    except Exception as exc:  # report what went wrong with the logs' tails
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        for log in sorted((root / "logs").glob("*.log")):
            print(f"--- {log.name}", *log.read_text(errors="replace").splitlines()[-25:], sep="\n", file=sys.stderr)
    finally:
        if services is not None:
            services.stop()
        pg.stop()
        result["total_s"] = round(time.monotonic() - began, 1)
        if args.keep:
            result["root"] = str(root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
