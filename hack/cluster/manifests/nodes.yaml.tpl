# A fake node managed by kwok. InternalIP is 127.0.0.1 so that metrics-server scrapes kwok on loopback; the
# resource-metrics-path annotation points metrics-server at kwok's per-node kubelet-style endpoint.
apiVersion: v1
kind: Node
metadata:
  name: NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
    metrics.k8s.io/resource-metrics-path: /metrics/nodes/NODE_NAME/metrics/resource
  labels:
    kubernetes.io/hostname: NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    topology.kubernetes.io/zone: ZONE
spec: {}
status:
  addresses:
  - address: 127.0.0.1
    type: InternalIP
  - address: NODE_NAME
    type: Hostname
