#!/usr/bin/python3
"""Compares a vif's XenStore tree as pvsim writes it with a real `xenstore-ls -f` dump, key for key.

Usage: vif_keys_match.py REAL_DUMP SIMULATED_TREE
Every vif key of the real dump (`/local/domain/*/backend/vif/...`, `/local/domain/*/device/vif/...`) must be in the
simulated tree and the other way round; directory nodes (empty, with children) are left out, since only a real
dump lists them. Values must be equal, except those the toolstack's configuration or the guest's grant allocator
chose: mac, script and the ring references. Prints one line per difference and a summary; exit 0 when they match,
1 otherwise.
"""
import sys


def vif_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("/local/domain/") or ' = "' not in line:
                continue
            key, value = line.split(' = "', 1)
            if "/backend/vif" in key or "/device/vif" in key:
                keys[key] = value[:-1] if value.endswith('"') else value
    return {k: v for k, v in keys.items() if v or not any(o.startswith(k + "/") for o in keys)}


def arbitrary(key):
    return key.endswith(("/mac", "/script", "-ring-ref"))


def main():
    real, simulated = vif_keys(sys.argv[1]), vif_keys(sys.argv[2])
    bad = [f"pvsim does not write {k}" for k in sorted(real) if k not in simulated]
    bad += [f"pvsim writes {k}, the real dump does not" for k in sorted(simulated) if k not in real]
    bad += [f"{k}: real {real[k]!r}, pvsim {simulated[k]!r}" for k in sorted(real)
            if k in simulated and not arbitrary(k) and real[k] != simulated[k]]
    for line in bad:
        print(line)
    compared = sum(1 for k in real if k in simulated and not arbitrary(k))
    print(f"{len(real)} keys in the real dump, {len(simulated)} written by pvsim, {compared} values compared, "
          f"{len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
