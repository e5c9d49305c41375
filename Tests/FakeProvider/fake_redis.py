#!/usr/bin/env python3
"""A fake Redis server for aish's tests, used when no redis-server is installed: speaks
RESP2 over TCP on 127.0.0.1. Python 3 standard library only.

    python3 fake_redis.py [--port 0] [--split] [--keys N] [--cache-keys N] [--nested N] [--error TEXT] [--exit-on-stdin-eof]

Prints "PORT n" first. Commands: PING (+PONG), DBSIZE, INFO [section] (a bulk string with
redis_version and used_memory_human), SCAN cursor [MATCH glob] [COUNT n] (ten keys per
page), SET key value, anything else -ERR. --keys N plain keys and --cache-keys N keys
shaped like LiteLLM's cache keys (64 hex digits) are there from the start. --split writes
every reply one byte at a time, so a client must put replies together across reads.
--nested N wraps every reply in N one-element arrays (a misbehaving server: a client must
bound the depth it decodes).
--error TEXT answers every command with "-ERR TEXT" (a server that quotes what it was given).
"""
import argparse
import fnmatch
import hashlib
import os
import socket
import sys
import threading
import time


def bulk(s):
    b = s.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


class Store:
    def __init__(self, plain, cache):
        self.lock = threading.Lock()
        self.keys = {}
        for i in range(plain):
            self.keys["key:%d" % i] = "v"
        for i in range(cache):
            self.keys[hashlib.sha256(str(i).encode()).hexdigest()] = "{}"


def read_command(f):
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.decode().split()
    n = int(line[1:])
    words = []
    for _ in range(n):
        size = int(f.readline()[1:])
        words.append(f.read(size + 2)[:-2].decode())
    return words


def reply(store, words, error=None):
    if error:
        return b"-ERR %s\r\n" % error.encode()
    cmd = words[0].upper() if words else ""
    if cmd == "PING":
        return b"+PONG\r\n"
    if cmd == "DBSIZE":
        with store.lock:
            return b":%d\r\n" % len(store.keys)
    if cmd == "INFO":
        return bulk("# Server\r\nredis_version:7.0.15-fake\r\n# Memory\r\nused_memory_human:1.02M\r\n")
    if cmd == "SET" and len(words) == 3:
        with store.lock:
            store.keys[words[1]] = words[2]
        return b"+OK\r\n"
    if cmd == "SCAN" and len(words) >= 2:
        cursor = int(words[1])
        pattern = "*"
        if "MATCH" in [w.upper() for w in words]:
            pattern = words[[w.upper() for w in words].index("MATCH") + 1]
        with store.lock:
            names = sorted(store.keys)
        page = names[cursor:cursor + 10]
        nxt = cursor + 10 if cursor + 10 < len(names) else 0
        found = [k for k in page if fnmatch.fnmatchcase(k, pattern)]
        return b"*2\r\n" + bulk(str(nxt)) + b"*%d\r\n" % len(found) + b"".join(bulk(k) for k in found)
    return b"-ERR unknown command '%s'\r\n" % cmd.encode()


def serve(conn, store, split, nested, error):
    f = conn.makefile("rb")
    try:
        while True:
            words = read_command(f)
            if words is None:
                return
            data = reply(store, words, error)
            if nested:
                data = b"*1\r\n" * nested + data
            if split:
                for i in range(len(data)):
                    conn.sendall(data[i:i + 1])
                    time.sleep(0.0005)
            else:
                conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--split", action="store_true")
    p.add_argument("--keys", type=int, default=0)
    p.add_argument("--cache-keys", type=int, default=0)
    p.add_argument("--nested", type=int, default=0)
    p.add_argument("--error")
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    args = p.parse_args()
    store = Store(args.keys, args.cache_keys)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port))
    s.listen(16)
    print("PORT %d" % s.getsockname()[1], flush=True)
    if args.exit_on_stdin_eof:
        def watch():
            while sys.stdin.buffer.read(1024):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, store, args.split, args.nested, args.error), daemon=True).start()


if __name__ == "__main__":
    main()
