/* pg_shell: see wasi_shim.h. */
#include <errno.h>
#include <stdio.h>
#include "wasi_shim.h"

extern char *cmdname;

static void cannot_run(const char *what, const char *command)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s \"%s\": a WASI program cannot start processes in pg_shell\n",
		cmdname, what, command);
}

FILE *popen(const char *command, const char *mode)
{
	cannot_run(mode[0] == 'r' ? "cannot read from command" : "cannot write to command", command);
	errno = ENOSYS;
	return NULL;
}

int pclose(FILE *stream)
{
	(void) stream;
	errno = ECHILD;
	return -1;
}

int system(const char *command)
{
	if (command == NULL)
		return 0;	/* POSIX: no command processor is available */
	cannot_run("system() cannot run", command);
	errno = ENOSYS;
	return -1;
}
