#!/usr/bin/python3
"""
System test: a hostile sync peer is dropped, its rejects are logged and
counted, and the node keeps serving honest peers.

usage: tests/system/hostile.py KITH KITHD WORKDIR

KITH and KITHD are the two binaries, WORKDIR an empty scratch directory;
$CRAFT names kith-craft (tests/system/craft.c), which writes records.
Prints "ok - ..." / "not ok - ..." per check, then a summary line; exits 1
if any check failed.  Nothing waits a fixed time: every wait polls against
a deadline.

Every socket of a node speaks ZeroMQ CURVE: the hostile peer connects as a
CURVE client, and the node's server key is the X25519 key derived from its
ed25519 node key (`kith id`), as libsodium's
crypto_sign_ed25519_pk_to_curve25519 derives it (python3-nacl).  The node
admits only members' keys (ZAP): the hostile peers hold an ed25519 key the
admin admitted as a member, or as a pcn for the scope case, and use its
X25519 pair for CURVE.
"""

import hashlib
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import zmq
import zmq.utils.monitor
from nacl.bindings import (crypto_sign_ed25519_pk_to_curve25519,
                           crypto_sign_ed25519_sk_to_curve25519,
                           crypto_sign_keypair)

DEADLINE = 10.0         # seconds any one thing may take to happen
STEP = 0.05             # polling interval
SYNC_TIMEOUT = 60       # an honest `kith sync` run, at most
QUIET = 2.0             # how long a refused peer is watched for a reply

# Wire protocol (proto/PROTOCOL.md, proto/syncmsg.h).
VERSION = 0x01
HELLO, RECON, GET, PULL, PUSH, BYE = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
WELCOME, RECORDS, PUSHED, ERROR = 0x81, 0x83, 0x85, 0xFF
KIND_REFERRAL = 18
INFINITY = struct.pack(">Q", 2 ** 64 - 1) + bytes(32)
NOBODY16 = 0xFFFF
NOBODY32 = 0xFFFFFFFF
SIG_LEN = 64
ELIMIT = 34             # an ERROR's code for a passed bound (PROTOCOL 9.9)
# node/sync.h: the bounds a member meets.
SESSIONS_PER_KEY = 4
HELLO_BURST = 100
AUTHOR_PER_MIN = 12000

passed = 0
failed = 0


def check(cond, desc, detail=None):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % desc, flush=True)
    else:
        failed += 1
        print("not ok - %s" % desc, flush=True)
        if detail:
            for line in str(detail).rstrip().splitlines():
                print("#   %s" % line, flush=True)
    return bool(cond)


def poll_until(fn, deadline=DEADLINE):
    """Call fn() every STEP seconds until it returns a true value."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(STEP)


class Fatal(Exception):
    pass


# --- the CLI --------------------------------------------------------------

def run(argv, timeout=SYNC_TIMEOUT, stdout=subprocess.PIPE):
    return subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE,
                          timeout=timeout)


def kith(args, home, **kw):
    return run([KITH, "--home", home] + args, **kw)


def kith_ok(args, home, **kw):
    r = kith(args, home, **kw)
    if r.returncode != 0:
        raise Fatal("kith --home %s %s: exit %d: %s" % (
            home, " ".join(args), r.returncode,
            r.stderr.decode(errors="replace").strip()))
    return r


def record_count(home):
    r = kith_ok(["stats"], home)
    m = re.search(rb"^records: (\d+)$", r.stdout, re.M)
    if m is None:
        raise Fatal("kith stats: no records line: %r" % r.stdout)
    return int(m.group(1))


# --- records files --------------------------------------------------------

def read_recfile(path):
    """(network id, [(signed header, body or None)]) of a records file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 41 or data[:8] != b"KITHRECS" or data[8] != 1:
        raise Fatal("%s: not a version 1 records file" % path)
    network = data[9:41]
    off, entries = 41, []
    while off < len(data):
        (shlen,) = struct.unpack_from(">I", data, off)
        off += 4
        sh = data[off:off + shlen]
        off += shlen
        (blen,) = struct.unpack_from(">I", data, off)
        off += 4
        body = None
        if blen != NOBODY32:
            body = data[off:off + blen]
            off += blen
        if len(sh) != shlen or (body is not None and len(body) != blen):
            raise Fatal("%s: truncated entry" % path)
        entries.append((sh, body))
    return network, entries


def forge(entry, k):
    """The record with bit k (0..511) of its signature flipped."""
    sh, body = entry
    sh = bytearray(sh)
    pos = len(sh) - SIG_LEN + (k // 8) % SIG_LEN
    sh[pos] ^= 1 << (k % 8)
    return bytes(sh), body


def record_id(sh):
    """H(signed header): BLAKE2b-256."""
    return hashlib.blake2b(sh, digest_size=32).digest()


def header(sh):
    """(hlc, kind, audience, author) from a signed header's msgpack array."""
    off = 0

    def item():
        nonlocal off
        b = sh[off]
        off += 1
        if b <= 0x7F:
            return b
        if 0xCC <= b <= 0xCF:
            n = 1 << (b - 0xCC)
            v = int.from_bytes(sh[off:off + n], "big")
            off += n
            return v
        if b == 0xC4:
            n = sh[off]
            v = bytes(sh[off + 1:off + 1 + n])
            off += 1 + n
            return v
        if 0x90 <= b <= 0x9F:
            return [item() for _ in range(b - 0x90)]
        raise Fatal("unexpected msgpack byte %#x in a header" % b)
    h = item()
    if not isinstance(h, list) or len(h) != 14:
        raise Fatal("a header is not an array of 14")
    return h[5], h[6], h[10], h[2]


def member_keys():
    """A fresh ed25519 key (hex) and its X25519 pair for CURVE."""
    pk, sk = crypto_sign_keypair()
    return (pk.hex(), crypto_sign_ed25519_pk_to_curve25519(pk),
            crypto_sign_ed25519_sk_to_curve25519(sk))


def fresh_member(role="member"):
    """
    A new key the admin admits, made the hostile peers' (MEMBER): a
    dropped peer's key is banned, so each case that gets one dropped starts
    with a key of its own.
    """
    global MEMBER
    MEMBER = member_keys()
    kith_ok(["member", "add", MEMBER[0], "--org", "Hostile " + MEMBER[0][:8],
             "--role", role], W("a"))
    return MEMBER


# --- frames ---------------------------------------------------------------

def frame(mtype, reqid, payload=b""):
    return struct.pack(">BBI", VERSION, mtype, reqid) + payload


def hello_payload(network, key, name):
    """A HELLO's payload: network, flags, key, clock, port 0, name."""
    n = name if isinstance(name, bytes) else name.encode()
    clock = struct.pack(">QH", int(time.time() * 1000), 0)
    return network + b"\x00" + key + clock + bytes([len(n)]) + n


def hello(network, name, keys=None):
    """A HELLO naming the client's ed25519 key."""
    key = bytes.fromhex((keys or MEMBER)[0])
    return frame(HELLO, 1, hello_payload(network, key, name))


def push(reqid, entries):
    p = bytearray()
    for sh, body in entries:
        p += struct.pack(">H", len(sh)) + sh
        if body is None:
            p += struct.pack(">H", NOBODY16)
        else:
            p += struct.pack(">H", len(body)) + body
    return frame(PUSH, reqid, bytes(p))


def bound(hlc, rid):
    return struct.pack(">Q", hlc) + rid


def records_of(payload):
    """The signed headers in a RECORDS payload."""
    flags, off, out = payload[0], 1, []
    if flags & 2:
        off += 40
    while off < len(payload):
        (n,) = struct.unpack_from(">H", payload, off)
        out.append(payload[off + 2:off + 2 + n])
        off += 2 + n
        (b,) = struct.unpack_from(">H", payload, off)
        off += 2 + (0 if b == NOBODY16 else b)
    return out


def parse(msg):
    if len(msg) < 6 or msg[0] != VERSION:
        return None
    return msg[1], struct.unpack(">I", msg[2:6])[0], msg[6:]


def error_text(payload):
    if len(payload) < 2:
        return "?"
    code = -struct.unpack(">H", payload[:2])[0]
    return "%d %s" % (code, payload[2:].decode(errors="replace"))


# --- the daemon -----------------------------------------------------------

class Daemon:
    def __init__(self, home, logpath):
        self.home, self.logpath = home, logpath
        self.proc = None
        self.port = self.feed = None
        self._key = None

    def start(self):
        tried = []
        for _ in range(20):
            port, feed = random.sample(range(20000, 60001), 2)
            with open(self.logpath, "wb") as log:
                self.proc = subprocess.Popen(
                    [KITHD, "--home", self.home,
                     "--listen", "tcp://127.0.0.1:%d" % port,
                     "--feed", "tcp://127.0.0.1:%d" % feed,
                     "--log-level", "debug"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=log)
            if poll_until(lambda: self.proc.poll() is not None or
                          tcp_open(port)) and self.proc.poll() is None:
                self.port, self.feed = port, feed
                return True
            if self.proc.poll() is None:
                self.stop(signal.SIGKILL)
                raise Fatal("kithd did not listen on %d within %gs" %
                            (port, DEADLINE))
            tried.append("%d/%d: exit %d: %s" % (
                port, feed, self.proc.returncode, self.log().strip()))
            if self.proc.returncode != 78:
                break           # not a port that could not be bound
        raise Fatal("kithd would not start:\n" + "\n".join(tried))

    @property
    def endpoint(self):
        return "tcp://127.0.0.1:%d" % self.port

    @property
    def peer(self):
        """The node as `kith sync` takes it: KEY@ENDPOINT."""
        return "%s@%s" % (self.key, self.endpoint)

    @property
    def key(self):
        """The node key, 64 hex digits, as `kith id` prints it."""
        if self._key is None:
            self._key = kith_ok(["id"], self.home).stdout.decode().strip()
        return self._key

    @property
    def server_key(self):
        """The node's CURVE server key."""
        return crypto_sign_ed25519_pk_to_curve25519(bytes.fromhex(self.key))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def log_size(self):
        return os.path.getsize(self.logpath)

    def log_since(self, off):
        return self.log()[off:] if off else self.log()

    def wait_log(self, off, pattern, deadline=DEADLINE):
        """The first log line after byte off matching regex pattern."""
        rx = re.compile(pattern)

        def find():
            with open(self.logpath, "rb") as f:
                f.seek(off)
                text = f.read().decode(errors="replace")
            for line in text.splitlines():
                if rx.search(line):
                    return line
            return None
        return poll_until(find, deadline)

    def stop(self, sig=signal.SIGTERM, deadline=DEADLINE):
        """Signal the daemon and wait for it; its exit status or None."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                return None
        return self.proc.returncode


def tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Peer:
    """
    A hostile peer: one DEALER on one fresh connection, a CURVE client of
    the node d (or of server_key instead), or with plaintext no CURVE client.
    """

    def __init__(self, ctx, d, server_key=None, plaintext=False, keys=None,
                 unread=False):
        self.s = ctx.socket(zmq.DEALER)
        self.s.linger = 0
        if unread:
            # A peer that does not read: libzmq takes one frame off the
            # wire, the kernel a few KiB, and the rest stays with the node.
            self.s.setsockopt(zmq.RCVHWM, 1)
            self.s.setsockopt(zmq.RCVBUF, 4096)
        if not plaintext:
            _, public, secret = keys or MEMBER
            self.s.curve_publickey = public
            self.s.curve_secretkey = secret
            self.s.curve_serverkey = server_key or d.server_key
        # A dropped hostile peer must not come back by itself.
        self.s.setsockopt(zmq.RECONNECT_IVL, -1)
        self.s.setsockopt(zmq.SNDHWM, 100000)
        # With the connection cut and no reconnecting, a send would block
        # for ever: it fails at the deadline instead.
        self.s.setsockopt(zmq.SNDTIMEO, int(DEADLINE * 1000))
        # Watch the connection, to know when the node has cut it.
        self.mon = self.s.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.cut = False
        self.s.connect(d.endpoint)

    def send(self, data, block=True):
        try:
            self.s.send(data, 0 if block else zmq.NOBLOCK)
            return True
        except zmq.ZMQError:
            return False

    def recv(self, deadline=DEADLINE):
        """
        The next reply, parsed; None if the connection was cut with no
        reply waiting, or none came by the deadline.
        """
        end = time.monotonic() + deadline
        poller = zmq.Poller()
        poller.register(self.s, zmq.POLLIN)
        poller.register(self.mon, zmq.POLLIN)
        while True:
            if self.s.poll(0, zmq.POLLIN):
                return parse(self.s.recv())
            if self.cut:
                return None
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready = dict(poller.poll(int(left * 1000) + 1))
            if self.mon in ready:
                self.mon.recv_multipart()
                # Frames read off the wire before the cut are queued
                # already: the loop takes them before giving up.
                self.cut = True

    def replies(self, deadline=DEADLINE):
        """Every reply until the connection is cut or none comes in time."""
        out = []
        while True:
            m = self.recv(deadline)
            if m is None:
                return out
            out.append(m)

    def wait_cut(self, deadline=DEADLINE):
        """True once the node has cut the connection; replies discarded."""
        self.replies(deadline)
        return self.cut

    def close(self):
        try:
            self.s.disable_monitor()
        except zmq.ZMQError:
            pass
        self.mon.close(linger=0)
        self.s.close(linger=0)


# --- honest peers ---------------------------------------------------------

def honest_sync(d, what):
    try:
        r = kith(["sync", d.peer], W("h"))
        rc, err = r.returncode, r.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, err = None, "timed out after %ds" % SYNC_TIMEOUT
    check(rc == 0, "%s: honest sync exits 0" % what,
          "exit %s: %s" % (rc, err))


def after_case(d, what):
    check(d.alive(), "%s: kithd still runs" % what,
          "exit %s" % (d.proc.returncode,))
    if d.alive():
        honest_sync(d, what)


# --- the cases ------------------------------------------------------------

def case_garbage(ctx, d):
    what = "garbage frames"
    rnd = bytes([random.choice([b for b in range(256) if b != VERSION])]) + \
        os.urandom(99)
    for label, data in (("version 0", b"\x00garbage"),
                        ("random bytes", rnd),
                        ("short header", b"\x01")):
        off = d.log_size()
        fresh_member()
        p = Peer(ctx, d)
        try:
            p.send(data)
            line = d.wait_log(off, r"peer error .*; dropped, its key banned$")
            check(line, "%s (%s): peer dropped and logged" % (what, label),
                  d.log_since(off))
            m = p.recv()
            check((m is None and p.cut) or (m is not None and m[0] == ERROR),
                  "%s (%s): ERROR reply or none, connection cut" %
                  (what, label), "reply %r, cut %s" % (m, p.cut))
        finally:
            p.close()
    after_case(d, what)


def case_no_curve(ctx, d):
    what = "peer without the node's CURVE key"
    other = crypto_sign_ed25519_pk_to_curve25519(
        bytes.fromhex(kith_ok(["id"], W("x")).stdout.decode().strip()))
    for label, key in (("plaintext", None), ("another node's key", other)):
        off = d.log_size()
        p = Peer(ctx, d, server_key=key, plaintext=key is None)
        try:
            name = "hostile-nocurve"
            p.send(hello(NETWORK, name))
            m = p.recv(QUIET)
            check(m is None, "%s (%s): no reply in %gs" % (what, label, QUIET),
                  "reply %r" % (m,))
            check(name not in d.log_since(off),
                  "%s (%s): the node never saw its HELLO" % (what, label),
                  d.log_since(off))
        finally:
            p.close()
    after_case(d, what)


def case_oversized(ctx, d):
    what = "oversized frame"
    off = d.log_size()
    fresh_member()
    for attempt in (1, 2):
        p = Peer(ctx, d)
        try:
            name = "hostile-big%d" % attempt
            p.send(hello(NETWORK, name))
            m = p.recv()
            check(m is not None and m[0] == WELCOME,
                  "%s: HELLO answered with WELCOME" % what,
                  "reply %r" % (m,))
            sent = p.send(frame(PUSH, 2, os.urandom(5 << 20)))
            if not sent and attempt == 1:
                # Nothing of ours cut it: the node did, unasked.  Report
                # it, then try once more so the big frame is still sent.
                check(False, "%s: the connection lasts until the frame is "
                      "sent" % what, "send failed after %gs; cut seen: %s; "
                      "log since the case began:\n%s" % (
                          DEADLINE, p.recv() is None and p.cut,
                          d.log_since(off)[-1500:]))
                continue
            check(sent, "%s: 5 MiB frame sent" % what)
            # libzmq cuts the connection; the daemon sees no frame, so it
            # gives no reply.
            m = p.recv()
            check(m is None and p.cut,
                  "%s: connection cut with no reply" % what,
                  "reply %r, cut %s" % (m, p.cut))
            break
        finally:
            p.close()
    after_case(d, what)
    bad = [l for l in d.log_since(off).splitlines()
           if "hostile-big" in l and ("reject" in l or "added" in l and
                                      "added=0" not in l)]
    check(not bad, "%s: nothing of it was taken" % what, "\n".join(bad))


def case_recon(ctx, d):
    what = "truncated reconciliation message"
    off = d.log_size()
    fresh_member()
    p = Peer(ctx, d)
    try:
        p.send(hello(NETWORK, "hostile-recon"))
        m = p.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: HELLO answered with WELCOME" % what, "reply %r" % (m,))
        p.send(frame(RECON, 2, b"\x61\x01"))
        m = p.recv()
        check(m is not None and m[0] == ERROR and m[1] == 2,
              "%s: ERROR reply to request 2" % what, "reply %r" % (m,))
        line = d.wait_log(off, r"peer error peer=hostile-recon@.*; dropped, "
                          r"its key banned$")
        check(line, "%s: peer dropped and logged" % what, d.log_since(off))
    finally:
        p.close()
    after_case(d, what)


def push_case(ctx, d, what, name, entries, why_rx):
    off = d.log_size()
    fresh_member()
    before = record_count(W("a"))
    p = Peer(ctx, d)
    try:
        p.send(hello(NETWORK, name))
        m = p.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: HELLO answered with WELCOME" % what, "reply %r" % (m,))
        p.send(push(2, entries))
        m = p.recv()
        ok = False
        if m is not None and m[0] == PUSHED and len(m[2]) == 12:
            added, dup, rej = struct.unpack(">III", m[2])
            ok = rej >= 1 and added == 0
            detail = "added=%d duplicate=%d rejected=%d" % (added, dup, rej)
        elif m is not None and m[0] == ERROR:
            ok = True
            detail = "ERROR %s" % error_text(m[2])
        else:
            detail = "reply %r" % (m,)
        check(ok, "%s: PUSHED rejected>=1 and added=0, or ERROR" % what,
              detail)
        line = d.wait_log(off, r"warn kithd: reject peer=%s@.*: .*%s" %
                          (re.escape(name), why_rx))
        check(line, "%s: reject logged (%s)" % (what, why_rx),
              d.log_since(off))
    finally:
        p.close()
    after = record_count(W("a"))
    check(after == before, "%s: node's record count unchanged (%d)" %
          (what, before), "before %d, after %d" % (before, after))
    after_case(d, what)


def case_flood(ctx, d, forgers):
    what = "endless stream"
    off = d.log_size()
    fresh_member()
    p = Peer(ctx, d)
    syncs = []

    def background_sync():
        try:
            r = kith(["sync", d.peer], W("h"))
            syncs.append((r.returncode, r.stderr.decode(errors="replace")))
        except subprocess.TimeoutExpired:
            syncs.append((None, "timed out"))

    try:
        p.send(hello(NETWORK, "hostile-flood"))
        m = p.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: HELLO answered with WELCOME" % what, "reply %r" % (m,))
        t = threading.Thread(target=background_sync)
        t.start()
        sent, k = 0, 0
        for i in range(200):
            batch = []
            for _ in range(5):
                batch.append(forge(forgers[k % len(forgers)],
                                   k // len(forgers)))
                k += 1
            if p.send(push(100 + i, batch), block=False):
                sent += 1
        check(sent > 20, "%s: %d of 200 PUSH frames sent" % (what, sent))
        line = d.wait_log(off, r"peer error peer=hostile-flood@.*"
                          r"too many rejected records.*; dropped, its key "
                          r"banned$")
        check(line, "%s: peer dropped for too many rejected records" % what,
              d.log_since(off)[-3000:])
        # Replies: PUSHED frames, then at most an ERROR; nothing after it.
        replies = p.replies()
        check(p.cut, "%s: connection cut" % what)
        errs = [r for r in replies if r[0] == ERROR]
        check(all(r[0] in (PUSHED, ERROR) for r in replies) and
              len(errs) <= 1 and (not errs or replies[-1][0] == ERROR),
              "%s: PUSHED replies then at most one ERROR" % what,
              "replies: %s" % [(hex(r[0]), r[1]) for r in replies])
        t.join(SYNC_TIMEOUT + 5)
        check(syncs and syncs[0][0] == 0,
              "%s: honest sync during the flood exits 0" % what,
              "result %r" % (syncs,))
    finally:
        p.close()
    text = d.log_since(off)
    rejects = len(re.findall(r"reject peer=hostile-flood@.*signature",
                             text))
    # One line a minute for a peer and a reason (log_warn_every): the
    # other rejects are counted into a line written when the minute ends.
    check(rejects == 1,
          "%s: its rejects logged as one line, not one each (%d)" %
          (what, rejects))
    drops = [l for l in text.splitlines()
             if "peer error" in l and "dropped" in l]
    # Frames the peer had queued before the drop must die with its
    # connection, not each start a session that is dropped in turn.
    check(len(drops) == 1, "%s: the peer dropped once (%d drop lines)" %
          (what, len(drops)), "\n".join(drops[:2] + ["..."] + drops[-2:]))
    after_case(d, what)


def case_pcn_scope(ctx, d, other, own):
    """
    A PCN's session holds only its scope: a PULL of the range holding
    another organisation's referral brings nothing, while its own referral
    comes; a GET of the other is an ERROR, and drops it.
    """
    what = "PCN outside its scope"
    # The scope: the membership records (more of them by now) and its own.
    kith_ok(["export-records", W("a2.recs")], W("a"))
    _, recs = read_recfile(W("a2.recs"))
    pcn_key = bytes.fromhex(PCN[0])
    scope = len([sh for sh, _ in recs if header(sh)[1] in (1, 2, 3) or
                 pcn_key in header(sh)[2]])
    off = d.log_size()
    p = Peer(ctx, d, keys=PCN)
    try:
        p.send(hello(NETWORK, "hostile-pcn", PCN))
        m = p.recv()
        n = struct.unpack(">Q", m[2][32:40])[0] if m and m[0] == WELCOME \
            else None
        check(n == scope, "%s: WELCOME counts the scope only (%s of %d)" %
              (what, n, scope), "reply %r" % (m,))
        hlc = header(other[0])[0]
        rid = record_id(other[0])
        hi = (int.from_bytes(rid, "big") + 1).to_bytes(32, "big")
        p.send(frame(PULL, 2, bound(hlc, rid) + bound(hlc, hi)))
        m = p.recv()
        check(m is not None and m[0] == RECORDS and
              records_of(m[2]) == [],
              "%s: PULL of the range holding it brings no record" % what,
              "reply %r" % (m,))
        p.send(frame(PULL, 3, bound(0, bytes(32)) + INFINITY))
        m = p.recv()
        got = records_of(m[2]) if m is not None and m[0] == RECORDS \
            else None
        check(got is not None and len(got) == scope and
              record_id(other[0]) not in [record_id(sh) for sh in got],
              "%s: PULL of everything brings the %d records of its scope" %
              (what, scope), "got %s" % (None if got is None else len(got)))
        p.send(frame(GET, 4, record_id(own[0])))
        m = p.recv()
        check(m is not None and m[0] == RECORDS and
              records_of(m[2]) == [own[0]],
              "%s: GET of its own referral brings it" % what,
              "reply %r" % (m,))
        p.send(frame(GET, 5, record_id(other[0])))
        m = p.recv()
        check(m is None or m[0] == ERROR,
              "%s: GET of a referral to another org: ERROR or nothing" %
              what, "reply %r" % (m,))
        line = d.wait_log(off, r"reject peer=hostile-pcn@.*record=%s" %
                          record_id(other[0]).hex()[:16])
        check(line, "%s: the GET is logged as a reject" % what,
              d.log_since(off))
    finally:
        p.close()
    after_case(d, what)


def refusal(ctx, d, keys, what, code, why_rx, key_rx, first=None):
    """
    A client ZAP marked refused sends ${first} (its HELLO by default): one
    ERROR of ${code} saying why answers it, the connection is cut, and the
    log names ${key_rx}.  A second frame sent at once gets no answer.
    """
    off = d.log_size()
    p = Peer(ctx, d, keys=keys)
    try:
        name = "hostile-refused"
        p.send(first if first is not None else hello(NETWORK, name, keys))
        p.send(frame(PULL, 2, bound(0, bytes(32)) + INFINITY))
        m = p.recv()
        got = (m[0], struct.unpack(">H", m[2][:2])[0], m[2][2:].decode(
            errors="replace")) if m is not None and len(m[2]) >= 2 else m
        check(m is not None and m[0] == ERROR and got[1] == code and
              re.search(why_rx, got[2]),
              "%s: its first frame is answered with ERROR %d /%s/" %
              (what, code, why_rx), "reply %r" % (got,))
        check(p.recv() is None and p.cut,
              "%s: nothing more is answered; the connection is cut" % what)
        line = d.wait_log(off, r"refused connection key=%s socket=sync "
                          r"reason=%s" % (key_rx, why_rx))
        check(line, "%s: logged with the key /%s/" % (what, key_rx),
              d.log_since(off))
        check(name not in d.log_since(off),
              "%s: no session was started" % what, d.log_since(off))
    finally:
        p.close()


def refusal_quiet(ctx, d, keys, first):
    """A refused client sends ${first}: it is answered with an ERROR."""
    p = Peer(ctx, d, keys=keys)
    try:
        p.send(first)
        m = p.recv()
        check(m is not None and m[0] == ERROR,
              "a repeated refusal is still answered with ERROR",
              "reply %r" % (m,))
    finally:
        p.close()


def case_refused(ctx, d):
    what = "refused at ZAP"
    outsider = member_keys()
    refusal(ctx, d, outsider, "non-member", 13, "not a member",
            outsider[0])
    # Its HELLO names a member's key: the log names its CURVE key instead.
    h_key = kith_ok(["id"], W("h")).stdout.decode().strip()
    n = b"liar"
    lie = frame(HELLO, 1, hello_payload(NETWORK, bytes.fromhex(h_key), n))
    refusal(ctx, d, outsider, "non-member naming a member's key", 13,
            "not a member", "x25519:" + outsider[1].hex(), lie)
    # Another outsider: kithd logs a key's refusals for one reason once a
    # minute (log_warn_every), and this one's would be the same line.
    other = member_keys()
    refusal(ctx, d, other, "non-member sending garbage first", 13,
            "not a member", "x25519:" + other[1].hex(),
            b"\x00garbage")
    # The same refusal again within the minute: answered, but not logged.
    off = d.log_size()
    refusal_quiet(ctx, d, other, b"\x00garbage")
    check(not re.search(r"refused connection key=x25519:%s" %
                        other[1].hex(), d.log_since(off)),
          "a refusal repeated within the minute is not logged again",
          d.log_since(off))
    obs = fresh_member("observer")
    refusal(ctx, d, obs, "observer", 27, "role observer", obs[0])
    rev = fresh_member()
    kith_ok(["member", "revoke", rev[0]], W("a"))
    refusal(ctx, d, rev, "revoked member", 26, "revoked", rev[0])
    # A member whose HELLO names another key is dropped.
    mem = fresh_member()
    off = d.log_size()
    p = Peer(ctx, d, keys=mem)
    try:
        p.send(frame(HELLO, 1, hello_payload(NETWORK, bytes.fromhex(h_key),
                                             n)))
        m = p.recv()
        check(m is not None and m[0] == ERROR and
              struct.unpack(">H", m[2][:2])[0] == 23,
              "member naming another key in its HELLO: ERROR EPROTO",
              "reply %r" % (m,))
        check(d.wait_log(off, r"peer error .*bad HELLO.*dropped"),
              "member naming another key in its HELLO: dropped",
              d.log_since(off))
    finally:
        p.close()
    after_case(d, what)


def case_revoked(ctx, d):
    """
    A revocation written with kith while a member's session and feed
    subscription are open: both are closed within 5 s, and the feed's
    reconnect is refused.
    """
    what = "revoked while connected"
    keys = fresh_member()
    off = d.log_size()
    p = Peer(ctx, d)
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.curve_publickey, sub.curve_secretkey = keys[1], keys[2]
    sub.curve_serverkey = d.server_key
    mon = sub.get_monitor_socket(zmq.EVENT_DISCONNECTED |
                                 zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect("tcp://127.0.0.1:%d" % d.feed)
    events = []

    def event(kind, deadline):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if kind in events:
                return True
            if mon.poll(int(STEP * 1000)):
                ev = zmq.utils.monitor.recv_monitor_message(mon)
                events.append((ev["event"], ev["value"]))
                events.append(ev["event"])
        return kind in events

    def heard():
        kith_ok(["request", "add", "--category", "food", "--area", "N9"],
                W("a"))
        return sub.poll(1000)

    try:
        p.send(hello(NETWORK, "hostile-rev"))
        m = p.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: a session is open" % what, "reply %r" % (m,))
        check(poll_until(heard), "%s: the subscriber hears the feed" % what)
        t0 = time.monotonic()
        kith_ok(["member", "revoke", keys[0]], W("a"))
        m = p.recv(5.0)
        check(m is not None and m[0] == ERROR and
              struct.unpack(">H", m[2][:2])[0] == 26 and b"revoked" in m[2],
              "%s: the session is told: ERROR 26 revoked" % what,
              "reply %r" % (m,))
        check(p.wait_cut(5.0) and time.monotonic() - t0 < 5.0,
              "%s: and cut within 5 s (%.2f s)" %
              (what, time.monotonic() - t0))
        check(event(zmq.EVENT_DISCONNECTED, 5.0 - (time.monotonic() - t0)),
              "%s: the subscription is cut within 5 s" % what, events)
        check(event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, DEADLINE) and
              (zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400) in events,
              "%s: its reconnect is refused (ZAP 400)" % what, events)
        while sub.poll(0):
            sub.recv_multipart()
        kith_ok(["request", "add", "--category", "food", "--area", "N10"],
                W("a"))
        check(not sub.poll(int(QUIET * 1000)),
              "%s: it hears nothing written after" % what)
        check(d.wait_log(off, r"sync closed peer=hostile-rev@.* key=%s: "
                         r"revoked" % keys[0]) and
              d.wait_log(off, r"feed closed subscriber=%s: revoked" %
                         keys[0]),
              "%s: both logged" % what, d.log_since(off))
    finally:
        p.close()
        sub.disable_monitor()
        mon.close(linger=0)
        sub.close(linger=0)
    after_case(d, what)


def case_ban(ctx, d):
    """A drop bans the key: its other session is cut, a reconnect refused."""
    what = "banned key"
    keys = fresh_member()
    off = d.log_size()
    p1 = Peer(ctx, d)
    p2 = Peer(ctx, d)
    try:
        p1.send(hello(NETWORK, "hostile-ban1"))
        m = p1.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: a first session is welcomed" % what, "reply %r" % (m,))
        p2.send(b"\x00garbage")
        check(d.wait_log(off, r"peer error .*; dropped, its key banned$"),
              "%s: a second connection's garbage drops it" % what,
              d.log_since(off))
        m = p1.recv()
        check(m is not None and m[0] == ERROR and
              b"banned" in m[2] and p1.wait_cut(),
              "%s: the first session is told and cut" % what,
              "reply %r, cut %s" % (m, p1.cut))
    finally:
        p1.close()
        p2.close()
    refusal(ctx, d, keys, "banned key reconnecting", 27,
            r"banned for \d+ s: bad frame", keys[0])
    after_case(d, what)


def rss_kib(d):
    """kithd's resident memory, KiB."""
    with open("/proc/%d/status" % d.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hello_as(reqid, name):
    h = hello(NETWORK, name)
    return h[:2] + struct.pack(">I", reqid) + h[6:]


def is_limit(m, text):
    """Is m an ERROR with code ELIMIT whose text holds text?"""
    return (m is not None and m[0] == ERROR and len(m[2]) >= 2 and
            struct.unpack(">H", m[2][:2])[0] == ELIMIT and
            text in error_text(m[2]))


def case_sessions(ctx, d):
    """A key holds SYNC_SESSIONS_PER_KEY sessions; one more is refused."""
    what = "sessions per key"
    fresh_member()
    off = d.log_size()
    peers = [Peer(ctx, d) for _ in range(SESSIONS_PER_KEY + 2)]
    try:
        got = []
        for i, p in enumerate(peers):
            p.send(hello(NETWORK, "hostile-s%d" % i))
            got.append(p.recv())
        check(all(m is not None and m[0] == WELCOME
                  for m in got[:SESSIONS_PER_KEY]),
              "%s: the first %d are welcomed" % (what, SESSIONS_PER_KEY),
              "replies %r" % (got,))
        check(all(is_limit(m, "too many sessions")
                  for m in got[SESSIONS_PER_KEY:]),
              "%s: the next two are told ELIMIT, too many sessions" % what,
              "replies %r" % (got[SESSIONS_PER_KEY:],))
        check(all(p.wait_cut() for p in peers[SESSIONS_PER_KEY:]),
              "%s: and cut" % what)
        check(d.wait_log(off, r"sync refused peer=127\.0\.0\.1:\d+ key=%s: "
                         r"4 sessions open" % MEMBER[0]),
              "%s: the refusal is logged with the key" % what,
              d.log_since(off))
        # With four open, ZAP refuses the key's next connection outright:
        # nothing it sends is read.
        z = Peer(ctx, d)
        peers.append(z)
        z.send(hello(NETWORK, "hostile-s7"))
        m = z.recv(deadline=QUIET)
        check(m is None and d.wait_log(off, r"refused connection key=%s "
                                       r"socket=sync reason=4 sessions open"
                                       % MEMBER[0]),
              "%s: a later connection is refused by ZAP, logged" % what,
              "reply %r\n%s" % (m, d.log_since(off)[-1500:]))
        # One ends: a new one fits.
        peers[0].send(frame(BYE, 2))
        check(d.wait_log(off, r"sync end peer=hostile-s0@"),
              "%s: a session ends with BYE" % what, d.log_since(off))
        q = Peer(ctx, d)
        peers.append(q)
        q.send(hello(NETWORK, "hostile-s6"))
        m = q.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: then a new session is welcomed" % what, "reply %r" % (m,))
    finally:
        for p in peers:
            p.close()
    after_case(d, what)


def case_hello_flood(ctx, d):
    """HELLOs past a key's burst are refused and the session cut."""
    what = "HELLO flood"
    fresh_member()
    off = d.log_size()
    p = Peer(ctx, d)
    try:
        sent = HELLO_BURST + 1000
        for i in range(sent):
            p.send(hello_as(1 + i, "hostile-hellos"), block=False)
        replies = p.replies()
        welcomes = sum(1 for m in replies if m[0] == WELCOME)
        # The bucket refills 50 a second while the flood is answered.
        check(HELLO_BURST <= welcomes < sent,
              "%s: the burst of %d and what refilled welcomed, not all %d "
              "(%d)" % (what, HELLO_BURST, sent, welcomes))
        check(replies and is_limit(replies[-1], "too many HELLOs") and
              p.cut, "%s: then ELIMIT, too many HELLOs, and cut" % what,
              "last %r, cut %s" % (replies[-1:], p.cut))
        check(d.wait_log(off, r"sync closed peer=hostile-hellos@.*key=%s: "
                         r"too many HELLOs" % MEMBER[0]),
              "%s: logged with the key" % what, d.log_since(off))
    finally:
        p.close()
    after_case(d, what)


def case_pull_flood(ctx, d):
    """
    PULLs of everything from a peer that reads nothing: replies wait past
    1 MiB unread, and past 16 waiting requests the peer is dropped.  The
    node's memory stays bounded and honest peers sync.
    """
    what = "PULL flood, never read"
    fresh_member()
    off = d.log_size()
    before = rss_kib(d)
    p = Peer(ctx, d, unread=True)
    try:
        p.send(hello(NETWORK, "hostile-pulls"))
        m = p.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: HELLO answered with WELCOME" % what, "reply %r" % (m,))
        whole = bound(0, bytes(32)) + INFINITY
        sent = sum(1 for i in range(400)
                   if p.send(frame(PULL, 2 + i, whole), block=False))
        check(sent == 400, "%s: 400 PULLs sent (%d)" % (what, sent))
        line = d.wait_log(off, r"peer error peer=hostile-pulls@.*too many "
                          r"requests with replies unread.*; dropped, its "
                          r"key banned$", deadline=30)
        check(line, "%s: dropped for requests with replies unread" % what,
              d.log_since(off)[-3000:])
        grew = rss_kib(d) - before
        check(grew < 64 * 1024, "%s: kithd grew %d KiB (< 64 MiB)" % (
            what, grew))
        served = len(re.findall(r"sync end peer=hostile-pulls@.* sent=(\d+)",
                                d.log_since(off)))
        check(served == 1, "%s: its session ended once" % what)
    finally:
        p.close()
    after_case(d, what)


def case_author_rate(ctx, d, b_home):
    """
    One author's records, PUSHed past its rate: the node takes a burst of
    SYNC_AUTHOR_PER_MIN (and what refills meanwhile), counts the rest
    nowhere in PUSHED, logs them deferred; later sessions bring them all.
    """
    what = "author past its rate"
    kith_ok(["sync", d.peer], b_home)   # b learns it is a member
    for _ in range(6):
        run([CRAFT, b_home, "--entity", "new", "--count", "2700",
             "--set", "category=food", "--set", "area=B1"],
            stdout=subprocess.DEVNULL).check_returncode()
    kith_ok(["export-records", W("b.recs")], b_home)
    _, entries = read_recfile(W("b.recs"))
    b_key = bytes.fromhex(kith_ok(["id"], b_home).stdout.decode().strip())
    mine = [e for e in entries if header(e[0])[3] == b_key]
    check(len(mine) == 16200, "%s: 16200 records of b's (%d)" % (
        what, len(mine)))
    fresh_member()
    off = d.log_size()
    before = record_count(W("a"))
    p = Peer(ctx, d)
    counts = [0, 0, 0]
    try:
        p.send(hello(NETWORK, "hostile-bulk"))
        m = p.recv()
        check(m is not None and m[0] == WELCOME,
              "%s: HELLO answered with WELCOME" % what, "reply %r" % (m,))
        frames, cur, size = [], [], 0
        for e in mine:
            n = 4 + len(e[0]) + len(e[1] or b"")
            if cur and size + n > 1 << 20:
                frames.append(cur)
                cur, size = [], 0
            cur.append(e)
            size += n
        frames.append(cur)
        for i, f in enumerate(frames):
            p.send(push(2 + i, f))
            m = p.recv(deadline=60)
            if m is None or m[0] != PUSHED:
                check(False, "%s: PUSH %d answered with PUSHED" % (what, i),
                      "reply %r" % (m,))
                break
            for j, v in enumerate(struct.unpack(">III", m[2])):
                counts[j] += v
    finally:
        p.close()
    added, dup, rej = counts
    check(AUTHOR_PER_MIN <= added < len(mine) and dup == 0 and rej == 0,
          "%s: a burst added, the rest counted nowhere (added %d of %d)" %
          (what, added, len(mine)), "duplicate %d rejected %d" % (dup, rej))
    check(d.wait_log(off, r"sync deferred peer=hostile-bulk@.* records="
                     r"\d+: authors past 12000 records a minute"),
          "%s: deferred records logged" % what, d.log_since(off)[-2000:])
    # Deferred, not lost: b's own kith sync brings the rest as the rate
    # refills (200 a second); one a second, within b's HELLO rate.
    end = time.monotonic() + 120
    while (record_count(W("a")) != before + len(mine) and
           time.monotonic() < end):
        kith(["sync", d.peer], b_home)
        time.sleep(1)
    check(record_count(W("a")) == before + len(mine),
          "%s: later syncs bring every record" % what,
          "a holds %d, wants %d" % (record_count(W("a")),
                                    before + len(mine)))
    after_case(d, what)


# --- main -----------------------------------------------------------------

def check_leftovers():
    """A check: no process whose command line names WORK (this one and
    its caller aside: WORK is their argument) is alive 2 s after the
    daemon's stop; any that is is named and killed."""
    def left():
        r = subprocess.run(["pgrep", "-af", "--", WORK],
                           stdout=subprocess.PIPE, text=True)
        return [line for line in r.stdout.splitlines()
                if int(line.split()[0]) not in (os.getpid(), os.getppid())]
    poll_until(lambda: not left(), 2.0)
    procs = left()
    check(not procs, "no process left behind", "\n".join(procs))
    for line in procs:
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def main():
    global KITH, KITHD, CRAFT, WORK, NETWORK, MEMBER, PCN
    if len(sys.argv) != 4:
        sys.stderr.write("usage: %s KITH KITHD WORKDIR\n" % sys.argv[0])
        return 64
    KITH, KITHD, WORK = (os.path.abspath(a) for a in sys.argv[1:])
    CRAFT = os.environ.get("CRAFT")
    if not CRAFT:
        sys.stderr.write("%s: CRAFT must name the kith-craft binary\n" %
                         sys.argv[0])
        return 64
    random.seed()

    kith_ok(["init", "--name", "A"], W("a"))
    with open(W("charter"), "wb") as f:
        kith_ok(["network", "charter"], W("a"), stdout=f)
    kith_ok(["init", "--join", W("charter"), "--name", "Honest"], W("h"))
    kith_ok(["init", "--join", W("charter"), "--name", "Forger"], W("f"))
    kith_ok(["init", "--join", W("charter"), "--name", "Bulk"], W("b"))
    kith_ok(["init", "--name", "Other"], W("x"))
    # Only members connect: the honest node, the hostile peers' key, and
    # a PCN's.
    MEMBER, PCN = member_keys(), member_keys()
    h_key = kith_ok(["id"], W("h")).stdout.decode().strip()
    b_key = kith_ok(["id"], W("b")).stdout.decode().strip()
    for key, org, role in ((h_key, "Honest", "member"),
                           (b_key, "Bulk", "member"),
                           (MEMBER[0], "Hostile", "member"),
                           (PCN[0], "Hostile PCN", "pcn")):
        kith_ok(["member", "add", key, "--org", org, "--role", role], W("a"))
    for to, cat in ((h_key, "pcn-scope-other"), (PCN[0], "pcn-scope-own")):
        kith_ok(["referral", "send", "--to", to, "--category", cat,
                 "--reason", "test", "--consent", "care",
                 "--consent-recorded-by", "A"], W("a"))
    for area in ("N17", "TW3", "SW1A"):
        kith_ok(["request", "add", "--category", "food", "--area", area],
                W("a"))
    for area in ("N1", "N2", "N3", "N4", "N5"):
        kith_ok(["request", "add", "--category", "food", "--area", area],
                W("f"))
    kith_ok(["request", "add", "--category", "food", "--area", "E1"],
            W("x"))
    for n in "afx":
        kith_ok(["export-records", W(n + ".recs")], W(n))
    _, a_recs = read_recfile(W("a.recs"))
    pcn_key = bytes.fromhex(PCN[0])
    referrals = [sh for sh, _ in a_recs if header(sh)[1] == KIND_REFERRAL]
    own = [sh for sh in referrals if pcn_key in header(sh)[2]]
    other = [sh for sh in referrals if pcn_key not in header(sh)[2]]
    if len(own) != 1 or len(other) != 1:
        raise Fatal("expected a referral to the PCN and one to another, "
                    "got %d and %d" % (len(own), len(other)))

    NETWORK, charter = read_recfile(W("charter"))
    if record_id(charter[0][0]) != NETWORK:
        raise Fatal("the charter's id is not the network id")
    net_a, _ = read_recfile(W("a.recs"))
    net_f, f_recs = read_recfile(W("f.recs"))
    net_x, x_recs = read_recfile(W("x.recs"))
    if not (NETWORK == net_a == net_f) or net_x == NETWORK:
        raise Fatal("network ids: charter %s a %s f %s x %s" % (
            NETWORK.hex(), net_a.hex(), net_f.hex(), net_x.hex()))
    # The Forger's own records: A holds the charter, not these.
    forgers = [e for e in f_recs if e not in charter]
    if len(forgers) != 5:
        raise Fatal("expected 5 records of the Forger's, got %d" %
                    len(forgers))

    d = Daemon(W("a"), W("a.log"))
    ctx = zmq.Context()
    try:
        d.start()
        check(True, "kithd listens on %s" % d.endpoint)
        honest_sync(d, "before any hostile peer")

        case_no_curve(ctx, d)
        case_garbage(ctx, d)
        case_oversized(ctx, d)
        case_recon(ctx, d)
        push_case(ctx, d, "forged signature", "hostile-forger",
                  [forge(forgers[0], 3)], "signature")
        push_case(ctx, d, "another network's records", "hostile-other",
                  x_recs, "network")
        case_flood(ctx, d, forgers)
        case_pcn_scope(ctx, d, other, own)
        case_refused(ctx, d)
        case_ban(ctx, d)
        case_revoked(ctx, d)
        case_sessions(ctx, d)
        case_hello_flood(ctx, d)
        case_author_rate(ctx, d, W("b"))
        case_pull_flood(ctx, d)

        a = kith_ok(["digest"], W("a")).stdout.strip()
        h = kith_ok(["digest"], W("h")).stdout.strip()
        check(a == h and a, "honest node's digest equals the node's",
              "a %s\nh %s" % (a, h))

        off = d.log_size()
        rc = d.stop(signal.SIGTERM)
        check(rc == 0, "kithd exits 0 on SIGTERM", "exit status %s" % rc)
        stop = d.wait_log(off, r"info kithd: stop rejected=\d+ dropped=\d+$",
                          deadline=1.0)
        m = re.search(r"stop rejected=(\d+) dropped=(\d+)$", stop or "")
        check(m and int(m.group(1)) >= 2 and int(m.group(2)) >= 3,
              "stop line counts rejected>=2 dropped>=3", "line %r" % stop)
        if m:
            last = d.log().rstrip().splitlines()[-1]
            check(last == stop, "the stop line is the log's last",
                  "last line %r" % last)
    except Fatal as e:
        check(False, "setup or run: %s" % e)
    finally:
        if d.alive():
            d.stop(signal.SIGKILL)
        ctx.destroy(linger=0)
        check_leftovers()

    print("hostile: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def W(name):
    return os.path.join(WORK, name)


def on_signal(signum, frame_):
    # Unwind, so that the finally in main() stops the daemon.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        sys.exit(main())
    except Fatal as e:
        check(False, "setup: %s" % e)
        print("hostile: %d passed, %d failed" % (passed, failed))
        sys.exit(1)
