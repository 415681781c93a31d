"""Warm runner for a Python console script (the Toolkit's `cdf`): pays Python's start-up once, forks per command.

Started by activities/process/warm-python.ts as `<the script's interpreter> warm_cdf.py <script> <socket path>`,
with the environment every command shares (no credentials) and fd 3 as its control channel (JSON lines):

  worker -> helper  {"op": "run", "id", "token", "argv", "cwd", "env"}
  helper -> worker  {"ev": "ready", "preloaded"} | {"ev": "started", "id", "pid"}
                    | {"ev": "exit", "id", "code", "signal"} | {"ev": "failed", "id", "error"}

Per command the helper connects two streams to the worker's unix socket (its stdout and stderr, a token line
first), forks, and the child becomes what `spawn(script, args, {detached: true, stdio: ['ignore', 'pipe',
'pipe']})` would have started: its own session, stdin /dev/null, the connections as fds 1 and 2 (Node's stdio
pipes are unix socketpairs too), the command's env, cwd and argv, the script run as __main__, and Python's own
exit rules. Modules whose import reads anything of the command's (the Toolkit's CLI layer reads cdf.toml from the
cwd and environment variables at import time) are imported fresh by each child; the rest is preloaded once.
"""

import json
import os
import selectors
import signal
import socket
import sys
import tempfile

CONTROL_FD = 3
script, sock_path = sys.argv[1], sys.argv[2]
# The variables a command may have beyond the helper's own environment (its target and credentials): names only,
# a trailing * is a prefix. A command whose env differs otherwise is refused (the worker spawns it fresh).
PER_COMMAND = [n for n in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if n]
# Modules this helper found it must not preload on an earlier try (see preload).
EXTRA_REFUSED = [n for n in (sys.argv[4] if len(sys.argv) > 4 else "").split(",") if n]
# Import-time captures of the cwd in preloaded modules, set again in each child: module -> (attribute, value).
FIXUPS = {
    "rich": ("_IMPORT_CWD", lambda: os.path.abspath(os.getcwd())),
    "multiprocessing.process": ("ORIGINAL_DIR", lambda: os.path.abspath(os.getcwd())),
}
# Never preloaded, nor what imports them: the CLI layer (module-level cdf.toml reads, and dates).
NOT_PRELOADED = ("__main__", "cognite_toolkit._cdf_tk.apps")


def per_command(key):
    return any(key == n or (n.endswith("*") and key.startswith(n[:-1])) for n in PER_COMMAND)


def log(message):
    # The worker logs this stream; it never carries a command's env, argv or output.
    os.write(2, ("warm_cdf: %s\n" % message).encode())


def die_with_parent():
    # The worker may die by SIGKILL: the control channel closes (handled in the loop) and, as a second line, the
    # kernel sends SIGTERM when the parent goes.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Watch:
    """Notes the modules being imported whenever something the command decides is read: the cwd, an environment
    variable the helper does not share with every command (or the whole environment), sys.argv, or output is
    written. Such modules (and every module importing them) must be imported fresh by each command."""

    def __init__(self):
        import importlib._bootstrap as bootstrap

        self.bootstrap = bootstrap
        self.stack = []
        self.tainted = set()
        self.saved = []

    def taint(self):
        self.tainted.update(self.stack)

    def patch(self, owner, name, value):
        self.saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def __enter__(self):
        watch = self
        real_load = self.bootstrap._load_unlocked
        env_getitem, env_iter = os._Environ.__getitem__, os._Environ.__iter__
        getcwd, getcwdb = os.getcwd, os.getcwdb

        def load(spec):
            watch.stack.append(spec.name)
            try:
                if spec.name.startswith(NOT_PRELOADED):
                    watch.taint()
                return real_load(spec)
            finally:
                watch.stack.pop()

        def env_get(self_, key):
            if per_command(key):
                watch.taint()
            return env_getitem(self_, key)

        def env_all(self_):
            watch.taint()
            return env_iter(self_)

        def cwd():
            if not (watch.stack and watch.stack[-1] in FIXUPS):
                watch.taint()
            return getcwd()

        def cwdb():
            watch.taint()
            return getcwdb()

        class Argv(list):
            # argv[0] is the script, the same for every command; the arguments are the command's.
            def __getitem__(self_, i):
                if i != 0:
                    watch.taint()
                return list.__getitem__(self_, i)

            def __iter__(self_):
                watch.taint()
                return list.__iter__(self_)

            def __len__(self_):
                watch.taint()
                return list.__len__(self_)

        class Out:
            encoding = "utf-8"
            errors = "strict"

            def write(self_, text):
                watch.taint()
                return len(text)

            def flush(self_):
                pass

            def isatty(self_):
                return False

            def fileno(self_):
                watch.taint()
                raise OSError("no fileno while preloading")

        self.patch(self.bootstrap, "_load_unlocked", load)
        self.patch(os._Environ, "__getitem__", env_get)
        self.patch(os._Environ, "__iter__", env_all)
        self.patch(os, "getcwd", cwd)
        self.patch(os, "getcwdb", cwdb)
        self.patch(sys, "argv", Argv([script]))
        self.patch(sys, "stdout", Out())
        self.patch(sys, "stderr", Out())
        return self

    def __exit__(self, *exc):
        for owner, name, value in reversed(self.saved):
            setattr(owner, name, value)
        self.saved = []


def discover_modules():
    """The modules a fresh `cdf` imports that read nothing of the command's, learnt in a throw-away child that
    imports the script's header (its imports, not its `app()` call) in an empty folder."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.chdir(tempfile.mkdtemp(prefix="warm-cdf-"))
            source = open(script, encoding="utf-8").read()
            head, _, _ = source.partition("if __name__")
            with Watch() as watch:
                try:
                    exec(compile(head, script, "exec"), {"__name__": "__warm_probe__"})
                except BaseException:
                    pass
            names = [n for n in list(sys.modules) if n not in watch.tainted]
            os.write(w, json.dumps({"safe": names, "tainted": sorted(watch.tainted)}).encode())
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    found = json.loads(b"".join(chunks) or b"{}")
    return found.get("safe", []), set(found.get("tainted", []))


class Refuse:
    """While preloading, a module that must be imported fresh is not imported at all (nor what needs it)."""

    def __init__(self, names, watch):
        self.names = names
        self.watch = watch
        self.importers = set()

    def find_spec(self, name, path=None, target=None):
        if name in self.names or name.startswith(NOT_PRELOADED):
            self.importers.update(self.watch.stack)
            raise ImportError("imported by each command, not preloaded: " + name)
        return None


def preload(names, tainted):
    import importlib

    count = 0
    with Watch() as watch:
        refuse = Refuse(tainted, watch)
        sys.meta_path.insert(0, refuse)
        for name in names:
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
                count += 1
            except BaseException:
                pass
        sys.meta_path.remove(refuse)
    if watch.tainted:
        # Another import order than the probe's read something of the command's: do not trust this helper.
        log("preloading read the cwd, env or argv, or printed (%s)" % ", ".join(sorted(watch.tainted)[:5]))
        raise SystemExit(3)
    # A module that got over a refused import (an optional dependency) is not what a fresh run has: start again,
    # with it refused too (the set only grows, so this ends).
    swallowed = sorted(m for m in refuse.importers if m in sys.modules and m not in tainted)
    if swallowed:
        extra = sorted(set(EXTRA_REFUSED) | set(swallowed))
        argv = [sys.executable, os.path.abspath(__file__), script, sock_path, ",".join(PER_COMMAND), ",".join(extra)]
        os.execv(sys.executable, argv)
    return count


def run_child(req, out_sock, err_sock, ready_w):
    """In the forked child: become the fresh command, run the script, exit as Python would."""
    os.setsid()
    os.write(ready_w, b"x")
    os.close(ready_w)
    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as the interpreter sets it at start-up
    signal.pthread_sigmask(signal.SIG_SETMASK, set())  # as a spawned process starts
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_sock.fileno(), 1)
    os.dup2(err_sock.fileno(), 2)
    os.close(devnull)
    out_sock.close()
    err_sock.close()
    os.closerange(CONTROL_FD, 256)
    os.environ.clear()
    os.environ.update(req["env"])
    import time

    time.tzset()
    os.chdir(req["cwd"])
    for module, (attribute, value) in FIXUPS.items():
        if module in sys.modules:
            setattr(sys.modules[module], attribute, value())
    sys.argv = list(req["argv"])
    sys.orig_argv = [sys.orig_argv[0]] + list(req["argv"])
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    import types

    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__cached__ = None
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    code = 0
    try:
        with open(script, "rb") as f:
            compiled = compile(f.read(), script, "exec")
        exec(compiled, main.__dict__)
    except SystemExit as e:
        code = exit_code(e)
    except BaseException as e:
        # Python's own report, without this helper's frame at the top.
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        if isinstance(e, KeyboardInterrupt):
            finish()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        code = 1
    os._exit(finish(code))


def exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def finish(code=0):
    """What the interpreter does at exit: wait for threads, run atexit, flush (a failed flush is exit 120)."""
    import atexit
    import threading

    try:
        threading._shutdown()
    except Exception:
        pass
    try:
        atexit._run_exitfuncs()
    except SystemExit as e:
        code = exit_code(e)
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            if code == 0:
                code = 120
    return code


def connect(token, which):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(("%s %s\n" % (token, which)).encode())
    return s


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the worker; it ends us by EOF
    die_with_parent()
    control = socket.socket(fileno=CONTROL_FD)
    control.setblocking(False)

    def send(obj):
        control.setblocking(True)
        control.sendall((json.dumps(obj) + "\n").encode())
        control.setblocking(False)

    names, tainted = discover_modules()
    tainted |= set(EXTRA_REFUSED)
    send({"ev": "ready", "preloaded": preload(names, tainted)})
    sys.stdout.flush()
    sys.stderr.flush()

    children = {}  # pid -> request id
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    sel = selectors.DefaultSelector()
    sel.register(control, selectors.EVENT_READ, "control")
    sel.register(wake_r, selectors.EVENT_READ, "reap")
    buf = b""

    def end_children():
        for pid in list(children):
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass

    def on_term(signum, frame):
        # Stopped by the worker, or the worker died (PR_SET_PDEATHSIG): its commands end with it.
        end_children()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)

    while True:
        for key, _ in sel.select():
            if key.data == "control":
                try:
                    data = control.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    # The worker is gone: its commands must not go on without it (orphan-guard.ts).
                    end_children()
                    os._exit(0)
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    req = json.loads(line)
                    try:
                        differs = [k for k in set(req["env"]) | set(os.environ) if req["env"].get(k) != os.environ.get(k)]
                        if any(not per_command(k) for k in differs):
                            raise ValueError("the command's environment differs beyond its per-command variables")
                        if not os.path.isdir(req["cwd"]) or req["argv"][0] != script:
                            # A fresh spawn reports these as Node does (ENOENT), not as a Python failure.
                            raise ValueError("no such working directory, or another executable")
                        out_sock = connect(req["token"], "stdout")
                        err_sock = connect(req["token"], "stderr")
                        ready_r, ready_w = os.pipe()
                        sys.stdout.flush()
                        sys.stderr.flush()
                        # Until the child is in `children`, a SIGTERM (stop) waits: it must end this child too.
                        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
                        pid = os.fork()
                    except Exception as e:
                        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
                        send({"ev": "failed", "id": req["id"], "error": repr(e)})
                        continue
                    if pid == 0:
                        try:
                            signal.set_wakeup_fd(-1)
                            os.close(ready_r)
                            sel.close()
                            run_child(req, out_sock, err_sock, ready_w)
                        finally:
                            os._exit(1)
                    os.close(ready_w)
                    out_sock.close()
                    err_sock.close()
                    os.read(ready_r, 1)  # the child is its own session before anyone signals its group
                    os.close(ready_r)
                    children[pid] = req["id"]
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
                    send({"ev": "started", "id": req["id"], "pid": pid})
            else:
                # SIGCHLD woke us (set_wakeup_fd): reap every child that ended.
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                while children:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    req_id = children.pop(pid, None)
                    if req_id is None:
                        continue
                    if os.WIFSIGNALED(status):
                        sig = signal.Signals(os.WTERMSIG(status)).name
                        send({"ev": "exit", "id": req_id, "code": None, "signal": sig})
                    else:
                        send({"ev": "exit", "id": req_id, "code": os.WEXITSTATUS(status), "signal": None})

if __name__ == "__main__":
    main()
