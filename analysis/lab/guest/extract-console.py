#!/usr/bin/python3
"""pvsim lab: recover the results archive a lab guest printed on its console.

Usage: extract-console.py CONSOLE_LOG DEST_DIR

The guest prints "PVSIM-BEGIN results.tgz <bytes> <md5> <copy>", the archive in base64, then
"PVSIM-END results.tgz <copy>", twice. Kernel messages may land inside a block: every line that is not pure base64
is dropped. The first copy whose size and md5 match is unpacked into DEST_DIR. Exit 0 when one copy was good,
1 otherwise (with the reason on the last line of stdout).
"""
import base64
import hashlib
import io
import re
import sys
import tarfile

B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def blocks(text):
    cur = None
    for raw in text.splitlines():
        line = raw.replace("\r", "").strip()
        # a marker may follow stray output on the same line
        i = line.find("PVSIM-BEGIN results.tgz ")
        if i >= 0:
            parts = line[i:].split()
            if len(parts) >= 5:
                cur = {"size": int(parts[2]), "md5": parts[3], "copy": parts[4], "lines": []}
            continue
        if "PVSIM-END results.tgz" in line:
            if cur is not None:
                yield cur
            cur = None
            continue
        if cur is not None:
            if B64.match(line):
                cur["lines"].append(line)
            else:
                cur.setdefault("dropped", 0)
                cur["dropped"] += 1


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    with open(sys.argv[1], "rb") as f:
        text = f.read().decode("utf-8", "replace")
    found = 0
    for b in blocks(text):
        found += 1
        try:
            data = base64.b64decode("".join(b["lines"]), validate=False)
        except ValueError as e:
            print(f"copy {b['copy']}: base64 error {e}")
            continue
        md5 = hashlib.md5(data).hexdigest()
        if len(data) != b["size"] or md5 != b["md5"]:
            print(f"copy {b['copy']}: {len(data)} bytes md5 {md5}, expected {b['size']} {b['md5']} "
                  f"({b.get('dropped', 0)} stray lines dropped): damaged")
            continue
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            t.extractall(sys.argv[2])
        print(f"copy {b['copy']}: {len(data)} bytes, md5 ok ({b.get('dropped', 0)} stray lines dropped): unpacked")
        return 0
    print(f"no intact results block in the console log ({found} block(s) found)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
