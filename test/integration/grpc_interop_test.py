"""gRPC interoperability: Monomesh's gRPC server and client (modules/net/grpc) against a real gRPC
implementation, python3-grpcio from Debian, in both directions. The C++ side is the test program
grpc_interop_peer (test/net), whose path CTest passes in GRPC_INTEROP_PEER."""
import os
import subprocess
import threading
import time
import unittest
from concurrent import futures

try:
    import grpc
except ImportError:  # pragma: no cover - setup.sh installs python3-grpcio
    grpc = None

PEER = os.environ.get("GRPC_INTEROP_PEER", "")
IDENTITY = (lambda b: b)


def echo_handlers():
    def unary(request, context):
        return request

    def fail(request, context):
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not today: 100% sure\n")

    def server_stream(request, context):
        for i in range(int(request.decode() or "0")):
            yield ("item-%d" % i).encode()
        context.set_trailing_metadata((("x-count", request.decode()),))

    def client_stream(requests, context):
        return b"".join(requests)

    def bidi(requests, context):
        for r in requests:
            yield b"echo:" + r

    def hang(requests, context):
        for _ in requests:
            pass
        while context.is_active():
            time.sleep(0.01)
        return b""

    rpc = grpc
    return grpc.method_handlers_generic_handler("test.Echo", {
        "Unary": rpc.unary_unary_rpc_method_handler(unary, IDENTITY, IDENTITY),
        "Fail": rpc.unary_unary_rpc_method_handler(fail, IDENTITY, IDENTITY),
        "ServerStream": rpc.unary_stream_rpc_method_handler(server_stream, IDENTITY, IDENTITY),
        "ClientStream": rpc.stream_unary_rpc_method_handler(client_stream, IDENTITY, IDENTITY),
        "Bidi": rpc.stream_stream_rpc_method_handler(bidi, IDENTITY, IDENTITY),
        "Hang": rpc.stream_unary_rpc_method_handler(hang, IDENTITY, IDENTITY),
    })


@unittest.skipIf(grpc is None, "python3-grpcio is not installed (scripts/setup.sh installs it)")
class PythonClientToMonomeshServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(PEER):
            raise AssertionError("grpc_interop_peer not built (GRPC_INTEROP_PEER=%r)" % PEER)
        cls.proc = subprocess.Popen([PEER, "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = int(cls.proc.stdout.readline())
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        grpc.channel_ready_future(cls.channel).result(timeout=10)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.proc.stdin.close()
        cls.proc.wait(timeout=10)

    def method(self, kind, name):
        return getattr(self.channel, kind)("/test.Echo/" + name, request_serializer=IDENTITY,
                                            response_deserializer=IDENTITY)

    def test_unary(self):
        self.assertEqual(self.method("unary_unary", "Unary")(b"hello", timeout=5), b"hello")

    def test_large_message(self):
        body = os.urandom(1024 * 1024)
        self.assertEqual(self.method("unary_unary", "Unary")(body, timeout=10), body)

    def test_error_status_and_message(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.method("unary_unary", "Fail")(b"x", timeout=5)
        self.assertEqual(err.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(err.exception.details(), "not today: 100% sure\n")

    def test_unknown_method(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.method("unary_unary", "Missing")(b"x", timeout=5)
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_server_streaming_with_trailers(self):
        call = self.method("unary_stream", "ServerStream")(b"250", timeout=5)
        items = list(call)
        self.assertEqual(len(items), 250)
        self.assertEqual(items[-1], b"item-249")
        self.assertIn(("x-count", "250"), tuple(call.trailing_metadata()))

    def test_client_streaming(self):
        result = self.method("stream_unary", "ClientStream")(iter([b"ab"] * 100), timeout=5)
        self.assertEqual(result, b"ab" * 100)

    def test_bidi_streaming(self):
        replies = list(self.method("stream_stream", "Bidi")(iter([b"m%d" % i for i in range(20)]), timeout=5))
        self.assertEqual(replies, [b"echo:m%d" % i for i in range(20)])

    def test_deadline(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.method("stream_unary", "Hang")(iter([b"x"]), timeout=0.2)
        self.assertEqual(err.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_cancellation(self):
        event = threading.Event()

        def requests():
            yield b"x"
            event.wait(5)

        future = self.method("stream_unary", "Hang").future(requests(), timeout=5)
        time.sleep(0.1)
        future.cancel()
        event.set()
        self.assertTrue(future.cancelled())


@unittest.skipIf(grpc is None, "python3-grpcio is not installed (scripts/setup.sh installs it)")
class MonomeshClientToPythonServer(unittest.TestCase):
    def test_every_call_shape(self):
        if not os.path.isfile(PEER):
            raise AssertionError("grpc_interop_peer not built (GRPC_INTEROP_PEER=%r)" % PEER)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers((echo_handlers(),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            out = subprocess.run([PEER, "client", str(port)], capture_output=True, text=True, timeout=60)
        finally:
            server.stop(0)
        lines = out.stdout.splitlines()
        for name in ("unary", "error_status", "unimplemented", "server_streaming", "client_streaming",
                     "bidi_streaming", "deadline", "large_message"):
            self.assertIn("PASS " + name, lines, out.stdout + out.stderr)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
