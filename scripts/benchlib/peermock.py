"""A mock model server that every assistant of the peers benchmark can talk to.

The same scripted answer as crates/qcode-test-support/examples/mock_serve.rs (N tokens, one per
SSE chunk, numbered lines), served in the two OpenAI dialects the assistants use:
`POST …/chat/completions` (qcode, Qwen Code, curl) and `POST …/responses` (Codex CLI), and
`GET …/models`. With `rounds` R > 0, a request whose conversation holds fewer than R tool
results is answered with one tool call that reads `notes` — the tool is chosen from the tools
the request offers (a read-file tool if there is one, else a shell tool running `cat`) — so one
client run makes R tool round trips whatever the assistant names its tools. Stateless: each request is answered
from its own body. Loopback only.

Run: python3 -m benchlib.peermock --tokens 2000 [--rounds 3 --notes /abs/notes.txt]; prints the
base URL (…/v1) on the first line.
"""
import argparse, http.server, json, sys, threading

WORDS = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dogs.\n"]


def words(n):
    out = []
    for i in range(n):
        out.append(f"dogs {i // len(WORDS)}.\n" if i % len(WORDS) == len(WORDS) - 1 else WORDS[i % len(WORDS)])
    return out


def _tools(body):
    """[(name, parameter properties)] of the function tools a request offers (both dialects)."""
    out = []
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        f = t.get("function") if isinstance(t.get("function"), dict) else t
        name = f.get("name")
        params = f.get("parameters") if isinstance(f.get("parameters"), dict) else {}
        props = params.get("properties") if isinstance(params.get("properties"), dict) else {}
        if isinstance(name, str):
            out.append((name, props))
    return out


def choose_call(body, notes):
    """(tool name, JSON arguments) reading `notes`, or None when no suitable tool is offered.
    A `{k}` in `notes` becomes the number of tool results so far (a new file each round)."""
    notes = notes.replace("{k}", str(tool_results(body)))
    tools = _tools(body)
    for name, props in tools:
        if name in ("read_file", "read", "view"):
            key = next((k for k in ("file_path", "absolute_path", "path") if k in props), "file_path")
            return name, json.dumps({key: notes})
    for name, props in tools:
        if name in ("shell", "exec_command", "shell_command", "run_shell_command", "bash"):
            cmd = props.get("command") or props.get("cmd") or {}
            if isinstance(cmd, dict) and cmd.get("type") == "array":
                return name, json.dumps({"command": ["cat", notes]})
            key = "cmd" if "cmd" in props else "command"
            return name, json.dumps({key: f"cat {notes}"})
    return None


def tool_results(body):
    """How many tool results the conversation of a request holds (both dialects)."""
    n = sum(1 for msg in body.get("messages") or [] if isinstance(msg, dict) and msg.get("role") == "tool")
    inp = body.get("input")
    if isinstance(inp, list):
        n += sum(1 for item in inp if isinstance(item, dict) and str(item.get("type", "")).endswith("_output"))
    return n


def sse(obj, event=None):
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(obj, separators=(",", ":")) + "\n\n").encode()


def chat_chunk(delta, finish=None):
    return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "bench-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def chat_stream(n, call):
    yield sse(chat_chunk({"role": "assistant", "content": ""}))
    if call:
        name, args = call
        yield sse(chat_chunk({"tool_calls": [{"index": 0, "id": "call_bench_1", "type": "function",
                                              "function": {"name": name, "arguments": args}}]}))
        yield sse(chat_chunk({}, "tool_calls"))
        out = 8
    else:
        for w in words(n):
            yield sse(chat_chunk({"content": w}))
        yield sse(chat_chunk({}, "stop"))
        out = n
    yield sse({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "bench-model",
               "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": out, "total_tokens": 20 + out}})
    yield b"data: [DONE]\n\n"


def chat_whole(n, call):
    msg = {"role": "assistant", "content": None if call else "".join(words(n))}
    if call:
        msg["tool_calls"] = [{"id": "call_bench_1", "type": "function",
                              "function": {"name": call[0], "arguments": call[1]}}]
    return {"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench-model",
            "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if call else "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": n, "total_tokens": 20 + n}}


def responses_stream(n, call):
    resp = {"id": "resp_bench", "object": "response", "created_at": 0, "status": "in_progress",
            "model": "bench-model", "output": []}
    yield sse({"type": "response.created", "response": resp}, "response.created")
    if call:
        item = {"id": "fc_bench", "type": "function_call", "status": "completed", "call_id": "call_bench_1",
                "name": call[0], "arguments": call[1]}
        yield sse({"type": "response.output_item.added", "output_index": 0,
                   "item": dict(item, status="in_progress", arguments="")}, "response.output_item.added")
        yield sse({"type": "response.output_item.done", "output_index": 0, "item": item}, "response.output_item.done")
        out, output = 8, [item]
    else:
        msg = {"id": "msg_bench", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
        yield sse({"type": "response.output_item.added", "output_index": 0, "item": msg}, "response.output_item.added")
        part = {"type": "output_text", "text": "", "annotations": []}
        yield sse({"type": "response.content_part.added", "item_id": "msg_bench", "output_index": 0,
                   "content_index": 0, "part": part}, "response.content_part.added")
        ws = words(n)
        for w in ws:
            yield sse({"type": "response.output_text.delta", "item_id": "msg_bench", "output_index": 0,
                       "content_index": 0, "delta": w}, "response.output_text.delta")
        text = "".join(ws)
        yield sse({"type": "response.output_text.done", "item_id": "msg_bench", "output_index": 0,
                   "content_index": 0, "text": text}, "response.output_text.done")
        done = dict(msg, status="completed", content=[dict(part, text=text)])
        yield sse({"type": "response.output_item.done", "output_index": 0, "item": done}, "response.output_item.done")
        out, output = n, [done]
    usage = {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": out,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 20 + out}
    yield sse({"type": "response.completed",
               "response": dict(resp, status="completed", output=output, usage=usage)}, "response.completed")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16

    def log_message(self, *args):
        pass

    def _send(self, status, ctype, chunks):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for c in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _json(self, status, obj):
        self._send(status, "application/json", [json.dumps(obj).encode()])

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "bench-model", "object": "model", "owned_by": "bench"}]})
        else:
            self.server.unknown.append(f"GET {self.path}")
            self._json(404, {"error": {"message": f"no such endpoint {self.path}", "type": "not_found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
            return
        cfg = self.server.cfg
        call = None
        if cfg.rounds > tool_results(body):
            call = choose_call(body, cfg.notes)
            if call is not None:
                self.server.calls += 1
            else:
                self.server.unknown.append(f"no read-file or shell tool among {[n for n, _ in _tools(body)]}")
        path = self.path.split("?", 1)[0].rstrip("/")
        self.server.count += 1
        if path.endswith("/chat/completions"):
            if body.get("stream"):
                self._send(200, "text/event-stream", chat_stream(cfg.tokens, call))
            else:
                self._json(200, chat_whole(cfg.tokens, call))
        elif path.endswith("/responses"):
            self._send(200, "text/event-stream", responses_stream(cfg.tokens, call))
        else:
            self.server.unknown.append(f"POST {self.path}")
            self._json(404, {"error": {"message": f"no such endpoint {self.path}", "type": "not_found"}})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-stream or closes a kept-alive connection is no error here.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class PeerMock:
    """The server on 127.0.0.1 in a thread of this process."""

    def __init__(self, tokens, rounds=0, notes=""):
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.cfg = argparse.Namespace(tokens=tokens, rounds=rounds, notes=notes)
        self.httpd.unknown = []
        self.httpd.count = 0
        self.httpd.calls = 0
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def unknown(self):
        return list(self.httpd.unknown)

    @property
    def calls(self):
        """How many tool calls were answered."""
        return self.httpd.calls

    @property
    def requests(self):
        return self.httpd.count

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=0, help="tool round trips per conversation")
    ap.add_argument("--notes", default="notes.txt")
    a = ap.parse_args()
    mock = PeerMock(a.tokens, a.rounds, a.notes)
    print(mock.url, flush=True)
    try:
        mock.thread.join()
    except KeyboardInterrupt:
        mock.close()


if __name__ == "__main__":
    sys.exit(main())
