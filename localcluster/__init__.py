"""A real Kubernetes control plane (etcd + kube-apiserver + kwok) as local processes.

Used by the test suite and by the demo when no kubeconfig exists. Not part of the
console itself: nothing in ``webshell`` imports this package.
"""
