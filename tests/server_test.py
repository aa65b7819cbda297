#!/usr/bin/env python3
"""rooflm serve end to end: starts the server on a free loopback port with SmolLM2 and drives it
with the official `openai` client (and raw HTTP for what the client cannot send).

    tests/server_test.py BUILD_DIR SOURCE_DIR

Exit 77 (ctest: skipped) when the model is missing or the `openai` package is not importable."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

build, src = sys.argv[1], sys.argv[2]
model = os.path.join(src, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
if not os.path.isfile(model):
    print(f"server_test: {model} is missing (scripts/fetch_models.py): skipped")
    sys.exit(77)
try:
    import openai
except ImportError:
    print("server_test: the openai package is not installed (pip install openai): skipped")
    sys.exit(77)

rooflm = os.path.join(build, "rooflm")
KEY = "test-key-123"
MAX_BODY = 100000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
base = f"http://127.0.0.1:{port}"
log = tempfile.NamedTemporaryFile(prefix="rooflm_serve_", suffix=".log", delete=False)
server = subprocess.Popen([rooflm, "serve", "-m", model, "--port", str(port), "-t", "2", "--queue", "0",
                           "--api-key", KEY, "--max-body", str(MAX_BODY), "-c", "512"],
                          stdout=log, stderr=subprocess.STDOUT)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def raw(method, path, body=None, headers=None, key=KEY):
    """One HTTP request; returns (status, headers, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"Content-Type": "application/json"}
    if key:
        h["Authorization"] = "Bearer " + key
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


def finish(code):
    if server.poll() is None:
        server.kill()
    log.close()
    if code:
        print(open(log.name, errors="replace").read()[-4000:])
    os.unlink(log.name)
    sys.exit(code)


try:
    # Ready?
    deadline = time.time() + 120
    while True:
        if server.poll() is not None:
            print("server_test: the server exited early with", server.returncode)
            finish(1)
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            print("server_test: no /health within 120 s")
            finish(1)
        time.sleep(0.2)
    check(True, "/health answers 200 (no key needed)")

    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=120)
    models = client.models.list()
    model_id = models.data[0].id
    check(model_id == "SmolLM2-135M-Instruct.Q4_1.gguf", f"/v1/models lists the model ({model_id})")

    question = "What is the capital of France?"
    # Greedy equals `rooflm generate` (chat template, speculation on in both).
    gen = subprocess.run([rooflm, "generate", "-m", model, "-p", question, "--chat", "--temp", "0", "-n", "24",
                          "--spec", "staged", "-t", "2", "--json"], capture_output=True, text=True, check=True)
    expected = json.loads(gen.stdout)["text"]
    r = client.chat.completions.create(model=model_id, messages=[{"role": "user", "content": question}],
                                       max_tokens=24, temperature=0)
    greedy = r.choices[0].message.content
    check(greedy == expected, f"chat greedy equals rooflm generate ({greedy!r} vs {expected!r})")
    check(r.usage.completion_tokens == len(json.loads(gen.stdout)["tokens"]) and r.usage.prompt_tokens > 0,
          f"usage counts tokens ({r.usage})")
    t = r.model_extra.get("timings") or {}
    check(t.get("target_steps", 0) > 0 and t.get("predicted_per_second", 0) > 0 and "prompt_per_second" in t,
          f"timings present ({t})")

    gen2 = subprocess.run([rooflm, "generate", "-m", model, "-p", "The capital of France is", "--temp", "0",
                           "-n", "16", "--spec", "staged", "-t", "2", "--json"], capture_output=True, text=True, check=True)
    c = client.completions.create(model=model_id, prompt="The capital of France is", max_tokens=16, temperature=0)
    check(c.choices[0].text == json.loads(gen2.stdout)["text"], f"completions greedy equals rooflm generate ({c.choices[0].text!r})")

    # Streaming gives the same text.
    pieces, finish_reason = [], None
    for ch in client.chat.completions.create(model=model_id, messages=[{"role": "user", "content": question}],
                                             max_tokens=24, temperature=0, stream=True,
                                             stream_options={"include_usage": True}):
        if ch.choices:
            pieces.append(ch.choices[0].delta.content or "")
            finish_reason = ch.choices[0].finish_reason or finish_reason
        elif ch.usage:
            usage = ch.usage
    check("".join(pieces) == expected, f"chat stream equals the non-streamed text ({''.join(pieces)!r})")
    check(finish_reason in ("stop", "length") and usage.completion_tokens > 0, "stream ends with finish_reason and usage")
    cs = "".join(ch.choices[0].text for ch in client.completions.create(
        model=model_id, prompt="The capital of France is", max_tokens=16, temperature=0, stream=True) if ch.choices)
    check(cs == c.choices[0].text, "completions stream equals the non-streamed text")

    # max_tokens
    r = client.chat.completions.create(model=model_id, messages=[{"role": "user", "content": "Tell me a long story."}],
                                       max_tokens=5, temperature=0)
    check(r.usage.completion_tokens <= 5 and (r.choices[0].finish_reason == "length" or r.usage.completion_tokens < 5),
          f"max_tokens=5 ({r.usage.completion_tokens} tokens, {r.choices[0].finish_reason})")

    # Stop strings: cut before the stop, also when it spans tokens; same in a stream.
    cut = max(1, len(expected) // 2)
    stop = expected[cut:cut + 4]
    want = expected[:expected.find(stop)]
    for stream in (False, True):
        kw = dict(model=model_id, messages=[{"role": "user", "content": question}], max_tokens=24, temperature=0,
                  stop=[stop, "zzzz-never"])
        if stream:
            got, fr = "", None
            for ch in client.chat.completions.create(stream=True, **kw):
                if ch.choices:
                    got += ch.choices[0].delta.content or ""
                    fr = ch.choices[0].finish_reason or fr
        else:
            r = client.chat.completions.create(**kw)
            got, fr = r.choices[0].message.content, r.choices[0].finish_reason
        check(got == want and fr == "stop", f"stop {stop!r} (stream={stream}): {got!r} == {want!r}, {fr}")

    # Seeds reproduce; sampling is not greedy.
    kw = dict(model=model_id, messages=[{"role": "user", "content": "Write a poem about the sea."}], max_tokens=20,
              temperature=1.0, top_p=0.95)
    a = client.chat.completions.create(seed=1234, **kw).choices[0].message.content
    b = client.chat.completions.create(seed=1234, **kw).choices[0].message.content
    check(a == b, "same seed, same text")

    # Bad requests: OpenAI error objects.
    def expect_status(exc_type, status, what, **kw):
        try:
            client.chat.completions.create(**kw)
            check(False, what + ": accepted")
        except exc_type as e:
            err = e.body if isinstance(e.body, dict) else {}
            check(e.status_code == status and "message" in err, f"{what}: {e.status_code} {err.get('message')!r}")
            return err
    msgs = [{"role": "user", "content": "Hi"}]
    expect_status(openai.NotFoundError, 404, "unknown model", model="gpt-4", messages=msgs)
    err = expect_status(openai.BadRequestError, 400, "n=2", model=model_id, messages=msgs, n=2)
    check(err and err.get("param") == "n", "n=2 names the parameter")
    expect_status(openai.BadRequestError, 400, "logprobs", model=model_id, messages=msgs, logprobs=True)
    expect_status(openai.BadRequestError, 400, "tools", model=model_id, messages=msgs,
                  tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])
    err = expect_status(openai.BadRequestError, 400, "prompt longer than the context", model=model_id,
                        messages=[{"role": "user", "content": "word " * 600}])
    check(err and err.get("code") == "context_length_exceeded", "long prompt: code context_length_exceeded")
    bad = openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0)
    try:
        bad.models.list()
        check(False, "wrong API key accepted")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, "wrong API key: 401")
    st, _, body = raw("GET", "/v1/models", key=None)
    check(st == 401 and json.loads(body)["error"]["type"] == "authentication_error", "no API key: 401")
    st, _, body = raw("POST", "/v1/chat/completions", "{not json")
    check(st == 400 and "JSON" in json.loads(body)["error"]["message"], "malformed JSON: 400")
    st, _, body = raw("POST", "/v1/chat/completions", {"messages": msgs, "max_tokens": "ten"})
    check(st == 400 and json.loads(body)["error"]["param"] == "max_tokens", "wrong type: 400 naming max_tokens")
    st, _, body = raw("POST", "/v1/completions", {"prompt": 5})
    check(st == 400 and json.loads(body)["error"]["param"] == "prompt", "wrong type: 400 naming prompt")
    st, _, body = raw("POST", "/v1/chat/completions", "x" * (MAX_BODY + 1000))
    check(st == 413 and "error" in json.loads(body), "body over the cap: 413")
    st, _, body = raw("GET", "/nowhere")
    check(st == 404 and "error" in json.loads(body), "unknown path: 404")

    # Tokenize / detokenize round trip.
    st, _, body = raw("POST", "/tokenize", {"content": "Hello, world! Ünïcödé"})
    toks = json.loads(body)["tokens"]
    st2, _, body2 = raw("POST", "/detokenize", {"tokens": toks})
    check(st == 200 and st2 == 200 and json.loads(body2)["content"] == "Hello, world! Ünïcödé", "tokenize round trip")
    st, _, _ = raw("POST", "/detokenize", {"tokens": [10 ** 9]})
    check(st == 400, "detokenize: bad id 400")

    # Busy: one slot, no queue. A stream holds the slot; another request gets 503 + Retry-After.
    # Then the stream's client leaves: its generation stops and the slot comes back.
    hold = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    hold.request("POST", "/v1/completions", body=json.dumps({"prompt": "Once upon a time", "max_tokens": 400,
                                                             "temperature": 0.8, "stream": True}),
                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + KEY})
    hr = hold.getresponse()
    first = hr.readline()  # (chunked: the response decodes the chunk framing)
    check(hr.status == 200 and first.startswith(b"data: "), "a stream started")
    st, hdrs, body = raw("POST", "/v1/chat/completions", {"messages": msgs, "max_tokens": 2})
    check(st == 503 and "Retry-After" in hdrs and "error" in json.loads(body), f"busy: 503 with Retry-After ({st})")
    hold.sock.shutdown(socket.SHUT_RDWR)
    hold.close()
    t0 = time.time()
    while True:
        st, _, body = raw("POST", "/v1/chat/completions", {"messages": msgs, "max_tokens": 2})
        if st != 503 or time.time() - t0 > 20:
            break
        time.sleep(0.1)
    check(st == 200, f"after a mid-stream disconnect the server answers ({time.time() - t0:.1f} s)")

    st, _, body = raw("GET", "/metrics")
    text = body.decode()
    check(st == 200 and 'rooflm_requests_total{status="200"}' in text and 'rooflm_requests_total{status="400"}' in text,
          "metrics count requests by status")
    gen_line = [l for l in text.splitlines() if l.startswith("rooflm_generated_tokens_total ")]
    check(gen_line and int(gen_line[0].split()[1]) > 0, "metrics count generated tokens")
    disc = [l for l in text.splitlines() if l.startswith("rooflm_client_disconnects_total ")]
    check(disc and int(disc[0].split()[1]) >= 1, "metrics count the disconnect")
    check("rooflm_target_steps_total" in text and "rooflm_draft_tokens_accepted_total" in text, "metrics: steps and drafts")

    # SIGTERM: exit 0.
    server.send_signal(signal.SIGTERM)
    try:
        rc = server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, f"SIGTERM: exit status 0 (got {rc})")
    # Two slots on one copy of the weights, two more requests queued: all give the greedy text.
    port2 = free_port()
    server2 = subprocess.Popen([rooflm, "serve", "-m", model, "--port", str(port2), "-t", "2", "--parallel", "2",
                                "--queue", "2"], stdout=log, stderr=subprocess.STDOUT)
    try:
        c2 = openai.OpenAI(base_url=f"http://127.0.0.1:{port2}/v1", api_key="none", max_retries=0, timeout=300)
        deadline = time.time() + 120
        while True:
            try:
                c2.models.list()
                break
            except openai.APIConnectionError:
                if time.time() > deadline or server2.poll() is not None:
                    raise
                time.sleep(0.2)
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            outs = list(pool.map(lambda _: c2.chat.completions.create(
                model=model_id, messages=[{"role": "user", "content": question}], max_tokens=24,
                temperature=0).choices[0].message.content, range(4)))
        check(all(o == expected for o in outs), f"--parallel 2 --queue 2: 4 concurrent greedy requests equal ({outs})")
        server2.send_signal(signal.SIGINT)
        check(server2.wait(timeout=30) == 0, "SIGINT: exit status 0")
    finally:
        if server2.poll() is None:
            server2.kill()
except Exception as e:  # a crash of the test itself is a failure, with the server's log
    import traceback
    traceback.print_exc()
    failures.append(repr(e))

print(f"server_test: {len(failures)} failure(s)")
finish(1 if failures else 0)
