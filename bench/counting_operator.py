"""The real operator (`kopf run ...`), with every request it sends to the Kubernetes API server counted.

Both kopf and kubernetes_asyncio talk to the API server through aiohttp, so wrapping
`aiohttp.ClientSession._request` sees every call, watches included (a watch counts once per connection).
Requests to other hosts (the syscall monitor) are not counted; the model client uses httpx.
The counts go to the JSON file named by LEVEL5_BENCH_COUNTS every 0.2 s (written atomically), keyed
"METHOD resource" (for example "PATCH agenttasks/status", "GET pods?watch").
With LEVEL5_BENCH_TRACE set, each counted request is also appended to that file as one line "start end key
path" (wall-clock seconds; end is when the response headers arrived), to see where an iteration's time goes.

Usage: python bench/counting_operator.py run --standalone -m level5.handlers --namespace NS
"""

from __future__ import annotations

import collections
import json
import os
import re
import runpy
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

COUNTS: collections.Counter[str] = collections.Counter()
TRACE: list[str] = []
_LOCK = threading.Lock()
_API_PORT = os.environ.get("LEVEL5_BENCH_API_PORT", "")
_ORIGINAL = aiohttp.ClientSession._request
_TRACE = os.environ.get("LEVEL5_BENCH_TRACE", "")


def _key(method: str, url: str) -> str | None:
    parts = urlsplit(url)
    if _API_PORT and str(parts.port) != _API_PORT:
        return None
    path = parts.path
    # /api/v1/namespaces/NS/pods/NAME/log -> pods/log; /apis/G/V/namespaces/NS/R/NAME/status -> R/status
    segments = [s for s in path.split("/") if s]
    if "namespaces" in segments:
        i = segments.index("namespaces")
        rest = segments[i + 2 :] if len(segments) > i + 2 else ["namespaces"]
    else:
        rest = segments[2:] if segments[:1] == ["api"] else segments[3:]
    resource = rest[0] if rest else path
    if len(rest) >= 3:
        resource += "/" + rest[2]
    watch = "?watch" if re.search(r"(^|&)watch=(true|1)", parts.query) else ""
    return f"{method.upper()} {resource}{watch}"


async def _counted(self: aiohttp.ClientSession, method: str, str_or_url: Any, **kwargs: Any) -> Any:
    url = str(str_or_url)
    params = kwargs.get("params")
    if params and "watch=" not in url:
        pairs = params.items() if isinstance(params, dict) else params
        if any(str(k) == "watch" and str(v).lower() in ("true", "1") for k, v in pairs):
            url += ("&" if "?" in url else "?") + "watch=true"
    key = _key(method, url)
    if key is None:
        return await _ORIGINAL(self, method, str_or_url, **kwargs)
    with _LOCK:
        COUNTS[key] += 1
    start = time.time()
    try:
        return await _ORIGINAL(self, method, str_or_url, **kwargs)
    finally:
        if _TRACE:
            with _LOCK:  # written out by the writer thread, off the event loop
                TRACE.append(f"{start:.4f} {time.time():.4f} {key.replace(' ', '_')} {urlsplit(url).path}\n")


def _writer(path: str) -> None:
    while True:
        with _LOCK:
            data = json.dumps(dict(COUNTS))
            traced = TRACE[:]
            TRACE.clear()
        if _TRACE and traced:
            with open(_TRACE, "a") as trace:
                trace.writelines(traced)
        tmp = path + ".tmp"
        with open(tmp, "w") as out:
            out.write(data)
        os.replace(tmp, path)
        time.sleep(0.2)


def main() -> None:
    aiohttp.ClientSession._request = _counted  # type: ignore[method-assign]
    path = os.environ.get("LEVEL5_BENCH_COUNTS")
    if path:
        threading.Thread(target=_writer, args=(path,), daemon=True).start()
    sys.argv = ["kopf", *sys.argv[1:]]
    profile = os.environ.get("LEVEL5_BENCH_PROFILE")
    if not profile:
        runpy.run_module("kopf", run_name="__main__")
        return
    # Where the operator's CPU goes (bench --profile): cProfile of the whole run, written when kopf exits.
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(runpy.run_module, "kopf", run_name="__main__")
    finally:
        profiler.dump_stats(profile)


if __name__ == "__main__":
    main()
