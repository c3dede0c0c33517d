/* What a commit's write-ahead log costs the writer, written SQLite's way or in one call:
 * 400 commits of 20 frames (a 24-byte header and a 4,096-byte page each, as a WAL frame),
 * each followed by fsync, on a file in /tmp; prints the mean time a commit of the writes
 * and of the fsync. Mode 0: two pwrite calls a frame (SQLite's unix VFS); mode 1: one
 * pwrite of the whole commit (GatheredLogVFS).
 *   cc -O2 -o /tmp/log_writes Benchmarks/http/log_writes.c && /tmp/log_writes 0 && /tmp/log_writes 1
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double microseconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  enum { frames = 20, commits = 400, frame = 24 + 4096 };  /* a frame: its header, its page */
  int gathered = argc > 1 && atoi(argv[1]) == 1;
  const char *path = "/tmp/sca-log-writes.wal";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) { perror(path); return 1; }
  static char header[24], page[4096], all[frames * frame];
  memset(header, 1, sizeof header);
  memset(page, 2, sizeof page);
  memset(all, 3, sizeof all);
  double writing = 0, syncing = 0;
  long offset = 0;
  for (int commit = 0; commit < commits; commit++) {
    double start = microseconds();
    if (gathered) {
      if (pwrite(fd, all, sizeof all, offset) != (ssize_t)sizeof all) { perror("pwrite"); return 1; }
      offset += sizeof all;
    } else {
      for (int f = 0; f < frames; f++) {
        if (pwrite(fd, header, sizeof header, offset) != (ssize_t)sizeof header
            || pwrite(fd, page, sizeof page, offset + sizeof header) != (ssize_t)sizeof page) { perror("pwrite"); return 1; }
        offset += frame;
      }
    }
    double written = microseconds();
    if (fsync(fd) != 0) { perror("fsync"); return 1; }
    writing += written - start;
    syncing += microseconds() - written;
    if (offset > 4096L * frame * 2) offset = 0;  /* a log restarted, as SQLite's is */
  }
  printf("%s: writes %.1f us a commit, fsync %.1f us\n", gathered ? "one call" : "two calls a frame",
         writing / commits, syncing / commits);
  close(fd);
  unlink(path);
  return 0;
}
