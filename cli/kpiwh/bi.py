"""``kpi bi``: Apache Superset over the marts, dashboards kept as code in ``dashboards/``.

Superset pins libraries this project's environment cannot share (SQLAlchemy 1.4, pandas 2.1,
pyarrow 18), so it lives in its own virtual environment, installed on the first ``kpi bi up``
from the pinned list ``dashboards/superset-requirements.txt``. Everything it keeps is in one
folder, :func:`home` (``<project>/.kpi/superset``; ``KPI_BI_HOME`` overrides):

- ``venv/`` the virtual environment; ``superset_config.py`` (written on every ``up``);
  ``superset.db`` its metadata database (SQLite); ``superset.log`` the server's log;
  ``superset.pid`` / ``server.json`` the running server;
- ``secret_key``, ``admin_password``, ``warehouse_password``: generated once, mode 0600;
- ``warehouse_logins.json`` (optional, mode 0600): Superset user name -> warehouse login,
  so that a Superset user's charts read the warehouse as that login (its grants and
  row-level security, docs/security.md).

Superset reads the warehouse as :data:`WAREHOUSE_LOGIN`, a login member of ``kpi_admin``
that holds no privilege of its own (``SELECT`` through the group role only; never the
superuser, never the owner of the marts, so row-level security applies to it).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import yaml
from psycopg import sql

from . import config, db
from .errors import KpiError, UsageError

SUPERSET_VERSION = "6.1.0"
ADMIN_USER = "admin"
#: the warehouse login Superset's database connection uses (member of kpi_admin, read-only)
WAREHOUSE_LOGIN = "kpi_superset"
WAREHOUSE_GROUP = "kpi_admin"
DATABASE_FILE = "databases/kpi_warehouse.yaml"
DEFAULT_PORT = 8088
HOST = "127.0.0.1"
#: seconds ``up`` waits for a started server to answer /health
START_TIMEOUT = 180

CONFIG_TEMPLATE = '''\
"""Superset configuration written by `kpi bi up` (rewritten on every run: edit cli/kpiwh/bi.py)."""

import json
from pathlib import Path

_HOME = Path(__file__).resolve().parent

SECRET_KEY = (_HOME / "secret_key").read_text().strip()
SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(_HOME / "superset.db")
DATA_DIR = str(_HOME / "data")
# chart results depend on the warehouse login that ran them (row-level security): never cached
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FAB_ADD_SECURITY_API = True
SUPERSET_WEBSERVER_TIMEOUT = 120


def DB_CONNECTION_MUTATOR(uri, params, username, security_manager, source):  # noqa: N802
    """Run a Superset user's queries as the warehouse login mapped to it in warehouse_logins.json.

    Admins (and Superset's own background work, with no user) use the connection's login; any
    other user needs a mapping, or its charts fail: a viewer never reads as the admin login.
    """
    if not username:
        return uri, params
    logins_file = _HOME / "warehouse_logins.json"
    logins = json.loads(logins_file.read_text()) if logins_file.exists() else {}
    if username in logins:
        entry = logins[username]
        return uri.set(username=entry["login"], password=entry.get("password") or None), params
    user = security_manager.find_user(username=username)
    if user is not None and any(role.name == "Admin" for role in user.roles):
        return uri, params
    raise PermissionError(f"no warehouse login is mapped to Superset user {username} (kpi bi: warehouse_logins.json)")
'''


@dataclass(frozen=True)
class Paths:
    """Files and folders of the Superset installation (see the module docstring)."""

    home: Path

    @property
    def venv(self) -> Path:  # noqa: D102
        return self.home / "venv"

    @property
    def superset(self) -> Path:  # noqa: D102
        return self.venv / "bin" / "superset"

    @property
    def installed_mark(self) -> Path:  # noqa: D102
        return self.venv / "kpi-installed.txt"

    @property
    def config(self) -> Path:  # noqa: D102
        return self.home / "superset_config.py"

    @property
    def admin_password(self) -> Path:  # noqa: D102
        return self.home / "admin_password"

    @property
    def warehouse_password(self) -> Path:  # noqa: D102
        return self.home / "warehouse_password"

    @property
    def secret_key(self) -> Path:  # noqa: D102
        return self.home / "secret_key"

    @property
    def pidfile(self) -> Path:  # noqa: D102
        return self.home / "superset.pid"

    @property
    def server(self) -> Path:  # noqa: D102
        return self.home / "server.json"

    @property
    def log(self) -> Path:  # noqa: D102
        return self.home / "superset.log"

    @property
    def init_mark(self) -> Path:  # noqa: D102
        return self.home / "metadata-initialised.txt"


def home() -> Path:
    """Return the folder that holds Superset's venv, configuration, secrets and metadata (absolute).

    ``KPI_BI_HOME`` when set, else ``<project>/.kpi/superset``.
    """
    env = os.environ.get("KPI_BI_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return config.state_dir() / "superset"


def paths() -> Paths:
    """The :class:`Paths` of :func:`home`."""
    return Paths(home())


def dashboards_dir() -> Path:
    """Return ``<project>/dashboards``: Superset's export format (metadata.yaml, databases/, datasets/, charts/, dashboards/)."""
    return config.project_dir() / "dashboards"


def requirements_file() -> Path:
    """Return the pinned requirements of Superset's venv (``dashboards/superset-requirements.txt``)."""
    return dashboards_dir() / "superset-requirements.txt"


# --------------------------------------------------------------------------- install
def _requirements_digest() -> str:
    return hashlib.sha256(requirements_file().read_bytes()).hexdigest()


def is_installed(p: Paths | None = None) -> bool:
    """True when the venv holds the pinned requirements (its mark names their digest)."""
    p = p or paths()
    return (
        p.superset.exists()
        and p.installed_mark.exists()
        and p.installed_mark.read_text().strip() == _requirements_digest()
    )


def install(p: Paths | None = None, log=None) -> bool:
    """Create Superset's venv and install the pinned requirements into it, unless already done.

    Args:
        p: the installation's paths (default :func:`paths`).
        log: callable(str) told what happens (progress), or None.
    Returns:
        True if it installed now, False if the venv was already up to date.
    Raises:
        KpiError: venv creation or pip failed (the message names the log file).
    """
    p = p or paths()
    if is_installed(p):
        return False
    p.home.mkdir(parents=True, exist_ok=True)
    install_log = p.home / "install.log"
    if log:
        log(f"installing Apache Superset {SUPERSET_VERSION} into {p.venv} (once; ~240 MB download, ~0.8 GB)")
    with install_log.open("w") as fh:
        steps = []
        if not (p.venv / "bin" / "python").exists():
            steps.append([sys.executable, "-m", "venv", str(p.venv)])
        steps.append(
            [
                str(p.venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                "-r",
                str(requirements_file()),
            ]
        )
        for cmd in steps:
            r = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False)
            if r.returncode != 0:
                raise KpiError(
                    f"installing Superset failed ({Path(cmd[0]).name} exit {r.returncode}): see {install_log}"
                )
    p.installed_mark.write_text(_requirements_digest() + "\n")
    return True


def installed_version(p: Paths | None = None) -> str | None:
    """Version of the ``apache-superset`` distribution in the venv, or None when not installed."""
    p = p or paths()
    found = sorted(p.venv.glob("lib/python*/site-packages/apache_superset-*.dist-info"))
    if not found:
        return None
    return found[-1].name.removeprefix("apache_superset-").removesuffix(".dist-info")


# --------------------------------------------------------------------------- secrets
def _secret_file(path: Path, nbytes: int = 24) -> str:
    """Return the secret kept in ``path``, generating it first (file created mode 0600)."""
    if path.exists():
        os.chmod(path, 0o600)
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


# --------------------------------------------------------------------------- warehouse
def ensure_warehouse_login(password: str) -> None:
    """Create (or update) :data:`WAREHOUSE_LOGIN`: LOGIN, no superuser/createdb/createrole, member of kpi_admin.

    Idempotent: an existing login gets the password again and the membership.

    Raises:
        KpiError: the warehouse has no marts or no ``kpi_admin`` role yet (build it first), or
            the connected user may not create roles.
    """
    with db.connect() as conn:
        if conn.execute("select to_regnamespace('marts')").fetchone()[0] is None:
            raise KpiError("the warehouse has no marts yet: run `kpi demo` or `kpi build` first")
        if conn.execute("select 1 from pg_roles where rolname = %s", (WAREHOUSE_GROUP,)).fetchone() is None:
            raise KpiError(f"role {WAREHOUSE_GROUP} does not exist: run `kpi init --roles` (docs/security.md)")
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (WAREHOUSE_LOGIN,)).fetchone()
        stmt = sql.SQL(
            "{verb} role {login} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls "
            "password {password}"
        ).format(
            verb=sql.SQL("alter" if exists else "create"),
            login=sql.Identifier(WAREHOUSE_LOGIN),
            password=sql.Literal(password),
        )
        conn.execute(stmt)
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(WAREHOUSE_GROUP), sql.Identifier(WAREHOUSE_LOGIN)))


def warehouse_uri(login: str, password: str) -> str:
    """SQLAlchemy URI (psycopg2) of the warehouse for ``login``, for the current target.

    Embedded: the running server's unix socket (``?host=<socket dir>``). Other targets: libpq's
    ``PGHOST`` / ``PGPORT`` / ``PGDATABASE`` (defaults localhost, 5432, postgres).
    """
    auth = f"{quote(login, safe='')}:{quote(password, safe='')}"
    if config.is_embedded():
        st = db.start()
        return f"postgresql+psycopg2://{auth}@/{quote(db.database(), safe='')}?host={st.socket_dir}"
    env = os.environ
    return (
        f"postgresql+psycopg2://{auth}@{env.get('PGHOST', 'localhost')}:{env.get('PGPORT', '5432')}"
        f"/{env.get('PGDATABASE', 'postgres')}"
    )


# --------------------------------------------------------------------------- bundle
def bundle(uri: str, src: Path | None = None) -> bytes:
    """Zip the dashboards folder as a Superset import bundle, with the database's URI filled in.

    Args:
        uri: SQLAlchemy URI written into ``databases/kpi_warehouse.yaml`` (it holds a placeholder).
        src: the folder in Superset's export format (default :func:`dashboards_dir`).
    Returns:
        the ZIP's bytes; every file under one root folder, as Superset's own exports.
    Raises:
        UsageError: the folder has no metadata.yaml or no database file.
    """
    src = src or dashboards_dir()
    if not (src / "metadata.yaml").is_file() or not (src / DATABASE_FILE).is_file():
        raise UsageError(f"{src}: not a Superset export folder (metadata.yaml and {DATABASE_FILE} expected)")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(src.rglob("*.yaml")):
            rel = f.relative_to(src).as_posix()
            text = f.read_text(encoding="utf-8")
            if rel == DATABASE_FILE:
                doc = yaml.safe_load(text)
                doc["sqlalchemy_uri"] = uri
                text = yaml.safe_dump(doc, sort_keys=False)
            zf.writestr(f"kpi_dashboards/{rel}", text)
    return buf.getvalue()


# --------------------------------------------------------------------------- superset commands
def _env(p: Paths) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        SUPERSET_CONFIG_PATH=str(p.config),
        SUPERSET_HOME=str(p.home),
        FLASK_APP="superset",
        PATH=f"{p.venv / 'bin'}:{env.get('PATH', '')}",
    )
    return env


def _superset(p: Paths, *args: str, what: str) -> str:
    """Run ``superset ARGS`` in its venv; returns its output; raises KpiError (one line) on failure."""
    r = subprocess.run([str(p.superset), *args], env=_env(p), cwd=p.home, capture_output=True, text=True, check=False)
    with (p.home / "commands.log").open("a") as fh:
        shown = ["***" if i and args[i - 1] in ("--password", "--uri") else a for i, a in enumerate(args)]
        fh.write(f"$ superset {' '.join(shown)}\n{r.stdout}{r.stderr}\n")
    if r.returncode != 0:
        lines = [ln.strip() for ln in (r.stderr + r.stdout).splitlines() if ln.strip()]
        last = next((ln for ln in reversed(lines) if "Error" in ln or "error" in ln), lines[-1] if lines else "")
        raise KpiError(f"superset {what} failed: {last[:200]} (log: {p.home / 'commands.log'})")
    return r.stdout + r.stderr


def write_config(p: Paths) -> None:
    """Write ``superset_config.py`` (and the secret key, once)."""
    p.home.mkdir(parents=True, exist_ok=True)
    os.chmod(p.home, 0o700)  # the metadata database holds the warehouse connection (encrypted with secret_key)
    _secret_file(p.secret_key, 42)
    p.config.write_text(CONFIG_TEMPLATE)


def init_metadata(p: Paths, admin_password: str) -> None:
    """``superset db upgrade`` (every time: idempotent), then once ``superset init`` and the admin user."""
    _superset(p, "db", "upgrade", what="db upgrade")
    if p.init_mark.exists():
        return
    _superset(p, "init", what="init")
    out = _superset(
        p,
        "fab",
        "create-admin",
        "--username",
        ADMIN_USER,
        "--firstname",
        "KPI",
        "--lastname",
        "Admin",
        "--email",
        "admin@localhost",
        "--password",
        admin_password,
        what="fab create-admin",
    )
    if "already exist" in out:  # a metadata database from before: make the password the file's again
        _superset(
            p,
            "fab",
            "reset-password",
            "--username",
            ADMIN_USER,
            "--password",
            admin_password,
            what="fab reset-password",
        )
    p.init_mark.write_text(SUPERSET_VERSION + "\n")


def import_dashboards(p: Paths, uri: str) -> int:
    """Import every dashboard of :func:`dashboards_dir` (overwriting by UUID); returns how many there are."""
    zpath = p.home / "kpi_dashboards.zip"
    zpath.write_bytes(bundle(uri))
    os.chmod(zpath, 0o600)  # it holds the warehouse login's password
    _superset(p, "import-dashboards", "--path", str(zpath), "--username", ADMIN_USER, what="import-dashboards")
    # an import keeps an existing database's connection as it was: set the address and login now
    database_name = yaml.safe_load((dashboards_dir() / DATABASE_FILE).read_text(encoding="utf-8"))["database_name"]
    _superset(
        p, "set-database-uri", "--database_name", database_name, "--uri", uri, "--skip_create", what="set-database-uri"
    )
    return len(list((dashboards_dir() / "dashboards").glob("*.yaml")))


# --------------------------------------------------------------------------- server
def _read_server(p: Paths) -> dict | None:
    try:
        return json.loads(p.server.read_text())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _healthy(port: int, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((HOST, port)) != 0


@dataclass
class Status:
    """What ``kpi bi status`` reports.

    Attributes:
        installed: the venv holds the pinned Superset.
        running: the server answers /health.
        url: where it serves (None when not running).
        version: installed Superset version (None when not installed).
        admin_user: the admin's user name.
        admin_password_file: file holding the admin's password (mode 0600).
        pid: server process id (None when not running).
        home: the installation folder.
    """

    installed: bool
    running: bool
    url: str | None
    version: str | None
    admin_user: str
    admin_password_file: str
    pid: int | None
    home: str

    def as_dict(self) -> dict:
        """JSON-ready dict of every attribute."""
        return dict(self.__dict__)


def status(p: Paths | None = None) -> Status:
    """Inspect the installation and the server without changing anything."""
    p = p or paths()
    srv = _read_server(p) or {}
    pid, port = srv.get("pid"), srv.get("port")
    running = bool(port) and _pid_alive(pid) and _healthy(port)
    return Status(
        installed=is_installed(p) if requirements_file().exists() else p.superset.exists(),
        running=running,
        url=f"http://{HOST}:{port}/" if running else None,
        version=installed_version(p),
        admin_user=ADMIN_USER,
        admin_password_file=str(p.admin_password),
        pid=pid if running else None,
        home=str(p.home),
    )


def start_server(p: Paths, port: int) -> int:
    """Start Superset (gunicorn, detached, on ``HOST:port``) unless it already runs; wait for /health.

    Returns:
        the server's pid.
    Raises:
        KpiError: the port is taken by another program, or the server did not answer in
            :data:`START_TIMEOUT` seconds (the message names its log).
    """
    srv = _read_server(p) or {}
    if _pid_alive(srv.get("pid")) and srv.get("port") == port and _healthy(port):
        return srv["pid"]
    if _pid_alive(srv.get("pid")):
        stop_server(p)
    if not _port_free(port):
        raise KpiError(f"port {port} is in use by another program: kpi bi up --port N")
    gunicorn = p.venv / "bin" / "gunicorn"
    with p.log.open("ab") as log:
        proc = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "120",
                "--bind",
                f"{HOST}:{port}",
                "superset.app:create_app()",
            ],
            env=_env(p),
            cwd=p.home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    p.pidfile.write_text(f"{proc.pid}\n")
    p.server.write_text(json.dumps({"pid": proc.pid, "port": port, "version": installed_version(p)}))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise KpiError(f"Superset exited at start (status {proc.returncode}): see {p.log}")
        if _healthy(port):
            return proc.pid
        time.sleep(1)
    stop_server(p)
    raise KpiError(f"Superset did not answer on port {port} within {START_TIMEOUT}s: see {p.log}")


def stop_server(p: Paths | None = None, timeout: float = 20.0) -> bool:
    """Stop the server (its whole process group: gunicorn and its workers); always safe.

    Returns:
        True if a server was running and is now stopped, False if none was.
    """
    p = p or paths()
    srv = _read_server(p) or {}
    pid = srv.get("pid")
    stopped = False
    if _pid_alive(pid):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _pid_alive(pid):
                time.sleep(0.2)
            if not _pid_alive(pid):
                break
        stopped = True
    p.server.unlink(missing_ok=True)
    p.pidfile.unlink(missing_ok=True)
    return stopped


# --------------------------------------------------------------------------- up
@dataclass
class UpResult:
    """What ``kpi bi up`` did: ``installed`` now (else it was already), dashboards imported, the status."""

    installed: bool
    dashboards: int
    status: Status


def up(port: int = DEFAULT_PORT, log=None) -> UpResult:
    """Install (once), configure, register the warehouse, import the dashboards, serve; idempotent.

    Args:
        port: TCP port on 127.0.0.1.
        log: callable(str) told each step (progress), or None.
    Returns:
        an :class:`UpResult`.
    Raises:
        UsageError: a bad port.
        KpiError: any step failed (one line naming the log to read).
    """
    if not 1 <= port <= 65535:
        raise UsageError(f"--port: {port} is not a TCP port")
    say = log or (lambda _msg: None)
    p = paths()
    if not requirements_file().is_file():
        raise UsageError(f"{requirements_file()} is missing: the pinned Superset requirements")
    write_config(p)
    admin_password = _secret_file(p.admin_password)
    warehouse_password = _secret_file(p.warehouse_password)
    say(f"warehouse login {WAREHOUSE_LOGIN} (member of {WAREHOUSE_GROUP}, read-only)")
    ensure_warehouse_login(warehouse_password)  # first: a warehouse not built yet fails before the install
    installed = install(p, log=say)
    say("Superset metadata database")
    init_metadata(p, admin_password)
    say("importing dashboards")
    n = import_dashboards(p, warehouse_uri(WAREHOUSE_LOGIN, warehouse_password))
    say(f"starting Superset on http://{HOST}:{port}/")
    start_server(p, port)
    return UpResult(installed=installed, dashboards=n, status=status(p))
