/* A loopback-only CNI plugin: brings `lo` up in the pod's network namespace and
 * reports 127.0.0.1 as the address of the interface asked for (containerd 1.6
 * wants an address on eth0). It also serves as the `loopback` plugin that
 * containerd always runs first.
 * Pods then have their own network namespace holding only loopback: they can
 * reach nothing but themselves. Protocol: CNI spec 1.0 (CNI_COMMAND, CNI_NETNS,
 * the network config on stdin, the result on stdout). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define VERSIONS "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]"

static int fail(int code, const char *msg, const char *detail) {
  printf("{\"cniVersion\":\"1.0.0\",\"code\":%d,\"msg\":\"%s\",\"details\":\"%s\"}\n", code, msg, detail);
  return 1;
}

static int lo_up(const char *netns) {
  int ns = open(netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail(11, "cannot open the network namespace", netns);
  if (setns(ns, CLONE_NEWNET) != 0) return fail(11, "setns failed", netns);
  close(ns);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return fail(11, "cannot read the flags of lo", netns);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return fail(11, "cannot bring lo up", netns);
  close(s);
  return 0;
}

int main(void) {
  const char *cmd = getenv("CNI_COMMAND"), *netns = getenv("CNI_NETNS"), *ifname = getenv("CNI_IFNAME");
  char buf[4096];
  while (fread(buf, 1, sizeof buf, stdin) > 0) {   /* the config: nothing in it we need */
  }
  if (!cmd) return fail(4, "CNI_COMMAND is not set", "");
  if (strcmp(cmd, "VERSION") == 0) {
    printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":" VERSIONS "}\n");
    return 0;
  }
  if (strcmp(cmd, "DEL") == 0 || strcmp(cmd, "CHECK") == 0 || strcmp(cmd, "GC") == 0) return 0;
  if (strcmp(cmd, "ADD") != 0) return fail(4, "unknown CNI_COMMAND", cmd);
  if (!netns || !*netns) return fail(4, "CNI_NETNS is not set", "");
  if (!ifname || !*ifname || strpbrk(ifname, "\"\\") || strpbrk(netns, "\"\\"))
    return fail(4, "CNI_IFNAME is not set or not printable", "");
  if (lo_up(netns) != 0) return 1;
  printf("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"%s\",\"sandbox\":\"%s\"}],"
         "\"ips\":[{\"interface\":0,\"address\":\"127.0.0.1/8\"}],\"dns\":{}}\n", ifname, netns);
  return 0;
}
