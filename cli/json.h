/* json.h --- a small deterministic JSON Lines writer: objects, arrays, strings, integers */
#ifndef ESCK_CLI_JSON_H
#define ESCK_CLI_JSON_H

#include <stdint.h>
#include <stdio.h>

/*
 * One JSON value at a time, written straight to a stdio stream: no floats,
 * no pretty-printing, keys in the order the caller writes them, so the same
 * calls always give the same bytes.  Strings are escaped as RFC 8259 asks;
 * bytes that are not valid UTF-8 are written as \u00XX (their Latin-1
 * reading), so that any file name comes out as valid JSON.
 *
 * Usage, for {"a":1,"b":[{"c":"x"}]} and a newline:
 *	json_init(&w, stdout);
 *	json_object_begin(&w, NULL);
 *	json_u64(&w, "a", 1);
 *	json_array_begin(&w, "b");
 *	json_object_begin(&w, NULL);
 *	json_string(&w, "c", "x");
 *	json_object_end(&w);
 *	json_array_end(&w);
 *	json_object_end(&w);
 *	json_newline(&w);
 * key is NULL for an array element or a top-level value.
 */

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	int depth;
	int need_comma[JSON_MAX_DEPTH + 1];
};

void json_init(struct json_writer *w, FILE *out);
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_u64(struct json_writer *w, const char *key, uint64_t value);
/* Ends a top-level value: writes '\n' (JSON Lines). */
void json_newline(struct json_writer *w);

/* Writes S as a quoted, escaped JSON string. */
void json_write_string(FILE *out, const char *s);

#endif /* ESCK_CLI_JSON_H */
