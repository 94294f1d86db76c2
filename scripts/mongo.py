"""A local SecantusDB server (MongoDB wire protocol) run as a child process."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from scripts.procs import Child, Spawner, free_port, tail


class MongoStartError(RuntimeError):
    pass


def secantusd_command() -> list[str]:
    beside = Path(sys.executable).parent / "secantusd-py"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("secantusd-py")
    if found:
        return [found]
    raise MongoStartError(
        "secantusd-py not found: install the dev extras (pip install -e '.[dev]')"
    )


class MongoServer:
    """SecantusDB with its data in ``storage_path`` (kept across restarts)."""

    def __init__(
        self,
        storage_path: Path,
        log_path: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        cache_size: str = "256M",
        spawner: Spawner | None = None,
    ) -> None:
        self.storage_path = Path(storage_path)
        self.host = host
        self.port = port or free_port(host)
        self.cache_size = cache_size
        self.child = Child(
            "mongo",
            [
                *secantusd_command(),
                "--host",
                host,
                "--port",
                str(self.port),
                "--storage-path",
                str(self.storage_path),
                "--cache-size",
                cache_size,
                "--log-level",
                "WARNING",
                # A standalone server keeps no oplog: nothing here reads one (no change
                # streams, no transactions), and each write then skips an oplog row
                # (about 10% of the server's CPU per event insert and finish, measured).
                "--standalone",
            ],
            log_path,
            # secantusd reads ./secantusd.toml if present: run it where none is.
            cwd=self.storage_path,
            spawner=spawner,
        )

    @property
    def url(self) -> str:
        # No retryable writes: SecantusDB records every retryable write in a registry
        # it prunes on each write (about a third of its CPU per write, profiled), and
        # one standalone server has no failover for a retry to ride.
        return f"mongodb://{self.host}:{self.port}/?directConnection=true&retryWrites=false"

    def start(self, timeout: float = 60.0) -> str:
        self.storage_path.mkdir(parents=True, exist_ok=True)
        self.child.start()
        self.wait_ready(timeout)
        return self.url

    def wait_ready(self, timeout: float) -> None:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        deadline = time.monotonic() + timeout
        while True:
            if not self.child.running():
                raise MongoStartError(
                    f"SecantusDB exited with {self.child.exit_code()}:\n{tail(self.child.log_path)}"
                )
            client: MongoClient[dict[str, object]] = MongoClient(
                self.url, serverSelectionTimeoutMS=500
            )
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise MongoStartError(
                        f"SecantusDB did not answer within {timeout:.0f}s:\n"
                        f"{tail(self.child.log_path)}"
                    ) from None
            finally:
                client.close()
            time.sleep(0.2)

    def ping(self, timeout: float = 1.0) -> bool:
        """Whether the server answers a ping now."""
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        client: MongoClient[dict[str, object]] = MongoClient(
            self.url,
            serverSelectionTimeoutMS=int(timeout * 1000),
            connectTimeoutMS=int(timeout * 1000),
        )
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        self.child.stop(grace=10.0)

    def running(self) -> bool:
        return self.child.running()
