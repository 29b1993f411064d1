"""A scaled-out deployment on loopback: N `sfs serve` instances behind HAProxy (round-robin, no
stickiness), on PostgreSQL (a private schema), moto_server S3 and Redis, sharing one master key.

Used by tests/e2e/test_cluster.py and bench/load_bench.py. Every process is a child of this one,
bound to 127.0.0.1 on a free port, and stopped by `Cluster.close`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from sfs.metadata.db import create_database_engine

SFS = str(Path(sys.executable).with_name("sfs"))
POSTGRES_URL = os.environ.get("SFS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SFS_TEST_REDIS_URL", "redis://127.0.0.1:6379")
PASSWORD = "correct horse battery staple 42"
START_SECONDS = 60.0


class ClusterError(Exception):
    """A part of the cluster did not start (its log or reason in the message)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def haproxy_command() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None
    )


def moto_server_command() -> str | None:
    beside_python = Path(sys.executable).parent / "moto_server"
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"{what} did not start on port {port}") from None
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Instance:
    """One `sfs serve` of the cluster, on its own port and data folder (outbox only)."""

    def __init__(self, name: str, workdir: Path, environment: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / name
        self.environment = {
            **environment,
            "SFS_DATA_DIR": str(self.data_dir),
            "SFS_PORT": str(self.port),
        }
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [SFS, "serve"], env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ClusterError(f"{self.name} exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise ClusterError(f"{self.name} not ready in {START_SECONDS} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: gone at once, requests in flight cut."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        _stop(self.process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


class Cluster:
    def __init__(
        self,
        workdir: Path,
        *,
        instances: int = 2,
        notification: str = "auto",
        recheck_seconds: float = 30.0,
        extra_environment: dict[str, str] | None = None,
        application_name: str = "sfs-cluster",
    ) -> None:
        haproxy, moto = haproxy_command(), moto_server_command()
        if haproxy is None or moto is None:
            raise ClusterError("haproxy and moto_server are needed (apt-get install haproxy)")
        self.workdir = workdir
        self.schema = f"sfs_cluster_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.bucket = f"sfs-cluster-{uuid.uuid4().hex[:12]}"
        self._moto: subprocess.Popen[bytes] | None = None
        self._haproxy: subprocess.Popen[bytes] | None = None
        self.instances: list[Instance] = []
        self._extra = extra_environment or {}
        self._application_name = application_name
        admin = create_database_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        admin.dispose()
        try:
            self._start(haproxy, moto, instances, notification, recheck_seconds)
        except BaseException:
            self.close()
            raise

    def _start(
        self, haproxy: str, moto: str, instances: int, notification: str, recheck: float
    ) -> None:
        moto_port = free_port()
        self._moto = subprocess.Popen(
            [moto, "-H", "127.0.0.1", "-p", str(moto_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(moto_port, self._moto, "moto_server")
        self.s3_endpoint = f"http://127.0.0.1:{moto_port}"
        import boto3

        boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=self.bucket)

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = (
            f"{POSTGRES_URL}?options=-csearch_path%3D{self.schema}"
            f"&application_name={self._application_name}"
        )
        self.environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SFS_")},
            "PYTHONUNBUFFERED": "1",
            "SFS_BASE_URL": self.base_url,
            "SFS_DATA_DIR": str(self.workdir / "admin"),
            "SFS_DATABASE_URL": self.database_url,
            "SFS_BLOB_URL": f"s3://{self.bucket}",
            "SFS_S3_ENDPOINT_URL": self.s3_endpoint,
            "SFS_S3_REGION": "us-east-1",
            "SFS_S3_ACCESS_KEY_ID": "testing",
            "SFS_S3_SECRET_ACCESS_KEY": "testing",
            "SFS_MASTER_KEY_FILE": str(self.workdir / "master.key"),
            "SFS_RATE_LIMIT_STORAGE": f"{REDIS_URL}/0",
            "SFS_CHANGE_NOTIFICATION": notification,
            "SFS_CHANGE_RECHECK_SECONDS": str(recheck),
            "SFS_TRUSTED_PROXIES": "127.0.0.1",
            "SFS_PASSWORD_HASH_TIME_COST": "1",
            "SFS_PASSWORD_HASH_MEMORY_KIB": "8192",
            "SFS_PASSWORD_HASH_PARALLELISM": "1",
            **self._extra,
        }
        self.admin("db", "upgrade")
        self.admin("admin", "create-org", "Cluster")  # also makes the shared master key
        self.instances = [
            Instance(f"instance{n + 1}", self.workdir, self.environment) for n in range(instances)
        ]
        for instance in self.instances:  # one after the other: the first start bootstraps
            instance.start()
        config = self.workdir / "haproxy.cfg"
        config.write_text(self._haproxy_config())
        with (self.workdir / "haproxy.log").open("a") as log:
            self._haproxy = subprocess.Popen(
                [haproxy, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        try:
            _wait_for_port(self.port, self._haproxy, "haproxy")
        except ClusterError as problem:
            raise ClusterError(
                f"{problem}:\n{(self.workdir / 'haproxy.log').read_text()}"
            ) from None

    def _haproxy_config(self) -> str:
        servers = "\n".join(
            f"    server {i.name} 127.0.0.1:{i.port} check inter 500ms fall 2 rise 2"
            for i in self.instances
        )
        # Round-robin, no stickiness. A connection refused by a dead instance is retried on
        # another (redispatch); a request cut mid-way is the client's to retry.
        return f"""global
    maxconn 8000

defaults
    mode http
    timeout connect 2s
    timeout client 180s
    timeout server 180s
    retries 2
    option redispatch 1
    option http-server-close
    option forwardfor

frontend sfs
    bind 127.0.0.1:{self.port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /readyz
{servers}
"""

    def admin(self, *arguments: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [SFS, *arguments],
            env=self.environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise ClusterError(f"sfs {' '.join(arguments)}: {done.stdout}{done.stderr}")
        return done.stdout

    def create_user(self, email: str) -> None:
        self.admin(
            *("admin", "create-user", "--org", "Cluster", "--email", email),
            *("--name", email.split("@")[0], "--password-stdin"),
            stdin=PASSWORD + "\n",
        )

    def close(self) -> None:
        _stop(self._haproxy)
        for instance in self.instances:
            instance.stop()
        _stop(self._moto)
        admin = create_database_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        admin.dispose()
