"""Serve a GGUF model over HTTP with llama.cpp's own server (OpenAI-compatible: /v1/models,
/v1/chat/completions), through xllamacpp's prebuilt wheel, until SIGTERM or SIGINT.

xllamacpp (xorbitsai, the llama.cpp backend of Xinference) embeds llama.cpp's C++ server; a pip install of
its wheel takes seconds where building llama-cpp-python from its sdist took 29 minutes on this machine.
Run by cluster/local-model.sh with the model virtualenv's python.
"""

from __future__ import annotations

import argparse
import signal
import threading

import xllamacpp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", required=True, help="the model name the server answers to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18091)
    parser.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    parser.add_argument("--threads", type=int, default=1, help="generation and prompt threads")
    args = parser.parse_args()

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx
    # One slot: the server answers one request at a time with the whole context, and the operator queues
    # the rest (maxConcurrentCallsPerEndpoint 1).
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.warmup = False
    server = xllamacpp.Server(params)
    print(f"serving {args.alias} at {server.listening_address}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    del server


if __name__ == "__main__":
    main()
