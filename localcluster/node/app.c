/* The one program of the "distroless" demo image: no shell, no tools. It says
 * hello, then waits for SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

int main(void) {
  struct sigaction q = {.sa_handler = quit};
  sigaction(SIGTERM, &q, NULL);
  sigaction(SIGINT, &q, NULL);
  printf("kws-app: serving nothing, waiting for SIGTERM\n");
  fflush(stdout);
  for (;;) pause();
  return 0;
}
