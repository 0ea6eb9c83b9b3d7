# Sourced by build.sh and build_node.sh: build one command of k8s.io/kubernetes from Go modules.
#
#   k8s_build NAME OUT [VAR=value...]   # cmd/NAME at $KUBERNETES_VERSION into OUT, with extra build env
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod requires every staging module at v0.0.0
# with a local replace. A small wrapper module points each at its published version (staging
# v0.N.P for Kubernetes v1.N.P), derived from the .mod file the module proxy serves, and the
# version is stamped with -ldflags -X so /version reports it. Needs $work (a build folder).
k8s_build() {
  local name=$1 out=$2
  shift 2
  local d="$work/$name-$KUBERNETES_VERSION"
  local staging="v0.${KUBERNETES_VERSION#v1.}"
  rm -rf "$d" && mkdir -p "$d"
  (
    cd "$d"
    local modfile
    modfile=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    {
      echo "module kws.local/$name-build"
      echo
      echo "go 1.25"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      grep -E '^\s*k8s\.io/[a-z0-9.-]+ => \./staging/' "$modfile" \
        | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
    } > go.mod
    go get "k8s.io/kubernetes/cmd/$name@$KUBERNETES_VERSION" >&2
    local minor=${KUBERNETES_VERSION#v1.}
    minor=${minor%%.*}
    local vflags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
    vflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
    vflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
    vflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
    env "$@" go build -ldflags "-s -w $vflags" -o "$out.tmp" "k8s.io/kubernetes/cmd/$name"
  )
  mv "$out.tmp" "$out"
}
