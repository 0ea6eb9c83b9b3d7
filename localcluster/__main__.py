"""python -m localcluster {up|down|status|build} [--dir DIR]"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cluster import DEFAULT_STATE, ClusterError, LocalCluster, build_binaries


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m localcluster", description=__doc__)
    ap.add_argument("action", choices=["up", "down", "status", "build"])
    ap.add_argument("--dir", default=os.environ.get("KWS_CLUSTER_DIR", str(DEFAULT_STATE)),
                    help="state directory (certs, etcd data, logs, kubeconfigs)")
    ap.add_argument("--no-real-node", action="store_true",
                    help="no kubelet/containerd node beside kwok (also KWS_REAL_NODE=0)")
    args = ap.parse_args(argv)
    lc = LocalCluster(Path(args.dir), real_node=False if args.no_real_node else None)
    try:
        if args.action == "build":
            print(build_binaries())
        elif args.action == "up":
            lc.up()
            print(f"KUBECONFIG={lc.admin_kubeconfig}")
        elif args.action == "down":
            lc.down()
        else:
            running = lc.is_running()
            print(f"running, admin kubeconfig: {lc.admin_kubeconfig}" if running else "not running")
            return 0 if running else 3
    except ClusterError as e:
        print(f"local cluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
