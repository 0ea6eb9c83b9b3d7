#!/usr/bin/env bash
# Render deploy/manifests/ from the chart (tests/test_helm.py checks they are up to date).
#   deploy/render-manifests.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
helm=$("$here/build-helm.sh")
out="$here/manifests"
mkdir -p "$out"
render() {   # render FILE [helm args]: the release `kube-webshell` in namespace `kube-webshell`
  local file=$1; shift
  {
    echo "# Rendered from deploy/helm/kube-webshell by deploy/render-manifests.sh; do not edit."
    echo "# kubectl apply -f deploy/manifests/namespace.yaml -f deploy/manifests/$file"
    "$helm" template kube-webshell "$here/helm/kube-webshell" --namespace kube-webshell \
      --set secret.generate=false "$@"
  } > "$out/$file"
}
render kube-webshell.yaml
