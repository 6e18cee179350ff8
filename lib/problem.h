/* problem.h --- the one catalogue of problems esck reports: stable IDs, severities, messages */
#ifndef ESCK_PROBLEM_H
#define ESCK_PROBLEM_H

#include <stdint.h>

/*
 * ESCK_PR(ID, SEVERITY, MESSAGE).  IDs are an interface: scripts match on
 * them and esck(8) lists them, so an ID is never renamed or reused.  The
 * message is a printf-free template naming what is wrong; the numbers that
 * go with it travel in struct esck_problem and the reporter renders them.
 * Order is the order of the man page's table.
 */
#define ESCK_PROBLEMS(X)							\
	/* extent tree structure (our own reader of the on-disk format) */	\
	X(TREE_ROOT_HEADER,	ERROR,	"bad extent header in the inode")	\
	X(TREE_NODE_MAGIC,	ERROR,	"extent node has a bad magic number")	\
	X(TREE_NODE_ENTRIES,	ERROR,	"extent node has more entries than its maximum") \
	X(TREE_NODE_MAX,	ERROR,	"extent node maximum does not fit its space") \
	X(TREE_DEPTH,		ERROR,	"extent node depth is not its parent's depth minus one") \
	X(TREE_TOO_DEEP,	ERROR,	"extent tree is deeper than ext4 allows") \
	X(TREE_EMPTY_INDEX,	ERROR,	"interior extent node has no entries")	\
	X(TREE_UNSORTED,	ERROR,	"extent node keys are not in increasing order") \
	X(TREE_OVERLAP,		ERROR,	"extents overlap")			\
	X(TREE_INDEX_KEY,	ERROR,	"index key differs from its child's first key") \
	X(TREE_OUT_OF_RANGE,	ERROR,	"extent reaches past the range of its index") \
	X(TREE_ZERO_LENGTH,	ERROR,	"extent has zero length")		\
	X(TREE_WRAP,		ERROR,	"extent wraps past the last logical block") \
	X(TREE_NODE_BLOCK,	ERROR,	"extent node block is outside the filesystem or on its metadata") \
	X(TREE_LOOP,		ERROR,	"extent node is reached twice (a loop or shared node)") \
	X(TREE_NODE_CSUM,	ERROR,	"extent node checksum does not match")	\
	X(TREE_READ,		ERROR,	"extent node could not be read")	\
	X(INODE_CSUM,		ERROR,	"inode checksum does not match")	\
	/* mapping */								\
	X(MAP_OUT_OF_RANGE,	ERROR,	"mapped block is outside the filesystem") \
	X(MAP_ON_METADATA,	ERROR,	"mapped block is on filesystem metadata") \
	X(MAP_DUP,		ERROR,	"block is claimed twice")		\
	X(MAP_NOT_IN_BITMAP,	ERROR,	"block in use is free in the block bitmap") \
	X(MAP_WRITTEN_PAST_EOF,	ERROR,	"written block lies past the end of the file") \
	X(MAP_I_BLOCKS,		ERROR,	"i_blocks differs from the blocks counted") \
	X(MAP_IND_BLOCK,	ERROR,	"indirect block is outside the filesystem or on its metadata") \
	X(MAP_CLUSTER_ALIGN,	ERROR,	"extent's offset in its logical and physical clusters differ") \
	/* cache against disk (the kernel's ES_AGGRESSIVE_TEST classes) */	\
	X(CACHE_EXTRA,		ERROR,	"cache maps blocks that the disk does not map") \
	X(CACHE_MISSING,	ERROR,	"disk maps blocks that the cache calls a hole") \
	X(CACHE_PBLK,		ERROR,	"cache and disk map a block to different physical blocks") \
	X(CACHE_STATUS,		ERROR,	"cache and disk disagree on written or unwritten") \
	X(CACHE_CONFLICT,	ERROR,	"disk extent conflicts with what is already cached")

enum esck_severity {
	ESCK_SEV_INFO,
	ESCK_SEV_WARNING,
	ESCK_SEV_ERROR,
};

#define ESCK_PR_ENUM(id, sev, msg) ESCK_PR_##id,
enum esck_problem_id {
	ESCK_PROBLEMS(ESCK_PR_ENUM)
	ESCK_PR_COUNT
};
#undef ESCK_PR_ENUM

#define ESCK_NONE UINT64_MAX	/* a field of struct esck_problem that does not apply */

/*
 * One finding.  Every numeric field is ESCK_NONE unless it applies: lblk/len
 * are logical blocks of the file, pblk a physical block, node the tree block
 * concerned (0 for the inode's own i_block), expected/found the two values
 * compared (depths, counts, checksums, sizes), other_ino the inode a block is
 * shared with.
 */
struct esck_problem {
	enum esck_problem_id id;
	uint32_t ino;
	uint64_t lblk, len, pblk;
	uint64_t node;
	uint64_t expected, found;
	uint64_t other_ino;
};

/* A problem with every field ESCK_NONE but id and ino. */
void esck_problem_init(struct esck_problem *p, enum esck_problem_id id, uint32_t ino);
/* "TREE_NODE_MAGIC" and so on; NULL for an unknown id. */
const char *esck_problem_name(enum esck_problem_id id);
const char *esck_problem_message(enum esck_problem_id id);
enum esck_severity esck_problem_severity(enum esck_problem_id id);
/* "info", "warning", "error". */
const char *esck_severity_name(enum esck_severity sev);

#endif /* ESCK_PROBLEM_H */
