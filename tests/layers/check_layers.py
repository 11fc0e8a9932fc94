#!/usr/bin/env python3
"""The layering, checked from the #include lines (as trio checks its imports).

    check_layers.py ROOT
    check_layers.py --expect-violations N ROOT   (for the checker's own test, on a fixture)

1. Every folder of src/ is one layer and includes only its own layer and those below it, in
   this order (docs/design.md, "Layers"):
       posix < io < core < task < debug < highlevel < threads < net < proc
   posix: descriptor helpers and OS errors; io: the backends; core: the loop; task: futures
   and tasks; debug: the table aio-ps reads; highlevel: gather, timeouts, locks, generators;
   threads: executors; net: sockets, transports, TLS, streams; proc: subprocesses.
2. A public header (include/aio/) includes only the C++ standard library and other public
   headers: no system, POSIX, OpenSSL, liburing, netdb or spawn header, so a user's
   translation unit gets none of them from aio.
3. The public headers are layered too: core < net < proc. The networking headers (sockets,
   transports and protocols, streams, TLS) and the subprocess one are above the rest, so that
   the loop, tasks and everything asyncio offers without I/O compile without them (the loop
   declares its networking methods with aio/network_options.hpp and forward declarations).
Prints every violation (file:line) and exits 1 if there is one.
"""
import os
import re
import sys

LAYERS = ["posix", "io", "core", "task", "debug", "highlevel", "threads", "net", "proc"]

# The C++20 standard library's headers (C++ names of the C headers included).
STANDARD = set("""
algorithm any array atomic barrier bit bitset cassert cctype cerrno cfenv cfloat charconv chrono
cinttypes climits clocale cmath codecvt compare complex concepts condition_variable coroutine
csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype deque
exception execution filesystem format forward_list fstream functional future initializer_list
iomanip ios iosfwd iostream istream iterator latch limits list locale map memory memory_resource
mutex new numbers numeric optional ostream queue random ranges ratio regex scoped_allocator
semaphore set shared_mutex source_location span sstream stack stdexcept stop_token streambuf
string string_view syncstream system_error thread tuple type_traits typeindex typeinfo
unordered_map unordered_set utility valarray variant vector version
""".split())

# The public headers above the core, by layer (paths under include/); aio.hpp includes all.
PUBLIC_LAYERS = ["core", "net", "proc"]
PUBLIC_ABOVE_CORE = {
    "aio/protocols.hpp": "net",
    "aio/socket.hpp": "net",
    "aio/streams.hpp": "net",
    "aio/server_group.hpp": "net",
    "aio/ssl.hpp": "net",
    "aio/detail/connection_templates.hpp": "net",
    "aio/subprocess.hpp": "proc",
}
UMBRELLA = "aio/aio.hpp"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def includes(path):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1), m.group(2)


def sources(top, suffixes):
    for folder, _, files in os.walk(top):
        for name in sorted(files):
            if name.endswith(suffixes):
                yield os.path.join(folder, name)


def check_src(root):
    errors = []
    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        if folder not in LAYERS:
            errors.append(f"src/{folder}/: a folder that is not a layer (add it to LAYERS)")
    for path in sources(src, (".hpp", ".cpp")):
        layer = os.path.relpath(path, src).split(os.sep)[0]
        if layer not in LAYERS:
            continue
        for number, kind, target in includes(path):
            first = target.split("/")[0]
            if kind != '"' or first not in LAYERS:
                continue
            if LAYERS.index(first) > LAYERS.index(layer):
                errors.append(f"{os.path.relpath(path, root)}:{number}: the {layer} layer "
                              f"includes {target}, of the {first} layer above it")
    return errors


def check_public(root):
    errors = []
    top = os.path.join(root, "include")
    for path in sources(os.path.join(top, "aio"), (".hpp",)):
        header = os.path.relpath(path, top).replace(os.sep, "/")
        layer = PUBLIC_ABOVE_CORE.get(header, "core")
        for number, kind, target in includes(path):
            if kind == '"' and target.startswith("aio/"):
                above = PUBLIC_ABOVE_CORE.get(target, "core")
                if header != UMBRELLA and (PUBLIC_LAYERS.index(above) >
                                           PUBLIC_LAYERS.index(layer)):
                    errors.append(f"{os.path.relpath(path, root)}:{number}: the public {layer} "
                                  f"header includes {target}, of the {above} layer above it")
                continue
            if kind == "<" and target in STANDARD:
                continue
            errors.append(f"{os.path.relpath(path, root)}:{number}: a public header includes "
                          f"{'<' + target + '>' if kind == '<' else target}, which is neither "
                          f"the standard library nor aio's")
    return errors


def main():
    args = sys.argv[1:]
    expected = 0
    if args[:1] == ["--expect-violations"]:
        expected = int(args[1])
        args = args[2:]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..")
    errors = check_src(root) + check_public(root)
    for e in errors:
        print(e)
    if len(errors) != expected:
        print(f"FAILED: {len(errors)} violations, {expected} expected")
        sys.exit(1)
    print("layers: ok" if not errors else f"layers: the {expected} expected violations")


if __name__ == "__main__":
    main()
