#!/usr/bin/env python3
"""Writes N bookinfo-style Istio objects (alternating VirtualService and DestinationRule) as one
multi-document YAML stream, for the config throughput benchmark."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
out = []
for i in range(n // 2):
    out.append(f"""apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews-{i}
  namespace: ns-{i % 50}
spec:
  hosts:
  - reviews-{i}
  http:
  - match:
    - headers:
        end-user:
          exact: jason
      uri:
        prefix: /api/v{i % 3}
    route:
    - destination:
        host: reviews-{i}
        subset: v2
    timeout: 5s
    retries:
      attempts: 3
      perTryTimeout: 2s
  - route:
    - destination:
        host: reviews-{i}
        subset: v1
      weight: 80
    - destination:
        host: reviews-{i}
        subset: v3
      weight: 20
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews-{i}
  namespace: ns-{i % 50}
spec:
  host: reviews-{i}
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        http1MaxPendingRequests: 10
    outlierDetection:
      consecutiveErrors: 5
      interval: 10s
      baseEjectionTime: 30s
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---""")
sys.stdout.write("\n".join(out) + "\n")
