"""The email backend `make run` uses: each message as a short block a person can read.

Django's console backend prints the whole MIME message (headers, encodings), and inside
a Celery worker each of its lines becomes a WARNING log line. This one prints who, the
subject and the text body with its links, framed, to the process's real standard output
(past Celery's redirection), so the verification link of a new sign-up stands out in
the `make run` output. Development only: `make run` sets EMAIL_DELIVERY_BACKEND to it
unless the variable is set.
"""

import sys
import threading

from django.core.mail.backends.base import BaseEmailBackend

RULE = "-" * 72


class ReadableConsoleBackend(BaseEmailBackend):
    _lock = threading.Lock()

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.__stdout__

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            block = "\n".join([
                f"{RULE}\nEMAIL to {', '.join(message.recipients())}",
                f"Subject: {message.subject}",
                "",
                message.body.strip(),
                RULE,
            ])
            with self._lock:
                self.stream.write(block + "\n")
                self.stream.flush()
        return len(email_messages)
