#!/usr/bin/python3
"""Drives one etcd member with python3-etcd3 (Debian's 0.12) and checks what
the library returns: KV, watches, leases, transactions and the library's lock.

    /usr/bin/python3 etcd3_client.py --endpoint 127.0.0.1:2379

Exits 0 and prints "OK" when every check passes; otherwise prints
"FAIL: <what>" to stderr and exits 1. The member must be empty (fresh).
Run by e2e/python_client_test.cc against this project's etcd and Debian's.
"""

import argparse
import queue
import signal
import sys
import threading
import time
import traceback

import etcd3
import etcd3.events


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def check_eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: got %r, want %r" % (what, got, want))


def next_event(events, timeout=10.0):
    """The next item of a blocking watch iterator, or a failure after timeout."""
    box = queue.Queue()

    def read():
        try:
            box.put(("ok", next(events)))
        except BaseException as e:  # delivered to the test thread
            box.put(("err", e))

    threading.Thread(target=read, daemon=True).start()
    try:
        kind, value = box.get(timeout=timeout)
    except queue.Empty:
        raise CheckFailed("no watch event within %.0fs" % timeout)
    if kind == "err":
        raise CheckFailed("watch iterator failed: %r" % (value,))
    return value


def kv(c):
    check_eq(c.get("missing"), (None, None), "get of a missing key")
    c.put("k/b", "2")
    c.put("k/a", "1")
    c.put("k/c", "3")
    c.put("other", "x")
    value, meta = c.get("k/a")
    check_eq(value, b"1", "get k/a")
    check_eq(meta.key, b"k/a", "get k/a key")
    check_eq(meta.version, 1, "k/a version")
    check(meta.create_revision == meta.mod_revision, "k/a create == mod revision")

    got = [(v, m.key) for v, m in c.get_prefix("k/")]
    check_eq(sorted(got), [(b"1", b"k/a"), (b"2", b"k/b"), (b"3", b"k/c")], "get_prefix k/")
    desc = [m.key for _, m in c.get_prefix("k/", sort_order="descend", sort_target="key")]
    check_eq(desc, [b"k/c", b"k/b", b"k/a"], "get_prefix k/ sorted by key, descending")
    by_create = [m.key for _, m in c.get_prefix("k/", sort_order="ascend", sort_target="create")]
    check_eq(by_create, [b"k/b", b"k/a", b"k/c"], "get_prefix k/ sorted by create revision")
    by_value = [v for v, _ in c.get_prefix("k/", sort_order="descend", sort_target="value")]
    check_eq(by_value, [b"3", b"2", b"1"], "get_prefix k/ sorted by value, descending")
    ranged = [m.key for _, m in c.get_range("k/a", "k/c")]
    check_eq(ranged, [b"k/a", b"k/b"], "get_range [k/a, k/c)")
    all_keys = sorted(m.key for _, m in c.get_all())
    check_eq(all_keys, [b"k/a", b"k/b", b"k/c", b"other"], "get_all")

    c.put("k/a", "1b")
    value, meta = c.get("k/a")
    check_eq((value, meta.version), (b"1b", 2), "k/a after a second put")
    check(c.put_if_not_exists("new", "n"), "put_if_not_exists on a new key")
    check(not c.put_if_not_exists("new", "m"), "put_if_not_exists on an existing key")
    check(c.replace("new", "n", "n2"), "replace with the right old value")
    check(not c.replace("new", "wrong", "n3"), "replace with a wrong old value")
    check_eq(c.get("new")[0], b"n2", "value after replace")

    check(c.delete("other"), "delete of an existing key")
    check(not c.delete("other"), "delete of a missing key")
    deleted = c.delete_prefix("k/")
    check_eq(deleted.deleted, 3, "delete_prefix k/ count")
    check_eq(list(c.get_prefix("k/")), [], "get_prefix k/ after delete_prefix")
    c.delete("new")


def watches(c, c2):
    # Watch one key; a put from another client arrives.
    events, cancel = c.watch("w/key")
    time.sleep(0.2)  # python-etcd3 sends the create request asynchronously
    c2.put("w/other", "ignored")
    c2.put("w/key", "v1")
    ev = next_event(events)
    check(isinstance(ev, etcd3.events.PutEvent), "event type for a put: %r" % (ev,))
    check_eq((ev.key, ev.value), (b"w/key", b"v1"), "watched put")
    c2.delete("w/key")
    ev = next_event(events)
    check(isinstance(ev, etcd3.events.DeleteEvent), "event type for a delete: %r" % (ev,))
    check_eq(ev.key, b"w/key", "watched delete")
    cancel()

    # Watch a prefix through a callback, then cancel it.
    got = queue.Queue()
    watch_id = c.add_watch_prefix_callback("wp/", got.put)
    time.sleep(0.2)
    c2.put("wp/1", "a")
    c2.put("x", "outside")
    c2.put("wp/2", "b")
    seen = []
    deadline = time.time() + 10
    while len(seen) < 2 and time.time() < deadline:
        try:
            response = got.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            break
        check(not isinstance(response, Exception), "watch_prefix error: %r" % (response,))
        seen.extend((e.key, e.value) for e in response.events)
    check_eq(seen, [(b"wp/1", b"a"), (b"wp/2", b"b")], "watch_prefix events")
    c.cancel_watch(watch_id)
    time.sleep(0.2)
    c2.put("wp/3", "c")
    time.sleep(0.5)
    check(got.empty(), "an event after cancel_watch")

    # watch_once with a start revision sees history.
    rev = c2.put("h", "1").header.revision
    c2.put("h", "2")
    ev = c.watch_once("h", timeout=10, start_revision=rev)
    check_eq((ev.key, ev.value), (b"h", b"1"), "watch_once from a past revision")


def leases(c):
    lease = c.lease(30)
    check(lease.id != 0, "lease id")
    check_eq(lease.ttl, 30, "granted ttl in the grant response")
    c.put("l/key", "v", lease=lease)
    c.put("l/key2", "v", lease=lease.id)
    _, meta = c.get("l/key")
    check_eq(meta.lease_id, lease.id, "key's lease")
    refreshed = lease.refresh()
    check_eq(len(refreshed), 1, "keep-alive responses")
    check_eq(refreshed[0].ID, lease.id, "keep-alive id")
    check_eq(refreshed[0].TTL, 30, "keep-alive ttl")
    remaining = lease.remaining_ttl
    check(0 < remaining <= 30, "remaining ttl %r in (0, 30]" % remaining)
    check_eq(lease.granted_ttl, 30, "granted ttl from time-to-live")
    check_eq(sorted(lease.keys), [b"l/key", b"l/key2"], "keys attached to the lease")
    lease.revoke()
    check_eq(c.get("l/key"), (None, None), "a key after its lease was revoked")
    check_eq(c.get("l/key2"), (None, None), "second key after its lease was revoked")
    check_eq(c.get_lease_info(lease.id).TTL, -1, "time-to-live of a revoked lease")
    try:
        c.put("l/key", "v", lease=lease.id)
    except Exception as e:  # the library wraps some errors, passes others
        check("lease not found" in str(e), "put with a revoked lease: %r" % (e,))
    else:
        raise CheckFailed("put with a revoked lease succeeded")


def transactions(c):
    c.put("tx", "v1")
    ok, responses = c.transaction(
        compare=[c.transactions.value("tx") == "v1", c.transactions.version("tx") == 1],
        success=[c.transactions.put("tx", "v2"), c.transactions.get("tx")],
        failure=[c.transactions.get("tx")],
    )
    check(ok, "txn with true comparisons takes the success branch")
    check_eq(len(responses), 2, "success branch responses")
    check_eq([v for v, _ in responses[1]], [b"v2"], "get in the success branch")

    ok, responses = c.transaction(
        compare=[c.transactions.value("tx") == "v1"],
        success=[c.transactions.put("tx", "never")],
        failure=[c.transactions.get("tx"), c.transactions.put("tx-failed", "yes")],
    )
    check(not ok, "txn with a false comparison takes the failure branch")
    check_eq([v for v, _ in responses[0]], [b"v2"], "get in the failure branch")
    check_eq(c.get("tx")[0], b"v2", "value untouched by the failed txn")
    check_eq(c.get("tx-failed")[0], b"yes", "put in the failure branch")

    ok, _ = c.transaction(
        compare=[c.transactions.version("tx") > 1, c.transactions.create("nokey") == 0],
        success=[c.transactions.delete("tx")],
        failure=[],
    )
    check(ok, "version > 1 and create == 0")
    check_eq(c.get("tx"), (None, None), "delete in the success branch")


def locks(c, c2):
    # python-etcd3 0.12's acquire() of a held lock raises TypeError with
    # Debian's newer tenacity (its wait callback has the old signature), so
    # contention is checked through the lock's key instead of a second
    # acquire() that would have to wait.
    lock = c.lock("pylock", ttl=20)
    check(lock.acquire(timeout=5), "acquire a free lock")
    check(lock.is_acquired(), "is_acquired after acquire")
    value, meta = c.get("/locks/pylock")
    check_eq(value, lock.uuid, "lock key holds the holder's uuid")
    check_eq(meta.lease_id, lock.lease.id, "lock key's lease")
    other = c2.lock("pylock", ttl=20)
    check(not other.is_acquired(), "is_acquired of a lock held by another")
    ok, _ = c2.transaction(compare=[c2.transactions.create("/locks/pylock") == 0],
                           success=[c2.transactions.put("/locks/pylock", "thief")], failure=[])
    check(not ok, "the lock's create-if-absent txn fails while it is held")
    check_eq(lock.refresh()[0].TTL, 20, "lock lease refresh")
    check(lock.release(), "release of a held lock")
    check(not lock.is_acquired(), "is_acquired after release")
    check(not lock.release(), "a second release")
    check(other.acquire(timeout=5), "acquire of the released lock")
    check(other.is_acquired(), "the second holder holds the lock")
    check(other.release(), "release by the second holder")
    with c.lock("pylock2", ttl=5) as held:
        check(held.is_acquired(), "lock as a context manager")
    check_eq(c.get("/locks/pylock2"), (None, None), "lock key after the with block")

    # A lock that is not refreshed goes with its lease.
    short = c.lock("pylock3", ttl=2)
    check(short.acquire(timeout=5), "acquire a short lock")
    deadline = time.time() + 20
    while c.get("/locks/pylock3") != (None, None) and time.time() < deadline:
        time.sleep(0.2)
    check_eq(c.get("/locks/pylock3"), (None, None), "lock key after its lease expired")
    check(not short.is_acquired(), "is_acquired after the lease expired")
    again = c2.lock("pylock3", ttl=5)
    check(again.acquire(timeout=5), "acquire of an expired lock")
    again.release()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True, help="host:port of the member")
    args = parser.parse_args()
    host, port = args.endpoint.rsplit(":", 1)

    # Never hang the calling test.
    signal.signal(signal.SIGALRM, lambda *_: (sys.stderr.write("FAIL: timed out\n"),
                                               sys.stderr.flush(), sys.exit(2)))
    signal.alarm(120)

    c = etcd3.client(host=host, port=int(port), timeout=10)
    c2 = etcd3.client(host=host, port=int(port), timeout=10)
    for name, fn in [("kv", lambda: kv(c)),
                     ("watches", lambda: watches(c, c2)),
                     ("leases", lambda: leases(c)),
                     ("transactions", lambda: transactions(c)),
                     ("locks", lambda: locks(c, c2))]:
        try:
            fn()
        except CheckFailed as e:
            sys.stderr.write("FAIL: %s: %s\n" % (name, e))
            return 1
        except Exception:
            sys.stderr.write("FAIL: %s: unexpected exception\n%s" % (name, traceback.format_exc()))
            return 1
        print("passed: %s" % name)
    print("OK")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Watch threads of python-etcd3 must not keep the process alive.
    import os
    os._exit(code)
