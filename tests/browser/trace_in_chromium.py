#!/usr/bin/python3
"""Opens a pvsim trace in a real browser's trace viewer: Chromium's DevTools, whose Performance panel imports Chrome
trace-event JSON with the trace engine it ships (devtools://devtools/bundled/models/trace/trace.js). chrome://tracing
is gone from Debian's Chromium and the Perfetto UI is not packaged, so this is the viewer a machine of this kind has.

Usage: trace_in_chromium.py TRACE.json [--expect-track NAME ...]
Starts Chromium headless (Debian's /usr/bin/chromium) with a private profile, loads the DevTools front end, parses
the trace with its engine as the Performance panel does when a file is loaded, and checks what a user would see: no
import warning; one process per process_name in the file; every track that holds slices, under its name (and each
--expect-track among them); every flow of the file bound to its slices (the engine binds a flow event to the slice
of the same category, time, process and thread); the time range the file covers. Prints a summary; exit 0 when every
check passes, 1 when one fails, 2 on bad arguments, 77 (skipped) when Chromium is not installed or its DevTools
engine's interface is not the one this test knows (written against Chromium 156), or when headless Chromium cannot
start or serve DevTools on this machine.
The DevTools protocol is spoken over a WebSocket written here with the standard library (Debian has no Python
WebSocket client in the base system).
"""
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"


class WebSocket:
    """The client half of RFC 6455, enough for the DevTools protocol: text frames, masked, any length."""

    def __init__(self, url):
        assert url.startswith("ws://"), url
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=120)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("the browser closed the WebSocket during the handshake")
            reply += chunk
        if b" 101 " not in reply.split(b"\r\n")[0]:
            raise OSError(f"WebSocket handshake refused: {reply.splitlines()[0]!r}")

    def send(self, text):
        data, mask = text.encode(), os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
                                  if n < 65536 else bytes([0x80 | 127]) + struct.pack(">Q", n))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise OSError("the browser closed the WebSocket")
            out += chunk
        return out

    def recv(self):
        message = b""
        while True:
            head = self._exact(2)
            n = head[1] & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            message += self._exact(n)
            if head[0] & 0x80:
                return message.decode()


class DevTools:
    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    def evaluate(self, expression):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": "Runtime.evaluate",
                                 "params": {"expression": expression, "returnByValue": True, "awaitPromise": True}}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                break
        result = reply.get("result", {})
        if "exceptionDetails" in result:
            raise RuntimeError(json.dumps(result["exceptionDetails"])[:2000])
        return result.get("result", {}).get("value")


PARSE = """(async () => {
  // The engine's interface as Chromium 156 has it; another version may differ: say so rather than fail (the test
  // then skips, since it is the browser that changed, not the trace).
  let Trace;
  try { Trace = await import('./models/trace/trace.js'); } catch (e) { return JSON.stringify({api: String(e)}); }
  const Model = Trace.TraceModel && Trace.TraceModel.Model;
  if (!Model || typeof Model.createWithAllHandlers !== 'function')
    return JSON.stringify({api: 'no TraceModel.Model.createWithAllHandlers'});
  const model = Model.createWithAllHandlers();
  const doc = JSON.parse(%s);
  await model.parse(doc.traceEvents, {metadata: {}, isFreshRecording: false});
  const parsed = typeof model.parsedTrace === 'function' ? model.parsedTrace(model.lastTraceIndex()) : null;
  const d = parsed && parsed.data;
  if (!d || !d.Renderer || !d.Flows || !d.Warnings || !d.Meta)
    return JSON.stringify({api: 'parsedTrace().data lacks Renderer, Flows, Warnings or Meta'});
  const threads = [];
  for (const p of d.Renderer.processes.values())
    for (const t of p.threads.values())
      threads.push({name: t.name, entries: t.entries ? t.entries.length : 0});
  return JSON.stringify({
    processes: d.Renderer.processes.size,
    threads: threads,
    flows: d.Flows.flows.length,
    warnings: [...d.Warnings.perWarning.entries()].map(([k, v]) => k + ': ' + v.length),
    bounds_us: [d.Meta.traceBounds.min, d.Meta.traceBounds.max]});
})()"""


def start_chromium(profile):
    proc = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run",
                             f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(port_file):
            lines = open(port_file).read().split()
            if lines:
                return proc, int(lines[0])
        if proc.poll() is not None:
            raise OSError(f"chromium exited with {proc.returncode} before listening")
        time.sleep(0.2)
    raise OSError("chromium did not open its DevTools port within 60 s")


def open_devtools(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?devtools://devtools/bundled/devtools_app.html",
                                 method="PUT")
    target = json.load(urllib.request.urlopen(req, timeout=30))
    tools = DevTools(WebSocket(target["webSocketDebuggerUrl"]))
    deadline = time.time() + 60
    while tools.evaluate("document.readyState") != "complete":
        if time.time() > deadline:
            raise OSError("the DevTools front end did not finish loading within 60 s")
        time.sleep(0.2)
    return tools


def expectations(doc):
    """What the file says a viewer must show: process names, the tracks that hold slices, flows, time range."""
    events = doc["traceEvents"]
    processes = {e["pid"] for e in events if e.get("ph") == "M" and e.get("name") == "process_name"}
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    with_slices = {names[(e["pid"], e["tid"])] for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) in names}
    flows = sum(1 for e in events if e.get("ph") == "s")
    times = [e["ts"] for e in events if "ts" in e and e.get("ph") != "M"]
    return processes, with_slices, flows, (min(times), max(times))


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    path, expected_tracks = argv[0], []
    rest = argv[1:]
    while rest:
        if rest[0] != "--expect-track" or len(rest) < 2:
            print(f"trace_in_chromium.py: unknown argument {rest[0]!r}", file=sys.stderr)
            return 2
        expected_tracks.append(rest[1])
        rest = rest[2:]
    if not os.access(CHROMIUM, os.X_OK):
        print(f"skipped: {CHROMIUM} is not installed (Debian package chromium)")
        return 77
    text = open(path).read()
    processes, with_slices, flows, (first_us, last_us) = expectations(json.loads(text))
    profile = tempfile.mkdtemp(prefix="pvsim-chromium-")
    proc = None
    try:
        try:
            proc, port = start_chromium(profile)
            tools = open_devtools(port)
        except OSError as e:  # the browser, not the trace: a machine where headless Chromium cannot run
            print(f"skipped: headless Chromium could not be driven here: {e}")
            return 77
        seen = json.loads(tools.evaluate(PARSE % json.dumps(text)))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    if "api" in seen:
        print(f"skipped: this Chromium's DevTools trace engine is not the one the test knows ({seen['api']})")
        return 77
    shown = {t["name"] for t in seen["threads"] if t["entries"] > 0}
    failures = []
    if seen["warnings"]:
        failures.append(f"import warnings: {seen['warnings']}")
    if seen["processes"] != len(processes):
        failures.append(f"{seen['processes']} processes shown, the file names {len(processes)}")
    missing = sorted(with_slices - shown)
    if missing:
        failures.append(f"{len(missing)} tracks with slices not shown, e.g. {missing[:5]}")
    for name in expected_tracks:
        if name not in shown:
            failures.append(f"no track {name!r} among {sorted(shown)[:10]}...")
    if seen["flows"] != flows:
        failures.append(f"{seen['flows']} flows bound, the file has {flows}")
    lo, hi = seen["bounds_us"]
    if lo > first_us + 1 or hi < last_us - 1:
        failures.append(f"time range shown {lo:.3f}..{hi:.3f} us, the file covers {first_us:.3f}..{last_us:.3f}")
    print(f"Chromium's trace engine: {seen['processes']} processes, {len(shown)} tracks with slices "
          f"({len(with_slices)} in the file), {seen['flows']} flows ({flows} in the file), "
          f"{len(seen['warnings'])} warnings, {lo / 1000:.3f}..{hi / 1000:.3f} ms")
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
