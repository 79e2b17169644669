// A small bookinfo mesh as Kubernetes objects (Services, Endpoints, Pods, a Node with locality
// labels), shared by the registry, CDS, EDS and LDS tests.
#pragma once

namespace monomesh::pilot::testing {

inline constexpr const char* kBookinfoRegistry = R"(
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {failure-domain.beta.kubernetes.io/region: us-east, failure-domain.beta.kubernetes.io/zone: us-east-1a}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b, labels: {failure-domain.beta.kubernetes.io/region: us-west, failure-domain.beta.kubernetes.io/zone: us-west-1a}}
---
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec: {clusterIP: 10.0.0.10, ports: [{name: http, port: 9080}], selector: {app: productpage}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, annotations: {alpha.istio.io/kubernetes-serviceaccounts: bookinfo-reviews}}
spec: {clusterIP: 10.0.0.11, ports: [{name: http, port: 9080}], selector: {app: reviews}}
---
apiVersion: v1
kind: Service
metadata: {name: mongodb, namespace: default}
spec: {clusterIP: 10.0.0.12, ports: [{name: mongo, port: 27017}, {name: udp-dns, port: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec: {clusterIP: 10.0.0.13, ports: [{name: grpc-api, port: 9090}, {port: 7070}]}
---
apiVersion: v1
kind: Pod
metadata: {name: productpage-v1-1, namespace: default, labels: {app: productpage, version: v1}}
spec: {serviceAccountName: bookinfo-productpage, nodeName: node-a, containers: [{name: app, image: productpage}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-1, namespace: default, labels: {app: reviews, version: v1}}
spec: {serviceAccountName: bookinfo-reviews, nodeName: node-a, containers: [{name: app, image: reviews}]}
status: {podIP: 10.1.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-1, namespace: default, labels: {app: reviews, version: v2}}
spec: {serviceAccountName: bookinfo-reviews, nodeName: node-b, containers: [{name: app, image: reviews}]}
status: {podIP: 10.1.0.12}
---
apiVersion: v1
kind: Endpoints
metadata: {name: productpage, namespace: default}
subsets: [{addresses: [{ip: 10.1.0.1}], ports: [{name: http, port: 9080}]}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: reviews, namespace: default}
subsets: [{addresses: [{ip: 10.1.0.11}, {ip: 10.1.0.12}], ports: [{name: http, port: 9080}]}]
)";

}  // namespace monomesh::pilot::testing
