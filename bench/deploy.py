"""Deploys and app traffic on a stack of its own (issue 10's benchmark).

    python -m bench.deploy                    # everything below, own stack in a temp dir
    python -m bench.deploy --apps 50 --seconds 15 --rounds 3 --clients 10
    python -m bench.deploy --apps 0           # deploy-to-first-response and traffic only

1. Deploy-to-first-response: ``tsuru app-deploy`` of tests/apps/sample (a tar.gz upload
   through the gateway), then GET / by the app's address (``<app>.<apps domain>``
   through the gateway's app router) until it answers 200; the time from the deploy
   request to that answer (goal: at most 5 s).
2. App traffic: requests/s and p50 of keep-alive GETs through the app router vs straight
   to the unit, and vs nginx (one worker, keep-alive upstream) proxying to the same unit,
   rounds alternated in the same run, driven by wrk (nginx-light and wrk are installed
   with apt when running as root and absent; without wrk, bench.gateway's own load
   generator; without nginx, no nginx column). Goal: the router at least 0.8 of nginx.
3. ``--apps`` apps of one unit each deployed one after another: each deploy's time (the
   last as fast as the first; each phase over the first and last tenth), the same
   redeploy of the first app before and after them (``--redeploys`` each side: the
   number of apps apart from the machine's load), and the idle stack's memory and CPU
   (every process of the stack, every unit's runner and process) with them running,
   over ``--idle`` seconds.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.gateway import run_cell
from tests.apps import sample_archive

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Where a deploy's time goes: the first line of each phase in its output.
PHASES = (
    ("build", "---- Building image ----"),
    ("start", "---- Starting "),
    ("check", "---- Binding and checking "),
    ("route", "---- Adding routes to new units ----"),
)


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        ctype: str = "",
        timeout: float = 600,
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        req.add_header("Authorization", f"bearer {self.token}")
        if ctype:
            req.add_header("Content-Type", ctype)
        try:
            with OPENER.open(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def create_team(self, name: str) -> None:
        status, body = self.call(
            "POST", "/teams", f"name={name}".encode(), "application/x-www-form-urlencoded"
        )
        if status not in (201, 409):
            raise SystemExit(f"creating team {name}: {status} {body.decode(errors='replace')}")

    def create_app(self, name: str, team: str, plan: str = "") -> None:
        status, body = self.call(
            "POST",
            "/apps",
            f"name={name}&platform=python&teamOwner={team}&plan={plan}".encode(),
            "application/x-www-form-urlencoded",
        )
        if status != 201:
            raise SystemExit(f"creating {name}: {status} {body.decode(errors='replace')}")

    def deploy(self, name: str, archive: Path) -> str:
        return self.deploy_timed(name, archive)[0]

    def deploy_timed(self, name: str, archive: Path) -> tuple[str, dict[str, float]]:
        """The deploy's output and when (seconds from the request) each phase began,
        read from its streamed lines as they arrive (PHASES; ``ok``: the last line)."""
        boundary = secrets.token_hex(12)
        payload = io.BytesIO()
        payload.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{archive.name}"\r\nContent-Type: application/gzip\r\n\r\n'.encode()
        )
        payload.write(archive.read_bytes())
        payload.write(f"\r\n--{boundary}--\r\n".encode())
        req = urllib.request.Request(
            f"{self.url}/apps/{name}/deploy", data=payload.getvalue(), method="POST"
        )
        req.add_header("Authorization", f"bearer {self.token}")
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        marks: dict[str, float] = {}
        lines: list[str] = []
        started = time.monotonic()
        try:
            with OPENER.open(req, timeout=600) as resp:
                status = resp.status
                for raw in iter(resp.readline, b""):
                    line = raw.decode(errors="replace")
                    for phase, marker in PHASES:
                        if phase not in marks and marker in line:
                            marks[phase] = time.monotonic() - started
                    lines.append(line)
        except urllib.error.HTTPError as err:
            status, lines = err.code, [err.read().decode(errors="replace")]
        marks["ok"] = time.monotonic() - started
        text = "".join(lines)
        if status != 200 or not text.rstrip().endswith("OK"):
            raise SystemExit(f"deploying {name}: {status} {text[-2000:]}")
        return text, marks

    def unit_address(self, name: str) -> str:
        status, body = self.call("GET", f"/apps/{name}")
        units = json.loads(body).get("units") or []
        for unit in units:
            if unit.get("Status") == "started" and unit.get("Address"):
                return str(unit["Address"]["Host"])
        raise SystemExit(f"{name} has no started unit: {units}")


def login(url: str, data_dir: Path) -> str:
    fields = dict(
        line.split("=", 1)
        for line in (data_dir / "admin.txt").read_text().splitlines()
        if "=" in line
    )
    body = f"email={fields['email']}&password={fields['password']}".encode()
    with OPENER.open(urllib.request.Request(url + "/auth/login", data=body), timeout=30) as resp:
        return str(json.loads(resp.read())["token"])


def get_by_host(port: int, host: str, path: str = "/") -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return 0
    finally:
        conn.close()


def first_response(api: Api, port: int, host: str, name: str, archive: Path) -> tuple[float, float]:
    """(seconds to the deploy's OK, seconds to the app's first 200 by its address through
    the gateway's app router), both from the deploy request."""
    started = time.monotonic()
    api.deploy(name, archive)
    deployed = time.monotonic() - started
    while get_by_host(port, host) != 200:
        if time.monotonic() - started > 120:
            raise SystemExit(f"{host} never answered 200 through the gateway")
        time.sleep(0.02)
    return deployed, time.monotonic() - started


def ensure_tools() -> None:
    """nginx (Debian's nginx-light) and wrk, installed with apt when root and absent."""
    missing = [pkg for pkg, binary in (("nginx-light", "nginx"), ("wrk", "wrk"))
               if not shutil.which(binary) and not os.path.exists(f"/usr/sbin/{binary}")]  # fmt: skip
    if not missing or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def nginx_in_front(unit: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else ""
    )
    if not binary:
        return None
    from scripts.procs import free_port

    port = free_port()
    conf = workdir / "nginx.conf"
    # One worker, keep-alive upstream, the Host and X-Forwarded-* a router sets.
    conf.write_text(
        f"""worker_processes 1;
error_log {workdir}/nginx-error.log;
pid {workdir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream unit {{ server {unit}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://unit;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
    }}
  }}
}}
"""
    )
    proc = subprocess.Popen([binary, "-c", str(conf), "-g", "daemon off;"], cwd=workdir)
    for _ in range(100):
        if get_by_host(port, "bench") == 200:
            return proc, port
        time.sleep(0.05)
    proc.kill()
    return None


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(value: str) -> float:
    for unit in ("us", "ms", "s", "m"):
        if value.endswith(unit) and value[: -len(unit)].replace(".", "", 1).isdigit():
            return float(value[: -len(unit)]) * _UNITS[unit]
    raise ValueError(f"not a wrk duration: {value!r}")


@dataclass
class Result:
    """One path's figures over its rounds: requests/s and latency percentiles (ms)."""

    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, rps: float, p50: float, p99: float, errors: int) -> None:
        self.rps.append(rps)
        self.p50.append(p50)
        self.p99.append(p99)
        self.errors += errors


def wrk_round(url: str, host: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, errors) of one wrk run of keep-alive GET ``url``."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-H", f"Host: {host}", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    rps, p50, p99, errors = 0.0, float("nan"), float("nan"), 0
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(words[1])
        elif words[:1] == ["50%"]:
            p50 = _ms(words[1])
        elif words[:1] == ["99%"]:
            p99 = _ms(words[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            errors += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            errors += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
    return rps, p50, p99, errors


def own_round(url: str, host: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    cell = run_cell(url, "/", clients, seconds, 0.5, host=host)
    return cell.rps, cell.pct(0.5), cell.pct(0.99), cell.errors


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def traffic(
    port: int,
    host: str,
    unit: str,
    workdir: Path,
    args: argparse.Namespace,
    gateway_pids: Callable[[], list[int]] = list,
) -> None:
    """Rounds alternated between the paths, every path in each round, so a drift of the
    machine's load touches them alike; the median of the rounds is shown. Beside each
    proxy: its CPU time per request (user + system of its processes over its rounds), a
    figure the machine's other load does not change much."""
    ensure_tools()
    targets = {"direct": f"http://{unit}/", "router": f"http://127.0.0.1:{port}/"}
    nginx = nginx_in_front(unit, workdir)
    if nginx is not None:
        targets["nginx"] = f"http://127.0.0.1:{nginx[1]}/"
    use_wrk = bool(shutil.which("wrk"))
    one_round = wrk_round if use_wrk else own_round
    results = {name: Result() for name in targets}
    proxies: dict[str, Callable[[], list[int]]] = {"router": gateway_pids}
    if nginx is not None:
        master = nginx[0].pid
        proxies["nginx"] = lambda: [master, *_children(master)]
    cpu = {name: 0.0 for name in proxies}
    try:
        for url in targets.values():  # warm-up: connections, pools, caches
            one_round(url, host, args.clients, 1)
        for _ in range(args.rounds):
            for name, url in targets.items():
                pids = proxies[name]() if name in proxies else []
                before = cpu_seconds_of(pids)
                results[name].add(*one_round(url, host, args.clients, args.seconds / args.rounds))
                if name in proxies:
                    cpu[name] += cpu_seconds_of(pids) - before
    finally:
        if nginx is not None:
            nginx[0].terminate()
            nginx[0].wait(10)
    tool = "wrk -t1" if use_wrk else "bench.gateway's load generator"
    print(f"\napp traffic: GET / of the sample app, {args.clients} keep-alive connections "
          f"({tool}), {args.rounds} alternated rounds of {args.seconds / args.rounds:g} s, medians")  # fmt: skip
    print(
        f"{'path':<8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'proxy CPU us/req':>18}"
    )
    med = {name: statistics.median(r.rps) for name, r in results.items()}
    for name, r in results.items():
        served = sum(r.rps) * args.seconds / args.rounds
        per = f"{1e6 * cpu[name] / served:>18.0f}" if name in cpu and served else ""
        print(f"{name:<8}{med[name]:>10.0f}{statistics.median(r.p50):>10.2f}"
              f"{statistics.median(r.p99):>10.2f}{r.errors:>8}{per}")  # fmt: skip
    print(f"router / direct: {med['router'] / max(med['direct'], 1):.2f}")
    if "nginx" in med:
        print(f"router / nginx:  {med['router'] / max(med['nginx'], 1):.2f} (goal >= 0.8)")
        print(f"nginx / direct:  {med['nginx'] / max(med['direct'], 1):.2f}")
    else:
        print("nginx is not installed: no nginx column")


def pids_of_stack(stack: Any) -> dict[str, list[int]]:
    """The stack's processes by role, the units' runners and the apps' own processes."""
    from scripts.procs import group_members
    from services.provisioner.backends.process import unitfs
    from services.provisioner.backends.process.units import running_processes

    found = {name: group_members(pgid) for name, pgid in stack.process_groups().items()}
    root = stack.units_root()
    runners = set()
    for unit in (root / "units").iterdir():
        state = unitfs.read_json(str(unit / unitfs.STATE)) or {}
        if state.get("runner_pid"):
            runners.add(int(state["runner_pid"]))
    units = set(running_processes(str(root)))
    found["unit runners"] = sorted(units & runners)
    found["app processes"] = sorted(units - runners)
    return found


def rss_of(pids: list[int]) -> float:
    """MiB of resident memory of ``pids``."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except OSError:
            pass
    return total


def cpu_seconds_of(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def idle_report(stack: Any, apps: int, window: float = 10.0) -> None:
    """Resident memory and CPU use of the idle stack, by role."""
    pids = pids_of_stack(stack)
    before = {role: cpu_seconds_of(p) for role, p in pids.items()}
    time.sleep(window)
    cpu = {role: 100 * (cpu_seconds_of(p) - before[role]) / window for role, p in pids.items()}
    memory = {role: rss_of(p) for role, p in pids.items()}
    print(
        f"\nidle stack with {apps} apps running: {sum(memory.values()):.0f} MiB resident,"
        f" {sum(cpu.values()):.1f}% of one CPU over {window:g} s"
    )
    per_app = (memory["unit runners"] + memory["app processes"]) / max(apps, 1)
    print(f"  per app (its unit's runner and process): {per_app:.1f} MiB")
    print(f"  {'':<22}{'MiB':>8}{'CPU %':>8}")
    for role in sorted(pids, key=lambda r: -memory[r])[:14]:
        print(f"  {role:<22}{memory[role]:>8.1f}{cpu[role]:>8.1f}")


def sequential_report(times: list[dict[str, float]], loads: list[float]) -> None:
    """Each phase's median over the first and the last tenth of the deploys (the
    machine's load beside them: a loaded machine slows every phase alike)."""
    totals = [t["ok"] for t in times]
    print(f"\n{len(times)} deploys one after another (seconds, deploy request -> OK):")
    print(
        f"  first {totals[0]:.2f}  last {totals[-1]:.2f}  median {statistics.median(totals):.2f}"
        f"  max {max(totals):.2f}"
    )
    tenth = max(1, len(times) // 10)
    steps = [("upload", "build"), ("build", "start"), ("start", "check"), ("check", "ok")]
    print(f"  phase medians, deploys 1-{tenth} vs {len(times) - tenth + 1}-{len(times)}:")
    for first, then in steps:

        def spans(part: list[dict[str, float]], a: str = first, b: str = then) -> list[float]:
            return [t[b] - t.get(a, 0.0) for t in part if b in t and (a == "upload" or a in t)]

        early, late = spans(times[:tenth]), spans(times[-tenth:])
        if early and late:
            print(
                f"    {first + ' -> ' + then:<18}{statistics.median(early):>7.2f}"
                f"{statistics.median(late):>7.2f}"
            )
    print(
        f"  1-min load average: {statistics.median(loads[:tenth]):.1f} vs "
        f"{statistics.median(loads[-tenth:]):.1f} ({os.cpu_count()} CPUs)"
    )


def cpu_report(spent: list[dict[str, float]]) -> None:
    """CPU seconds each role spent during a deploy (the units' processes: those running
    when it began), first and last tenth: work that grows with the number of apps."""
    tenth = max(1, len(spent) // 10)
    roles = sorted(spent[0], key=lambda r: -sum(s.get(r, 0.0) for s in spent))
    print(f"  CPU seconds per deploy by role, deploys 1-{tenth} vs {len(spent) - tenth + 1}-:")
    for role in roles[:8]:
        early = statistics.median(s.get(role, 0.0) for s in spent[:tenth])
        late = statistics.median(s.get(role, 0.0) for s in spent[-tenth:])
        print(f"    {role:<22}{early:>7.2f}{late:>7.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="traffic per path, all rounds; 0: none"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--plan",
        default="c2m4",
        help="plan of the app the traffic goes to (the default plan's 0.1 CPU would make "
        "its unit the bottleneck of every path)",
    )
    parser.add_argument("--redeploys", type=int, default=3, help="of the first app, each side")
    parser.add_argument(
        "--idle",
        type=float,
        default=10.0,
        help="seconds the idle stack's CPU is measured over (the reconciler's full pass "
        "comes every TSUBAME_RECONCILE_FULL_INTERVAL, 60 s: a window that long includes one)",
    )
    args = parser.parse_args(argv)

    from scripts.stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="tsubame-bench-deploy-"))
    workdir.chmod(0o711)
    stack = Stack(
        workdir / "stack", port=None, env_overrides={"TSUBAME_PROCESS_ROOT": str(workdir / "units")}
    )
    stack.start()
    try:
        api = Api(stack.url, login(stack.url, stack.data_dir))
        domain = stack.env.get("TSUBAME_APPS_DOMAIN", "tsubame.localhost")
        archive = sample_archive(workdir / "archive")
        name = "bench-first"
        team = "bench"
        api.create_team(team)  # the admin belongs to no team on a fresh stack
        api.create_app(name, team, args.plan)
        deployed, answered = first_response(api, stack.port, f"{name}.{domain}", name, archive)
        print(
            f"deploy request -> OK: {deployed:.2f} s; -> first 200 by its address through "
            f"the gateway: {answered:.2f} s (goal <= 5 s)"
        )
        unit = api.unit_address(name)
        if args.seconds > 0:
            traffic(
                stack.port,
                f"{name}.{domain}",
                unit,
                workdir,
                args,
                lambda: pids_of_stack(stack).get("gateway", []),
            )

        # The same redeploy of the first app with 1 app and with all of them running:
        # what the number of apps costs a deploy, apart from a new app's first one.
        alone = [api.deploy_timed(name, archive)[1]["ok"] for _ in range(args.redeploys)]
        times: list[dict[str, float]] = []
        loads: list[float] = []
        spent: list[dict[str, float]] = []  # CPU seconds of each role during each deploy
        for i in range(args.apps):
            app = f"bench-{i:03d}"
            api.create_app(app, team)
            pids = pids_of_stack(stack)
            before = {role: cpu_seconds_of(p) for role, p in pids.items()}
            times.append(api.deploy_timed(app, archive)[1])
            spent.append({role: cpu_seconds_of(p) - before[role] for role, p in pids.items()})
            loads.append(os.getloadavg()[0])
        if times:
            sequential_report(times, loads)
            cpu_report(spent)
        crowded = [api.deploy_timed(name, archive)[1]["ok"] for _ in range(args.redeploys)]
        if alone and crowded:
            before, after = statistics.median(alone), statistics.median(crowded)
            print(
                f"  redeploy of the first app (median of {args.redeploys}, old unit drained):"
                f" {before:.2f} s with 1 app, {after:.2f} s with {len(times) + 1}"
                f" (ratio {after / before:.2f})"
            )
        time.sleep(5)  # idle
        idle_report(stack, len(times) + 1, args.idle)
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
