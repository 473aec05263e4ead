"""A stand-in for the service in the collector's unit tests: a stdlib HTTP server on loopback that
keeps every batch it was sent, answers like the telemetry contract (201 first, 200 for a batch id
seen before), and can be told to answer something else, or be taken off the network and brought
back on the same port."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bms_core.can import Sample

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
