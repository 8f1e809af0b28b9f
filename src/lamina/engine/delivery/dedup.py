"""FIFO deduplication windows (SQS FIFO queues, SNS FIFO topics), kept in the store.

A deduplication id seen within the last five minutes names the message it was first sent
with: a second send with it is accepted and answered with that message's id, and nothing
is added. The window is in memory for the lookup and in the store (documents of kind KIND,
key "<scope>|<id>") so that it outlives a restart: a producer that retries a send after a
crash is exactly the case deduplication is for.

remember() puts an id in the window at once (a batch may repeat it), op() is the store
operation to commit with the message itself; prune() gives the deletions of ids whose
window has passed, for the caller to commit with its next write.
Ids are kept in the order they were seen, which is the order they expire in, so pruning
looks only at the oldest.
"""

from __future__ import annotations

from ...store.base import Delete, DeletePrefix, Put

WINDOW_MS = 5 * 60 * 1000


class DedupWindow:
    def __init__(self, kind: str, scope: str, window_ms: int = WINDOW_MS) -> None:
        self.kind = kind  # the store's document kind, one per service
        self.scope = scope  # the queue's or topic's key
        self.window_ms = window_ms
        self._seen: dict[str, tuple[int, str, str | None]] = {}  # id -> (expires ms, message id, sequence)

    def find(self, dedup_id: str, now_ms: int) -> tuple[str, str | None] | None:
        """(message id, sequence number) of the message first sent with this id, if within
        the window."""
        seen = self._seen.get(dedup_id)
        if seen is not None and seen[0] > now_ms:
            return seen[1], seen[2]
        return None

    def remember(self, dedup_id: str, sent_ms: int, message_id: str, sequence: str | None) -> None:
        """A new message: in the window at once (a batch may repeat the id); op() is what
        to commit with it."""
        self._seen.pop(dedup_id, None)  # re-inserted at the end: the order stays the expiry order
        self._seen[dedup_id] = (sent_ms + self.window_ms, message_id, sequence)

    def forget(self, dedup_id: str) -> None:
        """The message remembered under this id was not committed after all: a retry must
        be taken as new, not answered as a duplicate of nothing."""
        self._seen.pop(dedup_id, None)

    def op(self, dedup_id: str) -> Put:
        expires, message_id, sequence = self._seen[dedup_id]
        return Put(self.kind, f"{self.scope}|{dedup_id}", {"expires": expires, "id": message_id, "sequence": sequence})

    def prune(self, now_ms: int) -> list[Delete]:
        """Forget the ids whose window has passed; the deletions to commit."""
        gone = []
        for dedup_id, (expires, _, _) in self._seen.items():
            if expires > now_ms:
                break
            gone.append(dedup_id)
        for dedup_id in gone:
            del self._seen[dedup_id]
        return [Delete(self.kind, f"{self.scope}|{dedup_id}") for dedup_id in gone]

    def restore(self, dedup_id: str, doc: dict) -> None:
        """From the store at startup (call in order of expiry)."""
        self._seen.setdefault(dedup_id, (doc["expires"], doc["id"], doc.get("sequence")))

    def forget_all(self) -> DeletePrefix:
        self._seen.clear()
        return DeletePrefix(self.kind, f"{self.scope}|")

    def __len__(self) -> int:
        return len(self._seen)


async def load_windows(store, kind: str, windows: dict[str, DedupWindow], now_ms: int) -> None:
    """Fill each scope's window from the store's documents of `kind`; what has expired (or
    whose queue or topic is gone) is deleted."""
    stale = []
    found = []
    for key, doc in await store.scan(kind):
        scope, _, dedup_id = key.partition("|")  # scopes have no "|"; ids may
        window = windows.get(scope)
        if window is None or doc["expires"] <= now_ms:
            stale.append(Delete(kind, key))
        else:
            found.append((doc["expires"], window, dedup_id, doc))
    for _, window, dedup_id, doc in sorted(found, key=lambda item: item[0]):
        window.restore(dedup_id, doc)
    if stale:
        await store.write(stale)
