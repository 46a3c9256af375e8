/*
 * pg_shell: what WASI preview 1 lacks that awk uses, for wasm32-wasip1.
 * Not part of the one true awk; see PG_SHELL.md.
 *
 * A WASI program cannot start another process, so pipes (`print | "cmd"`,
 * `"cmd" | getline`) and system() cannot work. They fail loudly: popen()
 * says why on stderr and returns NULL (awk then reports the redirection it
 * could not open and stops), system() says why and returns -1, which awk's
 * system() passes on as its value.
 */
#ifndef PG_SHELL_WASI_SHIM_H
#define PG_SHELL_WASI_SHIM_H

#include <stdio.h>

FILE *popen(const char *command, const char *mode);
int pclose(FILE *stream);
int system(const char *command);

/* sys/wait.h's macros, for a status that system() above never produces. */
#define WIFEXITED(s)	(((s) & 0x7f) == 0)
#define WEXITSTATUS(s)	(((s) >> 8) & 0xff)
#define WIFSIGNALED(s)	(((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define WTERMSIG(s)	((s) & 0x7f)

#endif
