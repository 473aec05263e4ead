"""The collector: a reader thread puts samples into the spool, a sender seals and delivers batches.

    frames --(bms_core.can reader)--> samples --> spool.sample --seal--> spool.batch --POST--> service

The two sides meet only in the spool (SQLite, docs/collector.md), so a slow or absent service
never holds up reading the bus, and a crash anywhere loses nothing that was committed there.

- Reading: a live bus through `bms_core.can.iter_bus_samples` (one `CycleAssembler` for the whole
  run, so a burst is never cut in two), or a log file through `iter_samples(open_log(path))`.
- Sealing: on a live bus every `interval_s` (and whenever `max_batch_samples` are pending);
  from a log whenever `max_batch_samples` are pending and at its end, so the same log always
  gives the same batches, and therefore the same batch ids.
- Sending: the oldest batch first; a 2xx removes it, a transient failure schedules a retry with
  backoff and holds back the batches after it (time order), a refusal dead-letters it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import can

from bms_core.can import CycleAssembler, Sample, iter_bus_samples, iter_samples, open_log

from .delivery import Answer, Backoff, Verdict, batch_post, batches_url
from .spool import Spool, SpooledBatch

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60.0
DEFAULT_MAX_BATCH_SAMPLES = 3600
DEFAULT_TIMEOUT_S = 30.0
# How long one read of the bus may block: the reader notices a stop request within this time.
BUS_POLL_S = 1.0
# A log replay commits its samples to the spool in chunks of this many.
LOG_CHUNK_SAMPLES = 1000

Poster = Callable[[str, str, bytes], Answer]


@dataclass(frozen=True)
class CollectorConfig:
    url: str
    key: str
    battery: str
    spool_path: Path
    interval_s: float = DEFAULT_INTERVAL_S
    max_batch_samples: int = DEFAULT_MAX_BATCH_SAMPLES
    timeout_s: float = DEFAULT_TIMEOUT_S
    backoff: Backoff = field(default_factory=Backoff)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: must start with http:// or https://, got {self.url!r}")
        if not self.key:
            raise ValueError("key: the device key is empty")
        if not self.battery:
            raise ValueError("battery: the battery identifier is empty")
        if not self.interval_s > 0:
            raise ValueError(f"interval_s: must be positive, got {self.interval_s}")
        if not 1 <= self.max_batch_samples <= 100_000:
            raise ValueError(f"max_batch_samples: must be 1..100000, got {self.max_batch_samples}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s: must be positive, got {self.timeout_s}")


@dataclass
class DeliveryStats:
    delivered_batches: int = 0
    delivered_samples: int = 0
    retries: int = 0
    dead_letters: int = 0
    splits: int = 0


class Collector:
    """One battery, one spool file, one service. `stop()` may be called from any thread."""

    def __init__(
        self,
        config: CollectorConfig,
        *,
        poster: Poster | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.spool = Spool(config.spool_path, clock=clock)
        self.stats = DeliveryStats()
        self._url = batches_url(config.url)
        self._poster = poster or (
            lambda url, key, body: batch_post(url, key, body, timeout_s=config.timeout_s)
        )
        self._clock = clock
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reader_error: BaseException | None = None

    # -- control -----------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- reading -----------------------------------------------------------------------------

    def store(self, samples: Iterable[Sample]) -> int:
        return self.spool.samples_add(self.config.battery, samples)

    def _seal_full_batches(self) -> None:
        while self.spool.pending_count() >= self.config.max_batch_samples:
            self.spool.seal(max_samples=self.config.max_batch_samples)

    def seal_all(self) -> int:
        """Seal every pending sample into batches; returns the number of batches made."""
        made = 0
        while self.spool.seal(max_samples=self.config.max_batch_samples) is not None:
            made += 1
        return made

    def read_bus(self, bus: can.BusABC) -> None:
        """Read the bus into the spool until `stop()`; each sample is committed as it comes."""
        assembler = CycleAssembler()
        while not self.stopping:
            # One sample per call (or BUS_POLL_S of silence), so a call never ends mid-burst.
            for sample in iter_bus_samples(
                bus, duration_s=BUS_POLL_S, max_samples=1, assembler=assembler
            ):
                self.store([sample])
                if self.spool.pending_count() >= self.config.max_batch_samples:
                    self._seal_full_batches()
                    self._wake.set()

    def read_log(self, path: str | PathLike[str]) -> None:
        """Replay a log into the spool, sealing batches of `max_batch_samples` as they fill."""
        with open_log(path) as reader:
            chunk: list[Sample] = []
            for sample in iter_samples(reader):
                chunk.append(sample)
                if len(chunk) >= LOG_CHUNK_SAMPLES:
                    self._store_log_chunk(chunk)
                    chunk = []
                if self.stopping:
                    break
            if not self.stopping:
                self._store_log_chunk(chunk)
                self.seal_all()
        self._wake.set()

    def _store_log_chunk(self, chunk: list[Sample]) -> None:
        self.store(chunk)
        self._seal_full_batches()
        self._wake.set()

    # -- sending -----------------------------------------------------------------------------

    def deliver(self) -> float | None:
        """Send every batch that is due, oldest first. Returns the seconds until the head batch
        may be tried again, or None when the queue is empty (dead letters aside)."""
        while not self.stopping:
            batch = self.spool.next_batch()
            if batch is None:
                return None
            wait_s = batch.next_attempt_at - self._clock()
            if wait_s > 0:
                return wait_s
            answer = self._poster(self._url, self.config.key, batch.body)
            if not self._settle(batch, answer):
                head = self.spool.next_batch()
                return None if head is None else head.next_attempt_at - self._clock()
        return None

    def _settle(self, batch: SpooledBatch, answer: Answer) -> bool:
        """Record the answer in the spool; False when the head of the queue must wait."""
        if answer.verdict is Verdict.DELIVERED:
            self.spool.batch_delivered(batch)
            self.stats.delivered_batches += 1
            self.stats.delivered_samples += batch.samples
            logger.info("batch %s: %d samples delivered (%s)", batch.batch_id, batch.samples,
                        answer.status)
            return True
        if answer.verdict is Verdict.TOO_LARGE and self.spool.batch_split(batch):
            self.stats.splits += 1
            logger.warning("batch %s: too large for the service, split in two", batch.batch_id)
            return True
        if answer.verdict in (Verdict.REFUSED, Verdict.TOO_LARGE):
            self.spool.batch_dead_letter(batch, status=answer.status or 0, reason=answer.reason)
            self.stats.dead_letters += 1
            logger.error("batch %s refused (%s), kept as a dead letter: %s", batch.batch_id,
                         answer.status, answer.reason)
            return True
        delay_s = self.config.backoff.delay_s(batch.attempts + 1, self._rng, answer.retry_after_s)
        self.spool.batch_retry_later(
            batch, at=self._clock() + delay_s, error=f"{answer.status}: {answer.reason}"
        )
        self.stats.retries += 1
        logger.warning("batch %s not delivered (%s %s); retry in %.1f s", batch.batch_id,
                       answer.status, answer.reason[:200], delay_s)
        return False

    def _send_loop(self, *, seal_every_s: float | None, until_drained: Callable[[], bool]) -> None:
        next_seal = None if seal_every_s is None else self._clock() + seal_every_s
        while not self.stopping:
            if seal_every_s is not None and next_seal is not None and self._clock() >= next_seal:
                self.seal_all()
                next_seal = self._clock() + seal_every_s
            wait_s = self.deliver()
            if wait_s is None and until_drained():
                return
            timeouts = [s for s in (wait_s, None if next_seal is None else next_seal - self._clock())
                        if s is not None]
            self._wake.wait(timeout=max(0.0, min(timeouts)) if timeouts else 1.0)
            self._wake.clear()

    # -- running -----------------------------------------------------------------------------

    def _start_reader(self, target: Callable[[], None]) -> threading.Thread:
        def guarded() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - reported by run_* in the main thread
                self._reader_error = error
                self.stop()

        thread = threading.Thread(target=guarded, name="collector-reader", daemon=True)
        thread.start()
        return thread

    def _finish(self, reader: threading.Thread) -> None:
        self.stop()
        reader.join(timeout=BUS_POLL_S * 5)
        if self._reader_error is not None:
            raise self._reader_error

    def run_bus(self, bus: can.BusABC) -> None:
        """Collect from a live bus until `stop()`: read, seal every `interval_s`, deliver."""
        reader = self._start_reader(lambda: self.read_bus(bus))
        try:
            self._send_loop(seal_every_s=self.config.interval_s, until_drained=lambda: False)
        finally:
            self._finish(reader)

    def run_log(self, path: str | PathLike[str]) -> bool:
        """Replay a log and deliver everything; returns once the queue is empty (True) or on
        `stop()` (False, the rest stays in the spool for the next run)."""
        reader = self._start_reader(lambda: self.read_log(path))
        try:
            self._send_loop(
                seal_every_s=None,
                until_drained=lambda: not reader.is_alive() and self.spool.next_batch() is None,
            )
            return not self.stopping
        finally:
            self._finish(reader)

    def drain(self) -> bool:
        """Seal what is pending and deliver until the queue is empty or `stop()`."""
        self.seal_all()
        self._send_loop(seal_every_s=None, until_drained=lambda: True)
        return self.spool.next_batch() is None

