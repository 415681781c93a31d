"""Starts the worker's commands (git, the Toolkit's wrappers) from a small process.

Starting a process from the worker blocks its main thread while the kernel copies the worker's page tables, which
grows with the worker's memory: about 8 ms at 260 MB and 30 ms at 680 MB on a 2-core VM, five to seven times per
promotion. From this process (about 10 MB) it takes well under a millisecond.

Started by activities/process/spawn-helper.ts as `python3 spawn_helper.py <socket path>` with fd 3 as its control
channel (JSON lines), the same protocol as warm_cdf.py:

  worker -> helper  {"op": "run", "id", "token", "argv", "cwd", "env"}
  helper -> worker  {"ev": "ready"} | {"ev": "started", "id", "pid"}
                    | {"ev": "exit", "id", "code", "signal"} | {"ev": "failed", "id", "error"}

Per command the helper connects two streams to the worker's unix socket (the command's stdout and stderr, a token
line first), forks, and the child execs the command as `spawn(argv[0], argv.slice(1), {cwd, env, detached: true,
stdio: ['ignore', 'pipe', 'pipe']})` would have started it: its own session, stdin /dev/null, the streams as fds 1
and 2 (Node's stdio pipes are unix socketpairs too), the command's env and cwd, argv[0] looked up in the env's
PATH, default signal dispositions and an empty signal mask. When the exec fails nothing ran: the helper reports
"failed" and the worker spawns the command itself, which reports the error as Node always has.
"""

import json
import os
import selectors
import signal
import socket
import sys

CONTROL_FD = 3
sock_path = sys.argv[1]


def die_with_parent():
    # The worker may die by SIGKILL: the control channel closes (handled in the loop) and, as a second line, the
    # kernel sends SIGTERM when the parent goes.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def connect(token, which):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(("%s %s\n" % (token, which)).encode())
    return s


def exec_child(req, out_sock, err_sock, status_w):
    """In the forked child: become the command. Only returns (to _exit) when the exec failed."""
    os.setsid()
    # Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec; a spawned process starts
    # with every signal at its default and none blocked.
    for sig in range(1, signal.NSIG):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_sock.fileno(), 1)
    os.dup2(err_sock.fileno(), 2)
    argv = req["argv"]
    try:
        os.chdir(req["cwd"])
        os.execvpe(argv[0], argv, req["env"])
    except OSError as e:
        os.write(status_w, str(e.errno or 0).encode())


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the worker; it ends us by EOF
    die_with_parent()
    os.set_inheritable(CONTROL_FD, False)  # a command must not hold the worker's control channel open
    control = socket.socket(fileno=CONTROL_FD)
    control.setblocking(False)

    def send(obj):
        control.setblocking(True)
        control.sendall((json.dumps(obj) + "\n").encode())
        control.setblocking(False)

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
    send({"ev": "ready"})

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
                        out_sock = connect(req["token"], "stdout")
                        err_sock = connect(req["token"], "stderr")
                        # Close-on-exec: EOF once the exec succeeded, the errno when it failed.
                        status_r, status_w = os.pipe()
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
                            os.close(status_r)
                            sel.close()
                            exec_child(req, out_sock, err_sock, status_w)
                        finally:
                            os._exit(127)
                    os.close(status_w)
                    out_sock.close()
                    err_sock.close()
                    failed = b""
                    while True:
                        chunk = os.read(status_r, 64)
                        if not chunk:
                            break
                        failed += chunk
                    os.close(status_r)
                    if failed:
                        os.waitpid(pid, 0)
                        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
                        send({"ev": "failed", "id": req["id"], "error": "exec failed: errno %s" % failed.decode()})
                        continue
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
