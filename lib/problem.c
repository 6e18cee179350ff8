/* problem.c --- names, messages and severities of the problem catalogue in problem.h */
#include <stddef.h>

#include "problem.h"

struct problem_info {
	const char *name;
	const char *message;
	enum esck_severity severity;
};

/* Generated from the one X-macro, so the table cannot drift from the enum. */
#define ESCK_PR_INFO(id, sev, msg) [ESCK_PR_##id] = { #id, msg, ESCK_SEV_##sev },
static const struct problem_info problems[ESCK_PR_COUNT] = {
	ESCK_PROBLEMS(ESCK_PR_INFO)
};
#undef ESCK_PR_INFO

void esck_problem_init(struct esck_problem *p, enum esck_problem_id id, uint32_t ino)
{
	p->id = id;
	p->ino = ino;
	p->lblk = ESCK_NONE;
	p->len = ESCK_NONE;
	p->pblk = ESCK_NONE;
	p->node = ESCK_NONE;
	p->expected = ESCK_NONE;
	p->found = ESCK_NONE;
	p->other_ino = ESCK_NONE;
}

const char *esck_problem_name(enum esck_problem_id id)
{
	if ((unsigned int)id >= ESCK_PR_COUNT)
		return NULL;
	return problems[id].name;
}

const char *esck_problem_message(enum esck_problem_id id)
{
	if ((unsigned int)id >= ESCK_PR_COUNT)
		return NULL;
	return problems[id].message;
}

enum esck_severity esck_problem_severity(enum esck_problem_id id)
{
	/* An unknown id is treated as the worst case, never as harmless. */
	if ((unsigned int)id >= ESCK_PR_COUNT)
		return ESCK_SEV_ERROR;
	return problems[id].severity;
}

const char *esck_severity_name(enum esck_severity sev)
{
	switch (sev) {
	case ESCK_SEV_INFO:
		return "info";
	case ESCK_SEV_WARNING:
		return "warning";
	case ESCK_SEV_ERROR:
		return "error";
	}
	return "?";
}
