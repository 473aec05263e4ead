"""A stand-in for the service in the collector's unit tests: a stdlib HTTP server on loopback that
keeps every batch it was sent, answers like the telemetry contract (201 first, 200 for a batch id
seen before), and can be told to answer something else, or be taken off the network and brought
back on the same port."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import can

from bms_core.can import FrameId, Sample, encode_frames

HOST = "127.0.0.1"
# The collector engineer's port range on the shared machine.
PORTS = range(8130, 8140)

T0 = 1_790_000_000.0

# (document, headers) -> (status, answer body, extra headers), or None for the contract's answer
Override = Callable[[dict, dict[str, str]], "tuple[int, dict, dict[str, str]] | None"]


def free_port() -> int:
    for port in PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}..{PORTS.stop - 1}")


@dataclass
class FakeService:
    port: int = field(default_factory=free_port)
    stored: dict[str, dict] = field(default_factory=dict)  # batch_id -> document
    received: list[dict] = field(default_factory=list)  # every request, in arrival order
    override: Override | None = None
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def up(self) -> FakeService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                status, answer, extra = service.answer(
                    self.path, json.loads(raw), dict(self.headers.items())
                )
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        """Off the network: the port refuses connections until `up()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, path: str, document: dict, headers: dict[str, str]) -> tuple[int, dict, dict]:
        with self._lock:
            self.received.append({"path": path, "document": document, "headers": headers})
            if self.override is not None:
                custom = self.override(document, headers)
                if custom is not None:
                    return custom
            batch_id = document["batch_id"]
            status = 200 if batch_id in self.stored else 201
            self.stored.setdefault(batch_id, document)
            first = self.stored[batch_id]
            return status, {"batch_id": batch_id, "samples": len(first["columns"]["timestamp"])}, {}

    def timestamps(self) -> list[float]:
        """Every stored sample's timestamp, in the order the batches were first stored."""
        return [t for document in self.stored.values() for t in document["columns"]["timestamp"]]


def sample(second: int, **values: float) -> Sample:
    fields = {
        "timestamp": T0 + second,
        "current_a": -10.0 + 0.1 * second,
        "voltage_v": 52.0,
        "temperature_c": 21.5,
        "soc_pct": 50.0,
        **values,
    }
    return Sample(**fields)


SERVICE_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
)


class Gate:
    """A TCP forwarder in front of the real service, as a load balancer would be. Modes:

        open     forward the request, relay the answer
        closed   the port is closed: connections are refused (the service is gone)
        503      answer 503 without forwarding (the service is restarting)
        swallow  forward the request, let the service commit, drop the answer (a lost reply)
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.mode = "open"
        self.counts: dict[str, int] = {"open": 0, "503": 0, "swallow": 0}
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def set(self, mode: str) -> None:
        assert mode in ("open", "closed", "503", "swallow")
        self.mode = mode
        if mode == "closed":
            self._close()
        elif self._listener is None:
            self._open()

    def _open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def shutdown(self) -> None:
        self._close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(30)
            request = _read_request(client)
            mode = self.mode
            with self._lock:
                self.counts[mode if mode in self.counts else "open"] += 1
            if mode == "503":
                client.sendall(SERVICE_UNAVAILABLE)
                return
            with socket.create_connection(self.upstream, timeout=60) as upstream:
                upstream.sendall(request)
                answer = b""
                while chunk := upstream.recv(65536):
                    answer += chunk
            if mode != "swallow":
                client.sendall(answer)


def _read_request(client: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


BURST_PERIOD_S = 0.7  # longer than the reader's 0.5 s cycle gap
FRAME_SPACING_S = 0.002


class SimulatedBattery(threading.Thread):
    """Sends a burst every BURST_PERIOD_S while `sending` is set; remembers what it sent."""

    def __init__(self, channel: str) -> None:
        super().__init__(daemon=True)
        self.channel = channel
        self.sending = threading.Event()
        self.finished = threading.Event()
        self.sent: list[tuple[float, float, float]] = []  # 0x356 time, current, voltage

    def run(self) -> None:
        with can.Bus(interface="virtual", channel=self.channel, preserve_timestamps=True) as bus:
            second = 0
            while not self.finished.is_set():
                if self.sending.is_set():
                    self._burst(bus, second)
                    second += 1
                self.finished.wait(BURST_PERIOD_S)

    def _burst(self, bus: can.BusABC, second: int) -> None:
        current = round(-30.0 + 0.7 * (second % 80), 1)
        voltage = round(51.0 + 0.01 * (second % 200), 2)
        frames = encode_frames({
            "charge_voltage_limit_v": 56.8, "charge_current_limit_a": 50.0,
            "discharge_current_limit_a": 100.0, "soc_pct": 40 + second % 50, "soh_pct": 98,
            "voltage_v": voltage, "current_a": current, "temperature_c": 21.0,
            "module_count": 1, "charge_enable": True, "discharge_enable": True,
            "manufacturer": "PYLON", "min_cell_v": 3.19, "max_cell_v": 3.21,
            "min_cell_temp_c": 20.85, "max_cell_temp_c": 22.85,
        })
        start = time.time()
        for index, msg in enumerate(frames):
            msg.timestamp = start + index * FRAME_SPACING_S
            bus.send(msg)
            if msg.arbitration_id == FrameId.VOLTAGE_CURRENT_TEMPERATURE:
                self.sent.append((msg.timestamp, current, voltage))
