"""Shared helpers for Monomesh's integration tests (Python 3 standard library only).

The tests run the real `monomesh` binary. CTest passes its path in MONOMESH_BIN and the Istio
sample folder in MONOMESH_SAMPLES; run by hand, both fall back to the usual places in the tree:

    cd test/integration && MONOMESH_BIN=../../build/cmd/monomesh/monomesh python3 -m unittest -v cli_test
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))

# Every subprocess gets this many seconds; a command that takes longer is a test failure.
TIMEOUT = 20


def binary():
    """Path of the monomesh binary under test; fails loudly when it is not built."""
    path = os.environ.get("MONOMESH_BIN") or os.path.join(SOURCE_DIR, "build", "cmd", "monomesh", "monomesh")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError(
            "monomesh binary not found at %s: build it (ninja -C build monomesh) or set MONOMESH_BIN" % path)
    return path


def samples_dir():
    """The shared Istio sample folder, or None when this checkout has none."""
    path = os.environ.get("MONOMESH_SAMPLES") or os.path.join(SOURCE_DIR, "..", "shared", "istio-samples")
    path = os.path.normpath(path)
    return path if os.path.isdir(path) else None


class Result:
    """What one run of the binary did. stdout/stderr are text (undecodable bytes replaced);
    stdout_bytes/stderr_bytes are exactly what was written."""

    def __init__(self, args, returncode, stdout_bytes, stderr_bytes):
        self.args = args
        self.returncode = returncode
        self.stdout_bytes = stdout_bytes
        self.stderr_bytes = stderr_bytes
        self.stdout = stdout_bytes.decode("utf-8", errors="replace")
        self.stderr = stderr_bytes.decode("utf-8", errors="replace")

    @property
    def stderr_lines(self):
        return self.stderr.splitlines()

    @property
    def stdout_lines(self):
        return self.stdout.splitlines()

    @property
    def signal_name(self):
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return "signal %d" % -self.returncode

    def __repr__(self):
        def cut(s):
            return s if len(s) <= 2000 else s[:2000] + "...[%d more chars]" % (len(s) - 2000)
        return "monomesh %s -> exit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.args), self.signal_name or self.returncode, cut(self.stdout), cut(self.stderr))


def run(*args, input=None, timeout=TIMEOUT, cwd=None, env=None, preexec_fn=None, wrapper=()):
    """Runs `monomesh ARGS...` and returns a Result. `input` (str or bytes) is standard input;
    without it standard input is empty. A run that outlives `timeout` is killed and fails the test.
    `wrapper` is a command put in front of the binary (e.g. strace)."""
    args = [str(a) for a in args]
    if isinstance(input, str):
        input = input.encode("utf-8")
    command = list(wrapper) + [binary()] + args
    try:
        done = subprocess.run(command, input=input if input is not None else b"", capture_output=True,
                              timeout=timeout, cwd=cwd, env=env, preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("monomesh %s did not finish within %ss (killed); stderr so far: %r"
                             % (" ".join(args), timeout, (e.stderr or b"")[-2000:]))
    return Result(args, done.returncode, done.stdout, done.stderr)


def limit_memory(max_bytes):
    """A preexec_fn that caps the child's address space, so a runaway run cannot take the machine.
    Under AddressSanitizer (MONOMESH_SANITIZER set by `make test-asan`) the cap is left off: ASan
    reserves terabytes of shadow address space up front, and its own allocator limits apply."""
    if os.environ.get("MONOMESH_SANITIZER"):
        return None

    def apply():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return apply


class TempDir:
    """A temporary folder that goes away with the test: `d = TempDir(self)`, `d.write("a.yaml", text)`."""

    def __init__(self, test_case=None):
        self.path = tempfile.mkdtemp(prefix="monomesh-it-")
        if test_case is not None:
            test_case.addCleanup(self.remove)

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def write(self, name, content):
        path = self.join(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)
        return path

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port, host="127.0.0.1"):
    """True when nothing holds `port`: we can bind it ourselves (without SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class MonomeshTestCase(unittest.TestCase):
    """Assertions shared by the integration tests."""

    maxDiff = None

    def assertExit(self, result, code):
        self.assertIsNone(result.signal_name, "killed by a signal:\n%r" % result)
        self.assertEqual(result.returncode, code, "unexpected exit code:\n%r" % result)

    def assertNoCrash(self, result, allowed=(0, 1, 2)):
        self.assertIsNone(result.signal_name, "killed by a signal:\n%r" % result)
        self.assertIn(result.returncode, allowed, "unexpected exit code:\n%r" % result)

    def assertOneStderrLine(self, result):
        """Exactly one line on stderr and nothing on stdout; returns that line."""
        self.assertEqual(len(result.stderr_lines), 1, "expected exactly one line on stderr:\n%r" % result)
        self.assertEqual(result.stdout, "", "expected nothing on stdout:\n%r" % result)
        return result.stderr_lines[0]
