/* es-script.h --- the es-script command interpreter, shared by tests/helpers/es-script and fuzz/fuzz-es */
#ifndef ESCK_ES_SCRIPT_H
#define ESCK_ES_SCRIPT_H

#include <stdio.h>

/* es_script_line() results; also es-script's exit statuses. */
#define ES_SCRIPT_OK		0
#define ES_SCRIPT_FATAL		1	/* an invariant check failed: a bug in lib/es */
#define ES_SCRIPT_SYNTAX	2	/* a malformed line, with a message on err */

struct es_script;

/*
 * A cache with tree 1 selected.  Results go to out, syntax messages (as
 * "FILE:LINE: message") to err.  NULL if memory ran out.
 */
struct es_script *es_script_new(const char *file, FILE *out, FILE *err);
/*
 * Run one line (modified in place), then check every tree and the cache.
 * A syntax error leaves the state as it was before the line, except that a
 * "tree" line may have selected a tree; the caller may carry on.
 */
int es_script_line(struct es_script *s, char *line);
void es_script_free(struct es_script *s);

#endif /* ESCK_ES_SCRIPT_H */
