#!/usr/bin/env python3
"""Checks the layering of lib/ against lib/layers.txt (docs/architecture.md).

    check_layers.py SOURCE_ROOT [ARCHIVE]

Edges come from two places: every #include "folder/x.h" in lib/, and, when the
static archive of the library is given, every symbol an object of one folder
takes from an object of another (nm), which also sees calls through the public
header. Fails on an edge layers.txt does not allow, on a cycle among the allowed
edges, on an include that does not name its folder, and on a folder of lib/
that layers.txt does not list, and on an include of another folder's *_private.h
(the fields of its handles). Prints the edges it found and what it checked.
"""
import os
import re
import subprocess
import sys


def read_layers(path):
    allowed = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, sep, uses = line.partition(":")
            if not sep or not name.strip():
                sys.exit(f"{path}:{n}: expected 'folder: used folders'")
            allowed[name.strip()] = set(uses.split())
    for f, uses in allowed.items():
        for u in uses - set(allowed):
            sys.exit(f"{path}: {f} uses {u}, which is not a folder listed there")
    return allowed


def find_cycle(graph):
    """A list of folders forming a cycle in graph, or None."""
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def include_edges(lib, public, errors):
    edges = {}
    for folder in sorted(os.listdir(lib)):
        d = os.path.join(lib, folder)
        if not os.path.isdir(d):
            continue
        # a folder's subfolders (one per model kind) belong to its layer
        names = sorted(os.path.relpath(os.path.join(root, f), d)
                       for root, _dirs, files in os.walk(d) for f in files)
        for name in names:
            if not name.endswith((".c", ".h", ".def")):
                continue
            path = os.path.join(d, name)
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if "/" not in target:
                        if target not in public:
                            errors.append(f"lib/{folder}/{name}:{n}: #include \"{target}\" "
                                          "does not name its folder (write \"folder/{target}\")")
                        continue
                    to = target.split("/", 1)[0]
                    if to != folder and target.endswith("_private.h"):
                        errors.append(f"lib/{folder}/{name}:{n}: #include \"{target}\" is "
                                      f"private to lib/{to} (use its _internal.h accessors)")
                    if to != folder:
                        edges.setdefault((folder, to), []).append(f"lib/{folder}/{name}:{n}")
    return edges


def symbol_edges(archive):
    out = subprocess.run(["nm", archive], capture_output=True, text=True, check=True).stdout
    defined, used = {}, {}
    folder = None
    for line in out.splitlines():
        if line.endswith(".o:"):
            m = re.match(r"lib_([a-z0-9]+)_", os.path.basename(line[:-1]))
            folder = m.group(1) if m else None
            continue
        parts = line.split()
        if folder is None or not parts:
            continue
        if len(parts) == 3 and parts[1] in "TDBRVWG":
            defined[parts[2]] = folder
        elif len(parts) == 2 and parts[0] == "U":
            used.setdefault(folder, set()).add(parts[1])
    edges = {}
    for folder, syms in used.items():
        for s in sorted(syms):
            to = defined.get(s)
            if to and to != folder:
                edges.setdefault((folder, to), []).append(s)
    return edges


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    root = sys.argv[1]
    lib = os.path.join(root, "lib")
    allowed = read_layers(os.path.join(lib, "layers.txt"))
    public = set(os.listdir(os.path.join(root, "include")))
    errors = []
    for folder in sorted(os.listdir(lib)):
        if os.path.isdir(os.path.join(lib, folder)) and folder not in allowed:
            errors.append(f"lib/{folder}/ is not listed in lib/layers.txt")
    cycle = find_cycle(allowed)
    if cycle:
        errors.append("lib/layers.txt allows a cycle: " + " -> ".join(cycle))

    found = {}
    for (a, b), where in include_edges(lib, public, errors).items():
        found.setdefault((a, b), []).append(f"include at {where[0]}" +
                                            (f" (+{len(where) - 1})" if len(where) > 1 else ""))
    if len(sys.argv) == 3:
        for (a, b), syms in symbol_edges(sys.argv[2]).items():
            found.setdefault((a, b), []).append(f"calls {syms[0]}" +
                                                (f" (+{len(syms) - 1})" if len(syms) > 1 else ""))
    forbidden = 0
    for (a, b) in sorted(found):
        ok = b in allowed.get(a, set())
        forbidden += not ok
        print(f"{'ok' if ok else 'FORBIDDEN'}  {a} -> {b}: {'; '.join(found[(a, b)])}")
        if not ok:
            errors.append(f"{a} -> {b} is not allowed by lib/layers.txt")
    graph = {}
    for (a, b) in found:
        graph.setdefault(a, set()).add(b)
    cycle = find_cycle(graph)
    if cycle:
        errors.append("the folders form a cycle: " + " -> ".join(cycle))
    print(f"layers: {len(found)} edges between {len(allowed)} folders "
          f"({'includes and symbols' if len(sys.argv) == 3 else 'includes only'}), "
          f"{forbidden} forbidden, {'a cycle' if cycle else 'no cycle'}")
    for e in errors:
        print("layers: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
