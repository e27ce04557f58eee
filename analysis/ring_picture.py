#!/usr/bin/python3
"""Pictures of a shared ring (a Xen blkif or netif ring, a virtqueue) at chosen instants, from a pvsim trace.

Usage:
  /usr/bin/python3 analysis/ring_picture.py TRACE.json --ring NAME [--at T] [--frames K --every DT] [--slots N]
                                            [-o ring.png | -o ring.gif]
  NAME is the ring's name in the trace (`one_xvda.ring0`, `vif.rx1`, `vda.vq0`); T and DT in microseconds of
  simulated time (default: the middle of the trace's window; 1 frame). `-o x.gif` writes an animated GIF of the
  frames (one frame every half second), any other name a PNG strip. Example, after the README's first command:
  /usr/bin/python3 analysis/ring_picture.py out/trace.json --ring one_xvda.ring0 --frames 6 --every 20 -o ring.gif

Each frame draws the ring's slots around a circle from the ring's true indices at that instant (the trace's
"NAME indices" counters, which `pvsim run --trace` writes at every change, for every request, sampled or not):
- orange: requests published by the frontend and not yet taken by the backend (req_cons .. req_prod);
- blue: requests the backend took and has not answered (rsp_prod .. req_cons);
- green: responses published and not yet taken by the frontend (rsp_cons .. rsp_prod);
- white: free slots.
Arrows mark the producer and consumer indices and the two event indices: req_event (the frontend's push notifies
the backend only if it reaches it) and rsp_event (the same for the backend's response pushes); an event index the
producer has already passed is grey, "(passed)": no push notifies until the other end writes it again, before it
sleeps. The traced requests' ids are written in the slots they hold (from the ring's "steps" track). A virtqueue uses its
own names (avail.idx, avail_event, used.idx, used_event, last_avail_idx, last_used_idx). On a net Rx ring the
"requests" are the buffers the frontend posted and the responses the packets that filled them.
The ring's size comes from the trace (otherData.rings); --slots overrides it. Leaves out: the slots' contents (which
request is in which slot: see the ring's "steps" track in the trace), and a virtqueue's descriptor table (only the
avail and used rings are drawn). Prints one line per frame (the slots in each state, all six indices) and writes
the picture; exit 2 on bad arguments, a ring the trace does not have, an instant outside its counters, or a trace
written before the index counters existed.
"""
import argparse
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402
from matplotlib.patches import Patch, Wedge  # noqa: E402

XEN = ["req_prod", "req_event", "rsp_prod", "rsp_event", "req_cons", "rsp_cons"]
VRING = ["avail.idx", "avail_event", "used.idx", "used_event", "last_avail_idx", "last_used_idx"]
COLOURS = {"free": "white", "published": "tab:orange", "backend": "tab:blue", "response": "tab:green"}
LEGEND = {"published": "published, not taken", "backend": "at the backend", "response": "response not yet taken",
          "free": "free"}


class BadInput(Exception):
    pass


def ring_samples(trace, ring):
    """[(ts_us, [six indices in XEN order])] from the ring's index counters, in time order, and the names used."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    samples = []
    names = None
    for e in events:
        if e.get("ph") == "C" and e.get("name") == ring + " indices":
            args = e["args"]
            if names is None:
                names = XEN if "req_prod" in args else VRING
            samples.append((e["ts"], [args[n] for n in names]))
    if not samples:
        tracks = {e["args"]["name"].split(" #")[0] for e in events
                  if e.get("ph") == "M" and e.get("name") == "thread_name"}
        if ring in tracks:
            raise BadInput(f"the trace has the track '{ring}' but no '{ring} indices' counters: it was written by an "
                           f"older pvsim; run `pvsim run ... --trace` again")
        raise BadInput(f"no track named '{ring}' with index counters (rings in the trace: "
                       f"{', '.join(sorted(ring_names(trace))) or 'none'})")
    samples.sort(key=lambda s: s[0])
    return samples, names


def ring_requests(trace, ring):
    """[(first_us, last_us, slot, request id)] of the traced requests whose steps on the ring the trace has (its
    "NAME steps" track): the slot each one held from its first step to its last."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    tracks = {(e["pid"], e["tid"]) for e in events
              if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"]["name"] == ring + " steps"}
    spans = {}
    for e in events:
        if e.get("ph") == "i" and (e["pid"], e["tid"]) in tracks and "request" in e.get("args", {}):
            a = e["args"]
            first, last, slot = spans.get(a["request"], (e["ts"], e["ts"], a["slot"]))
            spans[a["request"]] = (min(first, e["ts"]), max(last, e["ts"]), slot)
    return [(first, last, slot, rid) for rid, (first, last, slot) in spans.items()]


def ring_names(trace):
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return {e["name"][:-len(" indices")] for e in events if e.get("ph") == "C" and e["name"].endswith(" indices")}


def at(samples, t):
    """The indices in force at t: the last sample at or before it."""
    last = None
    for ts, values in samples:
        if ts > t:
            break
        last = values
    if last is None:
        raise BadInput(f"t = {t:.3f} us is before the ring's first index sample ({samples[0][0]:.3f} us)")
    return last


def states(values, slots, bits):
    """Each slot's state from the indices (modular arithmetic on `bits`-bit free-running indices)."""
    req_prod, _, rsp_prod, _, req_cons, rsp_cons = values
    mod = 1 << bits

    def span(a, b):  # indices a .. b-1
        return [(a + i) % mod for i in range((b - a) % mod)]
    state = ["free"] * slots
    for name, (a, b) in (("response", (rsp_cons, rsp_prod)), ("backend", (rsp_prod, req_cons)),
                         ("published", (req_cons, req_prod))):
        for idx in span(a, b):
            state[idx % slots] = name
    return state


def armed(event, prod, bits):
    """Will a push notify when it reaches `event`? Only if the event index is still ahead of the producer's; once the
    producer has passed it, nothing notifies until the other end writes it again (its final check before sleeping)."""
    ahead = (event - prod) % (1 << bits)
    return 0 < ahead < (1 << (bits - 1))


def draw(ax, values, names, slots, bits, t, requests=()):
    ax.clear()
    state = states(values, slots, bits)
    for i in range(slots):
        theta1 = 90 - (i + 1) * 360 / slots
        ax.add_patch(Wedge((0, 0), 1.0, theta1, theta1 + 360 / slots, width=0.35, facecolor=COLOURS[state[i]],
                           edgecolor="black", linewidth=0.6))
    if slots <= 64:  # the traced requests' ids in the slots they hold (the trace samples requests)
        for first, last, slot, rid in requests:
            if first <= t <= last and state[slot % slots] != "free":
                angle = math.radians(90 - (slot % slots + 0.5) * 360 / slots)
                ax.text(0.825 * math.cos(angle), 0.825 * math.sin(angle), str(rid), fontsize=3.5, ha="center",
                        va="center", rotation=math.degrees(angle) - 90)
    arrows = ((0, 1.18, "tab:orange"), (4, 1.30, "tab:blue"), (2, 1.42, "tab:green"), (5, 1.54, "black"),
              (1, 0.45, "tab:red"), (3, 0.25, "tab:purple"))
    for k, radius, colour in arrows:
        label = names[k]
        if k in (1, 3) and not armed(values[k], values[k - 1], bits):
            label, colour = names[k] + " (passed)", "grey"
        angle = math.radians(90 - (values[k] % slots + 0.5) * 360 / slots)
        x, y = math.cos(angle), math.sin(angle)
        inside = radius < 1
        tip = 0.6 if inside else 1.02
        ax.annotate(label, xy=(tip * x, tip * y), xytext=(radius * x, radius * y), fontsize=6, color=colour,
                    ha="center", va="center", arrowprops={"arrowstyle": "->", "color": colour, "lw": 0.8})
    used = slots - state.count("free")
    counts = {s: state.count(s) for s in ("published", "backend", "response")}
    print(f"t_us={t:.3f} used={used} published={counts['published']} backend={counts['backend']} "
          f"responses={counts['response']} " + " ".join(f"{n}={v}" for n, v in zip(names, values)))
    ax.set_title(f"t = {t / 1000:.4f} ms: {used}/{slots} slots used\n{counts['published']} published, "
                 f"{counts['backend']} at the backend, {counts['response']} responses", fontsize=8)
    ax.set_xlim(-1.75, 1.75)
    ax.set_ylim(-1.75, 1.75)
    ax.set_aspect("equal")
    ax.axis("off")
    return used


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--ring", required=True)
    ap.add_argument("--slots", type=int, help="the ring's size (default: from the trace)")
    ap.add_argument("--at", type=float, help="first instant, in us of simulated time")
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--every", type=float, default=20.0, help="us between frames")
    ap.add_argument("-o", "--out", default="ring.png", help="a .gif is animated, anything else a PNG strip")
    args = ap.parse_args(argv)
    if (args.slots is not None and args.slots < 1) or args.frames < 1 or args.every <= 0:
        print("ring_picture.py: --slots, --frames and --every must be positive", file=sys.stderr)
        return 2
    try:
        with open(args.trace) as f:
            trace = json.load(f)
        samples, names = ring_samples(trace, args.ring)
        info = trace.get("otherData", {}).get("rings", {}).get(args.ring, {}) if isinstance(trace, dict) else {}
        slots = args.slots or info.get("slots") or 0
        if slots < 1:
            raise BadInput(f"the trace does not give the size of '{args.ring}': pass --slots")
        bits = 32 if names is XEN else 16
        peak = max((v[0] - v[5]) % (1 << bits) for _, v in samples)
        if peak > slots:
            raise BadInput(f"'{args.ring}' holds up to {peak} entries, more than --slots {slots}")
        t0 = args.at if args.at is not None else (samples[0][0] + samples[-1][0]) / 2
        times = [t0 + k * args.every for k in range(args.frames)]
        frames = [at(samples, t) for t in times]
        requests = ring_requests(trace, args.ring)
    except (OSError, ValueError, KeyError) as e:
        print(f"ring_picture.py: {args.trace}: {e}", file=sys.stderr)
        return 2
    except BadInput as e:
        print(f"ring_picture.py: {args.trace}: {e}", file=sys.stderr)
        return 2
    legend = [Patch(facecolor=COLOURS[s], edgecolor="black", label=LEGEND[s]) for s in LEGEND]
    caption = (f"{args.ring}: a push notifies the other end only if it passes its event index "
               f"({names[1]} for requests, {names[3]} for responses)")
    if args.out.lower().endswith(".gif"):
        fig, ax = plt.subplots(figsize=(4.6, 4.9))
        fig.legend(handles=legend, loc="lower center", ncol=2, fontsize=7, frameon=False)
        fig.suptitle(caption, fontsize=7)

        def frame(k):
            draw(ax, frames[k], names, slots, bits, times[k], requests)
            return []
        anim = FuncAnimation(fig, frame, frames=len(frames), init_func=lambda: [], blit=False, repeat=True)
        anim.save(args.out, writer=PillowWriter(fps=2))
        print(f"frames={len(frames)}")
    else:
        fig, axes = plt.subplots(1, args.frames, figsize=(3.3 * args.frames, 3.9), squeeze=False)
        for k in range(args.frames):
            draw(axes[0][k], frames[k], names, slots, bits, times[k], requests)
        fig.legend(handles=legend, loc="lower center", ncol=4, fontsize=7, frameon=False)
        fig.suptitle(caption, fontsize=9)
        fig.tight_layout(rect=(0, 0.06, 1, 0.92))
        fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
