# Versions of the local cluster's components. Sourced by the other hack/cluster scripts.
# Changing a version changes the cache key, so the next `cluster:up` rebuilds just that component.
KUBE_VERSION=${KUBE_VERSION:-1.36.3}
ETCD_VERSION=${ETCD_VERSION:-3.6.13}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
METRICS_SERVER_VERSION=${METRICS_SERVER_VERSION:-0.8.0}
