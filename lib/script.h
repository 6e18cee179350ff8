/* script.h --- replay scripts in the xfs_io command language, parsed whole before anything runs */
#ifndef ESCK_SCRIPT_H
#define ESCK_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <et/com_err.h>

/*
 * The language is the subset of xfs_io(8) commands that truncate, punch and
 * write, so the same file run through xfs_io on a loop-mounted copy gives the
 * kernel's answer.  Numbers are read as xfs_io reads them: strtoll base 0
 * (decimal, 0x hex, leading-0 octal), then at most one suffix letter, any
 * case: b (4096, xfs_io's block size on a non-XFS file), s (512), k m g t p
 * e (powers of 1024).  Negative numbers are refused, as by xfs_io; values
 * that overflow 63 bits are refused too (xfs_io would wrap them).
 *
 * Two esck extensions, which xfs_io does not accept: '#' starts a comment
 * (whole line or trailing), and "inode N" selects a file by inode number.
 */
enum esck_op_type {
	ESCK_OP_OPEN,		/* open [-f] PATH */
	ESCK_OP_INODE,		/* inode N (esck extension) */
	ESCK_OP_TRUNCATE,	/* truncate SIZE */
	ESCK_OP_FPUNCH,		/* fpunch OFFSET LENGTH */
	ESCK_OP_FALLOC,		/* falloc [-k] OFFSET LENGTH */
	ESCK_OP_PWRITE,		/* pwrite [-q] [-S SEED] OFFSET LENGTH */
	ESCK_OP_FSYNC,		/* fsync */
};

#define ESCK_OPF_CREATE		0x1	/* open -f: create a regular file, mode 0600 */
#define ESCK_OPF_KEEP_SIZE	0x2	/* falloc -k */
#define ESCK_OPF_QUIET		0x4	/* pwrite -q */

#define ESCK_PWRITE_DEFAULT_FILL 0xcd	/* xfs_io's 0xcdcdcdcd pattern */

struct esck_op {
	enum esck_op_type type;
	unsigned int line;		/* 1-based line in the script */
	unsigned int flags;		/* ESCK_OPF_* */
	uint64_t offset;		/* truncate: the new size */
	uint64_t length;
	uint8_t fill;			/* pwrite: the low byte of -S, as xfs_io */
	uint32_t ino;			/* inode */
	char *path;			/* open: as written; relative means from the root */
};

struct esck_script {
	char *name;			/* for FILE:LINE: messages; "-" is standard input */
	struct esck_op *ops;
	size_t nr, cap;
};

/*
 * Parse text (len bytes, need not be NUL-terminated) into s.  On a bad line,
 * returns ESCK_ET_SCRIPT_SYNTAX with "NAME:LINE: message" in errbuf and s
 * left empty; ENOMEM if memory ran out.  An op before any open or inode is a
 * syntax error: it would have no file.
 */
errcode_t esck_script_parse(const char *name, const char *text, size_t len,
			    struct esck_script *s, char *errbuf, size_t errlen);
void esck_script_free(struct esck_script *s);
/* "open", "inode", "truncate", ... */
const char *esck_op_name(enum esck_op_type type);
/*
 * A number as xfs_io's cvtnum() reads it, see above; 0 or EINVAL.  Exposed
 * for the tests and for option parsing.
 */
int esck_parse_xfs_number(const char *s, uint64_t *out);

#endif /* ESCK_SCRIPT_H */
