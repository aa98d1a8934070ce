#!/usr/bin/env python3
"""Calls a push webhook for every user who enters a segment.

The shape of the pipeline behind segd: a consumer of segd's output topic
(change records, SEMANTICS.md §4) that keeps the `enter` records of the
segments it is given and POSTs each to a webhook, which sends the push.

- Reads with isolation.level=read_committed: segd writes its output in
  Kafka transactions, and only committed ones are real.
- At least once to the webhook: a record's offset is stored only after the
  webhook answered 2xx (or the record needs no call), and only stored
  offsets are committed. A crash, a rebalance or a failed commit may send a
  change again, never skip one. Every call carries the change record's `id`
  as its `Idempotency-Key` header (the same change always has the same id,
  across segd's restarts and replays), so the receiver drops repeats.
- A failing webhook (connection error, timeout, 5xx, 408, 429) is retried
  with exponential backoff and jitter, for as long as it takes: while it
  fails, every assigned partition is paused so that later changes wait
  (each user's changes stay in order), and the consumer keeps polling so
  it stays in its group. Any other 4xx means the receiver refuses that
  change for good: it is logged and skipped, as retrying cannot help.
- Cooperative rebalancing; stored offsets are committed before partitions
  are given up, every --commit-interval seconds, and at exit.

Usage:
  push_webhook.py --brokers HOST:PORT --topic segd-changes --group push \\
      --segment coupon_unused [--segment ...] --webhook http://host/push

Stops on SIGTERM or SIGINT (committing what was delivered), or with
--idle-exit N after N seconds without a record. Needs confluent-kafka
(scripts/install-deps puts it in ~/.cache/segd/examples-venv).
"""
import argparse
import json
import logging
import random
import signal
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, KafkaError, KafkaException

log = logging.getLogger("push_webhook")

RETRIABLE_STATUS = {408, 429}


def kv(**fields):
    return " ".join(f"{k}={v}" for k, v in fields.items())


class WebhookRefused(Exception):
    """The receiver answered a 4xx that retrying will not change."""


class Pusher:
    def __init__(self, args):
        self.args = args
        self.segments = set(args.segment)
        self.stopping = False
        self.paused = False
        self.revoked = set()  # (topic, partition) given up while a call was retried
        self.consumer = Consumer({
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "error_cb": self.on_error,
            **dict(setting.split("=", 1) for setting in args.kafka),
        })
        self.last_record = time.monotonic()  # for --idle-exit

    # --- Kafka callbacks: they run inside consumer.poll(), on this thread.

    def on_error(self, err):
        # Only fatal errors stop the process; librdkafka retries the rest.
        if err.fatal():
            log.error("Fatal Kafka error, stopping %s", kv(error=err))
            self.stopping = True
        else:
            log.warning("Kafka error %s", kv(error=err))

    def on_assign(self, consumer, partitions):
        consumer.incremental_assign(partitions)
        if self.paused:  # a webhook call is being retried: new partitions wait too
            consumer.pause(partitions)
        self.last_record = time.monotonic()
        log.info("Assigned %s", kv(partitions=fmt_partitions(partitions)))

    def on_revoke(self, consumer, partitions):
        self.revoked.update((p.topic, p.partition) for p in partitions)
        self.commit()  # what was delivered, before another member takes over
        consumer.incremental_unassign(partitions)
        log.info("Revoked %s", kv(partitions=fmt_partitions(partitions)))

    # --- The work.

    def wants(self, change):
        return change.get("change") == "enter" and change.get("segment") in self.segments

    def post(self, change, body):
        request = urllib.request.Request(
            self.args.webhook, data=body, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": change["id"]})
        try:
            with urllib.request.urlopen(request, timeout=self.args.timeout) as response:
                response.read()
                return True, response.status
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code not in RETRIABLE_STATUS:
                raise WebhookRefused(e.code) from e
            return False, e.code
        except (urllib.error.URLError, OSError) as e:  # refused, reset, timeout
            return False, getattr(e, "reason", e)

    def deliver(self, msg, change):
        """Calls the webhook until it succeeds. Returns False when the call
        was abandoned: the process is stopping, or the partition went to
        another member (which will deliver the change again)."""
        body = json.dumps(change, separators=(",", ":")).encode()
        delay = self.args.backoff_initial
        attempt = 1
        tp = (msg.topic(), msg.partition())
        self.revoked.clear()
        try:
            while True:
                ok, status = self.post(change, body)
                if ok:
                    log.info("Pushed %s", kv(id=change["id"], attempts=attempt))
                    return True
                log.warning("Webhook call failed, retrying %s",
                            kv(id=change["id"], attempt=attempt, status=status,
                               retry_in_s=f"{delay:.2f}"))
                if not self.paused:
                    self.consumer.pause(self.consumer.assignment())
                    self.paused = True
                if not self.wait(delay * random.uniform(0.5, 1.0)) or tp in self.revoked:
                    log.info("Webhook call abandoned %s",
                             kv(id=change["id"], stopping=self.stopping))
                    return False
                delay = min(delay * 2, self.args.backoff_max)
                attempt += 1
        finally:
            if self.paused:
                # Fetching restarts after the last record handed out, so the
                # records behind this one are read again, in order.
                self.consumer.resume(self.consumer.assignment())
                self.paused = False

    def wait(self, seconds):
        """Sleeps while polling (nothing comes: every partition is paused),
        so that the group sees this member alive. False if stopping."""
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            msg = self.consumer.poll(min(0.2, max(0.0, end - time.monotonic())))
            if msg is not None and msg.error() is None:
                # on_assign pauses new partitions, so nothing can come. If
                # something did, this record would be skipped: stop instead
                # (nothing is committed past it) and let a restart read it.
                raise RuntimeError(
                    f"a record came from a paused partition {msg.topic()}/{msg.partition()}")
        return not self.stopping

    def handle(self, msg):
        """True when the record is done with and its offset may be stored."""
        try:
            change = json.loads(msg.value())
            if not isinstance(change, dict) or not isinstance(change.get("id"), str):
                raise ValueError("not an object with a string id")
        except (TypeError, ValueError) as e:
            log.error("Not a change record, skipped %s",
                      kv(topic=msg.topic(), partition=msg.partition(), offset=msg.offset(),
                         error=repr(str(e))))
            return True
        if not self.wants(change):
            return True
        try:
            return self.deliver(msg, change)
        except WebhookRefused as e:
            log.error("Webhook refused the change, skipped %s", kv(id=change["id"], status=e))
            return True

    def commit(self):
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:  # nothing stored since last time
                log.warning("Offset commit failed; changes may be pushed again %s",
                            kv(error=e.args[0]))

    def run(self):
        self.consumer.subscribe([self.args.topic], on_assign=self.on_assign,
                                on_revoke=self.on_revoke, on_lost=self.on_revoke)
        last_commit = time.monotonic()
        try:
            while not self.stopping:
                msg = self.consumer.poll(0.5)
                now = time.monotonic()
                if msg is None:
                    if not self.consumer.assignment():  # not idle: waiting for the group
                        self.last_record = now
                    elif self.args.idle_exit and now - self.last_record >= self.args.idle_exit:
                        log.info("Idle, stopping %s", kv(idle_s=self.args.idle_exit))
                        break
                elif msg.error():
                    if msg.error().fatal():
                        raise KafkaException(msg.error())
                    log.warning("Consumer error %s", kv(error=msg.error()))
                else:
                    self.last_record = now
                    # Not stored when abandoned: the process is stopping, or
                    # the partition moved and is read again from its commit.
                    if self.handle(msg):
                        self.consumer.store_offsets(message=msg)
                if now - last_commit >= self.args.commit_interval:
                    self.commit()
                    last_commit = now
        finally:
            self.commit()
            self.consumer.close()


def fmt_partitions(partitions):
    return ",".join(f"{p.topic}/{p.partition}" for p in partitions) or "-"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--brokers", required=True, help="bootstrap brokers, host:port[,...]")
    p.add_argument("--topic", default="segd-changes", help="segd's output topic")
    p.add_argument("--group", default="push-webhook", help="consumer group")
    p.add_argument("--segment", action="append", required=True,
                   help="segment id whose enter records are pushed (repeatable)")
    p.add_argument("--webhook", required=True, help="URL to POST each change record to")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per webhook call")
    p.add_argument("--backoff-initial", type=float, default=0.5,
                   help="first retry delay, seconds (doubles up to --backoff-max)")
    p.add_argument("--backoff-max", type=float, default=30.0, help="longest retry delay, seconds")
    p.add_argument("--commit-interval", type=float, default=1.0,
                   help="seconds between offset commits")
    p.add_argument("--idle-exit", type=float, default=0,
                   help="stop after this many seconds with partitions but no record "
                        "(0: never)")
    p.add_argument("--kafka", action="append", default=[], metavar="KEY=VALUE",
                   help="librdkafka consumer setting, e.g. session.timeout.ms=10000 (repeatable)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    pusher = Pusher(args)

    def stop(signum, _frame):
        log.info("Stopping %s", kv(signal=signal.Signals(signum).name))
        pusher.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pusher.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
