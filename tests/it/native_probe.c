/* The native program the security_native tests attack with. Built by the
 * tests with the system C compiler. Each mode prints what it could do.
 *
 *   fds                      the open descriptors among 0..4095
 *   net PORT                 connect to 127.0.0.1:PORT
 *   read PATH                open and read PATH
 *   survive wait|exit SECS MARKER TOKEN
 *                            fork a setsid child holding stdout that sleeps
 *                            SECS then writes MARKER; the parent then waits
 *                            forever or exits at once (TOKEN only names the
 *                            processes on their command line)
 *   peek DIR                 list DIR, read DIR/secret, create DIR/planted
 *   hold SECS                print the working directory, then sleep
 *   fill N SIZE              write N files of SIZE bytes (f0, f1, ...)
 *   marker PATH              append a line to PATH
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int fds(void) {
    printf("fds:");
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1) printf(" %d", fd);
    printf("\n");
    return 0;
}

static int net(const char *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) { printf("socket: failed (%s)\n", strerror(errno)); return 0; }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) printf("connect: ok\n");
    else printf("connect: failed (%s)\n", strerror(errno));
    return 0;
}

static int readf(const char *path) {
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("read %s: failed (%s)\n", path, strerror(errno)); return 0; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) { printf("read %s: failed (%s)\n", path, strerror(errno)); return 0; }
    buf[n] = 0;
    printf("read %s: ok: %s\n", path, buf);
    return 0;
}

static int survive(const char *mode, const char *secs, const char *marker) {
    pid_t p = fork();
    if (p == 0) {
        setsid();
        sleep(atoi(secs));
        int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0666);
        if (fd >= 0) { write(fd, "survived\n", 9); close(fd); }
        printf("survivor wrote its marker\n");
        fflush(stdout);
        _exit(0);
    }
    printf("parent %d forked %d\n", getpid(), p);
    fflush(stdout);
    if (strcmp(mode, "wait") == 0) for (;;) pause();
    return 0;
}

static int peek(const char *dir) {
    char p[4096];
    DIR *d = opendir(dir);
    if (d) { printf("list: ok\n"); closedir(d); } else printf("list: failed (%s)\n", strerror(errno));
    snprintf(p, sizeof p, "%s/secret", dir);
    int fd = open(p, O_RDONLY);
    if (fd >= 0) { printf("read secret: ok\n"); close(fd); } else printf("read secret: failed (%s)\n", strerror(errno));
    snprintf(p, sizeof p, "%s/planted", dir);
    fd = open(p, O_WRONLY | O_CREAT, 0666);
    if (fd >= 0) { printf("plant: ok\n"); close(fd); } else printf("plant: failed (%s)\n", strerror(errno));
    return 0;
}

static int hold(const char *secs) {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) printf("cwd %s\n", cwd);
    fflush(stdout);
    sleep(atoi(secs));
    return 0;
}

static int fill(const char *n, const char *size) {
    long len = atol(size);
    char *buf = malloc(len);
    memset(buf, 'x', len);
    int i, count = atoi(n);
    for (i = 0; i < count; i++) {
        char name[64];
        snprintf(name, sizeof name, "f%d", i);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { printf("file %d: open failed (%s)\n", i, strerror(errno)); return 1; }
        long done = 0;
        while (done < len) {
            ssize_t w = write(fd, buf + done, len - done);
            if (w < 0) { printf("file %d: write failed (%s)\n", i, strerror(errno)); close(fd); return 1; }
            done += w;
        }
        close(fd);
    }
    printf("wrote %d files\n", i);
    return 0;
}

static int marker(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd < 0) { printf("marker: failed (%s)\n", strerror(errno)); return 1; }
    write(fd, "ran\n", 4);
    close(fd);
    printf("marked\n");
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "fds")) return fds();
    if (argc >= 3 && !strcmp(argv[1], "net")) return net(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "read")) return readf(argv[2]);
    if (argc >= 5 && !strcmp(argv[1], "survive")) return survive(argv[2], argv[3], argv[4]);
    if (argc >= 3 && !strcmp(argv[1], "peek")) return peek(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "hold")) return hold(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "fill")) return fill(argv[2], argv[3]);
    if (argc >= 3 && !strcmp(argv[1], "marker")) return marker(argv[2]);
    fprintf(stderr, "usage: probe fds|net|read|survive|peek|hold|fill|marker ...\n");
    return 2;
}
