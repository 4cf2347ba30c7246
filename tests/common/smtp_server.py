"""A real SMTP server process for the outbox tests (aiosmtpd).

    python -m tests.common.smtp_server --port 2525 --spool received.jsonl [--refuse 5]

Answers the first N messages with "451 try again later" (a server that refuses), then accepts and
appends one JSON line per accepted message to the spool (its idempotency key header, Message-ID,
recipients, subject), flushed before answering 250, so that what the test reads is what the
server accepted. Prints READY once listening.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import signal


class Handler:
    def __init__(self, spool: str, refuse: int):
        self.spool = spool
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Mail server busy, try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        line = {
            "key": str(message.get("X-Portal-Mail-Key", "")).strip(),
            "message_id": message.get("Message-ID", ""),
            "to": list(envelope.rcpt_tos),
            "subject": message.get("Subject", ""),
        }
        with open(self.spool, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return "250 OK"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--refuse", type=int, default=0)
    args = parser.parse_args()
    controller = Controller(Handler(args.spool, args.refuse), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("READY", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
