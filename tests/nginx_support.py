"""A real nginx in the foreground, configured by the shipped
deploy/nginx/vnsearch.conf with loopback servers and every path (pid, logs,
temporary files, cache) under a directory of the caller's: for the scale-out
tests (tests/test_nginx_e2e.py) and bench/limits.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from e2e_support import ROOT

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
DEPLOY_CONF = ROOT / "deploy" / "nginx" / "vnsearch.conf"


def nginx_conf(prefix: Path, port: int, upstreams: list[str]) -> Path:
    """deploy/nginx/vnsearch.conf with loopback servers and paths under ``prefix``,
    included from a minimal top-level nginx.conf (foreground, no root paths)."""
    shipped = DEPLOY_CONF.read_text("utf-8")
    server_line = re.compile(r"(\s*)server \d+\.\d+\.\d+\.\d+:\d+( [^;]*);\s*")
    lines, replaced = [], False
    for line in shipped.splitlines(keepends=True):
        found = server_line.fullmatch(line)
        if found is None:
            lines.append(line)
        elif not replaced:  # the first server line's parameters, for every one of ours
            lines += [f"{found[1]}server {u}{found[2]};\n" for u in upstreams]
            replaced = True
    assert replaced, "no upstream server line in deploy/nginx/vnsearch.conf"
    conf = "".join(lines)
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("/var/cache/nginx/vnsearch", str(prefix / "cache")),
        ("/var/log/nginx/vnsearch.access.log", str(prefix / "access.log")),
    ):
        assert old in conf, f"{old!r} not in deploy/nginx/vnsearch.conf"
        conf = conf.replace(old, new)
    (prefix / "vnsearch.conf").write_text(conf, "utf-8")

    built = subprocess.run([NGINX, "-V"], capture_output=True, text=True).stderr
    temp = ["client_body", "proxy"] + [
        m for m in ("fastcgi", "uwsgi", "scgi") if f"--without-http_{m}_module" not in built
    ]
    temps = "\n".join(f"    {m}_temp_path {prefix / m};" for m in temp)
    user = "user root root;" if os.geteuid() == 0 else ""  # workers must reach tmp dirs
    main = f"""daemon off;
master_process on;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
{user}
events {{ worker_connections 512; }}
http {{
{temps}
    include {prefix / "vnsearch.conf"};
}}
"""
    path = prefix / "nginx.conf"
    path.write_text(main, "utf-8")
    return path


class Nginx:
    """nginx on ``port`` in front of ``upstreams`` (host:port), its files under ``prefix``."""

    def __init__(self, prefix: Path, port: int, upstreams: list[str]):
        prefix.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.base = f"http://127.0.0.1:{port}"
        conf = nginx_conf(prefix, port, upstreams)
        argv = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"nginx exited:\n{self.error_log()}"
            try:
                if httpx.get(self.base + "/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"nginx not ready after {timeout}s:\n{self.error_log()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
