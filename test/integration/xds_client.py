"""A real xDS client from another gRPC implementation (python3-grpcio, gRPC's C core) for
Monomesh's ADS server: Envoy's v3 protos, compiled from third_party/ with protoc at first use.

    client = AdsClient("127.0.0.1:15010", node_id="sidecar~10.1.0.1~pp.default~default.svc.cluster.local")
    response = client.subscribe(CDS)          # first request for a type
    client.ack(response)                       # or client.nack(response, "why")
    client.close()
"""
import os
import queue
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
THIRD_PARTY = os.path.normpath(os.path.join(HERE, "..", "..", "third_party"))

CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
ADS_METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"

_compiled = None


def protos():
    """Compiles every .proto under third_party/ once per process; returns the module namespace."""
    global _compiled
    if _compiled is None:
        out = tempfile.mkdtemp(prefix="monomesh-pyxds-")
        files = []
        for root, _, names in os.walk(THIRD_PARTY):
            files += [os.path.relpath(os.path.join(root, n), THIRD_PARTY) for n in names if n.endswith(".proto")]
        subprocess.run(["protoc", "-I", THIRD_PARTY, "-I", "/usr/include", "--python_out", out] + sorted(files),
                       check=True, capture_output=True)
        sys.path.insert(0, out)
        import importlib
        mods = {}
        for name in ["envoy.service.discovery.v3.discovery_pb2", "envoy.config.cluster.v3.cluster_pb2",
                     "envoy.config.endpoint.v3.endpoint_pb2", "envoy.config.listener.v3.listener_pb2",
                     "envoy.config.route.v3.route_pb2",
                     "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
                     "envoy.extensions.filters.network.tcp_proxy.v3.tcp_proxy_pb2",
                     # Galley's MCP envelope and the bodies it carries (unpack_mcp).
                     "istio.mcp.v1alpha1.resource_pb2", "istio.networking.v1alpha3.virtual_service_pb2",
                     "istio.networking.v1alpha3.destination_rule_pb2", "istio.networking.v1alpha3.gateway_pb2",
                     "istio.authentication.v1alpha1.policy_pb2", "k8s.api.core.v1.core_pb2"]:
            mods[name.split(".")[-1]] = importlib.import_module(name)
        _compiled = type("Protos", (), mods)
    return _compiled


TYPES = None


def message_class(type_url):
    p = protos()
    return {CDS: p.cluster_pb2.Cluster, EDS: p.endpoint_pb2.ClusterLoadAssignment,
            LDS: p.listener_pb2.Listener, RDS: p.route_pb2.RouteConfiguration}[type_url]


def unpack(response):
    """The resources of a DiscoveryResponse as messages of its type."""
    cls = message_class(response.type_url)
    out = []
    for any_ in response.resources:
        m = cls()
        m.ParseFromString(any_.value)
        out.append(m)
    return out


MCP_RESOURCE = "type.googleapis.com/istio.mcp.v1alpha1.Resource"


def unpack_mcp(response):
    """Galley's resources (MCP over xDS): {"namespace/name": (metadata, body message)}."""
    from google.protobuf import symbol_database
    p = protos()
    out = {}
    for any_ in response.resources:
        assert any_.type_url == MCP_RESOURCE, any_.type_url
        r = p.resource_pb2.Resource()
        r.ParseFromString(any_.value)
        body = symbol_database.Default().GetSymbol(r.body.type_url.split("/", 1)[1])()
        body.ParseFromString(r.body.value)
        out[r.metadata.name] = (r.metadata, body)
    return out


class _Stream:
    """One ADS stream over python3-grpcio: requests go in through a queue, a thread collects the
    responses; the first request carries the node."""

    def __init__(self, target, node_id, method, response_class, what, metadata=None):
        import grpc
        self.p = protos()
        self.channel = grpc.insecure_channel(target)
        self.requests = queue.Queue()
        self.responses = queue.Queue()
        self.node_id = node_id
        self.metadata = metadata or {}
        self.first = True
        self.what = what
        self.response_name = response_class.DESCRIPTOR.name
        call = self.channel.stream_stream(method, request_serializer=lambda m: m.SerializeToString(),
                                          response_deserializer=response_class.FromString)
        self.stream = call(iter(self.requests.get, None))
        self.error = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for response in self.stream:
                self.responses.put(response)
        except Exception as e:  # the stream's end status (grpc.RpcError)
            self.error = e
        self.responses.put(None)

    def _send(self, request):
        if self.first:
            request.node.id = self.node_id
            for k, v in self.metadata.items():
                request.node.metadata.fields[k].string_value = v
            self.first = False
        self.requests.put(request)

    def next(self, timeout=10):
        """The next response (any type); raises on timeout or a closed stream."""
        try:
            response = self.responses.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no %s within %ss" % (self.response_name, timeout))
        if response is None:
            raise AssertionError("the %s stream ended: %r" % (self.what, self.error))
        return response

    def quiet(self, seconds):
        """Responses that arrive within `seconds` (for checking nothing else was pushed)."""
        out = []
        try:
            while True:
                r = self.responses.get(timeout=seconds)
                if r is None:
                    break
                out.append(r)
        except queue.Empty:
            pass
        return out

    def close(self):
        self.requests.put(None)
        self.channel.close()


class AdsClient(_Stream):
    def __init__(self, target, node_id, metadata=None):
        p = protos()
        super().__init__(target, node_id, ADS_METHOD, p.discovery_pb2.DiscoveryResponse, "ADS", metadata)
        self.versions = {}
        self.names = {}

    def _request(self, type_url, version="", nonce="", names=(), error=None):
        r = self.p.discovery_pb2.DiscoveryRequest()
        r.type_url = type_url
        r.version_info = version
        r.response_nonce = nonce
        r.resource_names.extend(names)
        if error is not None:
            r.error_detail.code = 3
            r.error_detail.message = error
        self._send(r)

    def next_of(self, type_url, timeout=10):
        """Skips (and ACKs) responses of other types until one of `type_url` arrives."""
        import time
        deadline = time.time() + timeout
        while True:
            response = self.next(max(0.01, deadline - time.time()))
            if response.type_url == type_url:
                return response
            self.ack(response)

    def subscribe(self, type_url, names=(), timeout=10):
        self.names[type_url] = list(names)
        self._request(type_url, version=self.versions.get(type_url, ""), names=names)
        return self.next_of(type_url, timeout)

    def ack(self, response):
        self.versions[response.type_url] = response.version_info
        self._request(response.type_url, version=response.version_info, nonce=response.nonce,
                      names=self.names.get(response.type_url, ()))

    def nack(self, response, message):
        self._request(response.type_url, version=self.versions.get(response.type_url, ""), nonce=response.nonce,
                      names=self.names.get(response.type_url, ()), error=message)


DELTA_ADS_METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"


class DeltaAdsClient(_Stream):
    """Incremental ADS: subscribe/unsubscribe by name, resources come with names and versions,
    removals as names. `have[type_url]` is what the client holds: {name: version}."""

    def __init__(self, target, node_id, initial_versions=None):
        p = protos()
        super().__init__(target, node_id, DELTA_ADS_METHOD, p.discovery_pb2.DeltaDiscoveryResponse, "delta ADS")
        self.have = {k: dict(v) for k, v in (initial_versions or {}).items()}

    def request(self, type_url, subscribe=(), unsubscribe=(), nonce="", error=None, initial=False):
        r = self.p.discovery_pb2.DeltaDiscoveryRequest()
        r.type_url = type_url
        r.resource_names_subscribe.extend(subscribe)
        r.resource_names_unsubscribe.extend(unsubscribe)
        r.response_nonce = nonce
        if initial:
            for name, version in self.have.get(type_url, {}).items():
                r.initial_resource_versions[name] = version
        if error is not None:
            r.error_detail.code = 3
            r.error_detail.message = error
        self._send(r)

    def ack(self, response):
        held = self.have.setdefault(response.type_url, {})
        for r in response.resources:
            held[r.name] = r.version
        for name in response.removed_resources:
            held.pop(name, None)
        self.request(response.type_url, nonce=response.nonce)
