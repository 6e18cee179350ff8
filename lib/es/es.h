/* es.h --- the extent status cache: the Linux ext4 extent status tree's semantics in user space */
#ifndef ESCK_ES_H
#define ESCK_ES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Interval conventions, stated once for the whole API.
 *
 * An entry covers the logical blocks [lblk, lblk + len): len >= 1, and its last
 * block es_end() = lblk + len - 1 is inclusive and at most ES_LBLK_MAX, so no
 * entry reaches or wraps past 2^32 - 1 (the kernel's EXT_MAX_BLOCKS).  Every
 * function taking (lblk, len) means that half-open range; len == 0 is a no-op
 * that returns 0 (an invalid type is still EINVAL); a range whose last
 * block would pass ES_LBLK_MAX is EINVAL.
 * Functions taking (lblk, end) say so, and mean the inclusive range.
 *
 * Errors are 0 or a positive errno (valid com_err codes): EINVAL for bad
 * arguments, ENOMEM only where documented, EEXIST for a cache conflict,
 * EUCLEAN from the invariant checks.
 */
#define ES_LBLK_MAX	0xfffffffeU		/* last logical block an entry may cover */
#define ES_MAX_BLOCKS	0xffffffffU		/* a length: the whole logical space */
#define ES_PBLK_MAX	((UINT64_C(1) << 48) - 1)	/* ext4's largest physical block */
#define ES_PBLK_NONE	UINT64_MAX		/* pblk reported for DELAYED and HOLE */

/* Exactly one type per entry; REFERENCED is orthogonal (set by lookups). */
#define ES_WRITTEN	0x01u
#define ES_UNWRITTEN	0x02u
#define ES_DELAYED	0x04u
#define ES_HOLE		0x08u
#define ES_REFERENCED	0x10u
#define ES_TYPE_MASK	0x0fu
#define ES_ANY_TYPE	ES_TYPE_MASK

/* A value copy of one entry, as returned by lookups and iteration. */
struct es_extent {
	uint32_t lblk;
	uint32_t len;
	uint64_t pblk;		/* ES_PBLK_NONE unless WRITTEN or UNWRITTEN */
	unsigned int status;	/* one type bit, maybe ES_REFERENCED */
};

static inline uint32_t es_end(const struct es_extent *es)
{
	return es->lblk + es->len - 1;
}

static inline unsigned int es_type(const struct es_extent *es)
{
	return es->status & ES_TYPE_MASK;
}

/*
 * Must-keep entries hold information that exists nowhere else (delayed
 * allocation lives only in memory), so they are never reclaimed and their
 * allocations never fail under the nofail policy.  Everything else is a
 * droppable copy of the disk: losing it only means "look at the disk".
 */
static inline int es_type_must_keep(unsigned int type)
{
	return (type & ES_TYPE_MASK) == ES_DELAYED;
}

/* "written", "unwritten", "delayed", "hole", or "?" for anything else. */
const char *es_type_name(unsigned int type);
/* The kernel's tracepoint letters: W U D H, R appended when referenced. */
const char *es_status_letters(unsigned int status, char buf[3]);

/* Bytes of one stored entry; the budget is the kernel's 40 on 64-bit. */
#define ES_ENTRY_SIZE	40

/*
 * The backing allocator: hands out ES_ENTRY_SIZE-byte objects, or NULL.  The
 * default is the cache's own slab.  It may fail; the cache decides whether a
 * failure is tolerated (droppable) or retried until it succeeds (must-keep).
 */
struct es_allocator {
	void *(*alloc)(void *priv);
	void (*free)(void *priv, void *obj);
	uint64_t (*footprint)(void *priv);	/* bytes held; may be NULL */
	/*
	 * May be NULL.  The caller is about to free n objects without naming
	 * them: if that is every object the allocator has handed out, it may
	 * take them all back at once and return 1; otherwise it returns 0 and
	 * they are freed one by one.
	 */
	int (*free_all)(void *priv, uint64_t n);
	void *priv;
};

/*
 * Fault injection, consulted before every allocation attempt (must-keep
 * retries included).  A failed must-keep attempt is retried, so a schedule
 * that fails every attempt would never finish: es_fault_parse() refuses
 * every:1 and rate:1.
 */
enum es_fault_mode {
	ES_FAULT_NONE,
	ES_FAULT_NTH,		/* fail attempt number n (1-based) only */
	ES_FAULT_EVERY,		/* fail attempts n, 2n, 3n, ... */
	ES_FAULT_RATE,		/* fail each attempt with probability rate */
};

struct es_fault {
	enum es_fault_mode mode;
	uint64_t n;
	double rate;
	uint64_t seed;
	uint64_t rng;		/* PRNG state, derived from seed */
	uint64_t attempts;	/* attempts seen */
	uint64_t failures;	/* attempts failed on purpose */
};

void es_fault_init(struct es_fault *f, enum es_fault_mode mode, uint64_t n,
		   double rate, uint64_t seed);
/* "none", "nth:N", "every:N" or "rate:P[,seed:S]"; 0 or EINVAL. */
int es_fault_parse(struct es_fault *f, const char *spec);
/* Nonzero if the next attempt is to fail; advances the counters. */
int es_fault_should_fail(struct es_fault *f);

enum es_policy {
	ES_POLICY_NOFAIL,	/* the kernel since 6.5: must-keep changes never lost */
	ES_POLICY_LEGACY,	/* deliberately wrong: loses must-keep entries on failure */
};

struct es_stats {
	uint64_t entries;		/* entries in all trees */
	uint64_t reclaimable;		/* entries that are not must-keep */
	uint64_t trees;			/* trees attached to the cache */
	uint64_t trees_on_list;		/* trees with reclaimable entries */
	uint64_t bytes;			/* entries * ES_ENTRY_SIZE */
	uint64_t footprint;		/* bytes the allocator holds */
	uint64_t hits, misses;		/* es_lookup() outcomes */
	uint64_t alloc_attempts;	/* allocation attempts */
	uint64_t alloc_failures;	/* attempts that failed (injected or real) */
	uint64_t alloc_retries;		/* must-keep operations that had to preallocate */
	uint64_t dropped;		/* droppable entries lost to failed allocations */
	uint64_t lost;			/* must-keep entries lost (legacy policy only) */
	uint64_t conflicts;		/* es_cache_extent() conflicts */
	uint64_t shrink_calls;		/* es_shrink() calls */
	uint64_t shrink_scanned;	/* entries examined by the reclaim */
	uint64_t shrunk;		/* entries the reclaim freed */
	uint64_t max_tree_id;		/* the tree with the most entries (lowest id on a tie) ... */
	uint64_t max_tree_entries;	/* ... and how many */
};

/* Private layout, public only so that caches and trees can be embedded. */
struct es_node;

struct es_slab {
	void *chunks, *last;		/* list of chunks, oldest first */
	void *cursor;			/* the chunk being carved */
	void *free_list;		/* freed objects, reused first */
	char *bump, *bump_end;		/* unused tail of the cursor chunk */
	uint64_t nr_chunks;
	uint64_t footprint;		/* bytes of all chunks */
	uint64_t live;			/* objects handed out, not freed */
};

struct es_cache {
	struct es_allocator alloc;
	struct es_slab slab;
	struct es_fault *fault;
	enum es_policy policy;
	uint64_t max_entries, max_bytes;	/* 0: no limit */
	struct es_tree *list_head;		/* round-robin list of reclaimable trees */
	uint64_t nr_on_list;
	struct es_tree *all_head;		/* every tree attached to the cache */
	struct es_stats st;
};

struct es_rb_node;
struct es_tree;

struct es_tree_link {
	struct es_tree *prev, *next;
};

struct es_tree {
	struct es_rb_node *root;
	struct es_node *rightmost;	/* the O(1) append point for in-order loads */
	/*
	 * In-order appends to an empty tree wait here, linked through
	 * rb.right, and become a balanced tree in O(n) when anything else
	 * looks at the tree: a bulk load does no rebalancing.
	 */
	struct es_node *pending;
	uint64_t pending_nr;
	struct es_node *cache_es;	/* the most recently used entry */
	struct es_cache *cache;
	uint64_t id;
	uint64_t all_nr, shk_nr;
	uint32_t shrink_lblk;		/* where the reclaim resumes */
	struct es_tree_link reclaim_link;	/* on the reclaim list while shk_nr > 0 */
	struct es_tree_link all_link;		/* among all trees of the cache */
};

/* ---- the cache: allocator, policy, limits, statistics, reclaim ---- */

/* A cache with the slab allocator, the nofail policy and no limit. */
void es_cache_init(struct es_cache *c);
/* Frees the slab.  Every tree must have been released first. */
void es_cache_release(struct es_cache *c);
void es_cache_set_policy(struct es_cache *c, enum es_policy policy);
/* NULL stops injection.  The fault must outlive its use by the cache. */
void es_cache_set_fault(struct es_cache *c, struct es_fault *f);
/* Replace the backing allocator; only while the cache holds no entries. */
int es_cache_set_allocator(struct es_cache *c, const struct es_allocator *a);
/*
 * Bound the cache (0 = unbounded).  An operation that leaves it over a limit
 * reclaims as es_shrink() does, other trees first; must-keep entries are
 * never reclaimed, so they alone may exceed a limit.
 */
void es_cache_set_limit(struct es_cache *c, uint64_t max_entries, uint64_t max_bytes);
void es_cache_stats(const struct es_cache *c, struct es_stats *st);
/*
 * The kernel's reclaim: trees in round-robin order, each scanned from where
 * it stopped last, wrapping around; every entry examined costs one unit of
 * nr_to_scan; DELAYED entries are skipped; a REFERENCED entry loses the bit
 * and survives this round.  Returns the number of entries freed.
 */
uint64_t es_shrink(struct es_cache *c, uint64_t nr_to_scan);
/* Global counters against the trees; 0 or EUCLEAN with a message. */
int es_cache_check(const struct es_cache *c, char *msg, size_t msglen);

/* ---- one tree per inode ---- */

void es_tree_init(struct es_cache *c, struct es_tree *t, uint64_t id);
/* Frees every entry and detaches the tree from its cache. */
void es_tree_release(struct es_tree *t);
/* Drops every droppable entry, keeping must-keep ones (EXT4_IOC_CLEAR_ES_CACHE). */
void es_tree_drop_reclaimable(struct es_tree *t);
uint64_t es_tree_entries(const struct es_tree *t);
uint64_t es_tree_reclaimable(const struct es_tree *t);

/*
 * Modify: the on-disk state (or, for DELAYED, the in-memory state) of
 * [lblk, lblk + len) changed to type at pblk.  Removes whatever the range
 * held, then inserts and merges with its neighbours.  pblk is used for
 * WRITTEN and UNWRITTEN (pblk + len - 1 <= ES_PBLK_MAX) and ignored otherwise.
 * Returns 0, EINVAL, or -- only under ES_POLICY_LEGACY -- ENOMEM when a
 * DELAYED entry was lost.  Under the nofail policy a DELAYED change always
 * lands; a droppable one may be lost to an allocation failure, leaving the
 * range uncached.
 */
int es_insert(struct es_tree *t, uint32_t lblk, uint32_t len, uint64_t pblk,
	      unsigned int type);

/*
 * Remove [lblk, lblk + len), splitting an entry that straddles it.  Returns
 * 0, EINVAL, or under ES_POLICY_LEGACY ENOMEM when the tail of a split
 * DELAYED entry was lost.  Under nofail it cannot fail; a droppable split
 * tail may be lost, so the tree may cover less than before, never more.
 */
int es_remove(struct es_tree *t, uint32_t lblk, uint32_t len);

/*
 * Cache facts read from disk: fill only the parts of [lblk, lblk + len) that
 * nothing covers.  type is WRITTEN, UNWRITTEN or HOLE.  An existing entry of
 * another type, or a WRITTEN/UNWRITTEN entry at another physical block, is a
 * conflict: nothing changes, the first such entry is copied to *conflict (if
 * not NULL) and EEXIST is returned.  A HOLE over a DELAYED entry is not a
 * conflict (delayed blocks are not on disk yet); the delayed part is kept.
 * Allocation failures leave parts uncached and are not errors.
 */
int es_cache_extent(struct es_tree *t, uint32_t lblk, uint32_t len,
		    uint64_t pblk, unsigned int type, struct es_extent *conflict);
/*
 * es_cache_extent() of v[0], v[1], ... v[n - 1] in turn (status is the
 * type), for a load that meets a file's extents in order: the same
 * entries, cached entry and counters as those calls, for less per entry.
 * Conflicts are counted, not told.  Returns 0, or EINVAL at the first
 * entry es_cache_extent() refuses (those before it are cached).
 */
int es_cache_extents(struct es_tree *t, const struct es_extent *v, size_t n);

/*
 * The entry containing lblk: 1 and a copy of the whole entry (not clipped),
 * then marks the stored entry REFERENCED (the copy shows the status from
 * before this lookup, as the kernel's does); or 0.  If next_lblk is not NULL it receives the
 * start of the entry after the one found (or after lblk when none contains
 * it), or 0 when there is none -- the kernel's convention.
 */
int es_lookup(struct es_tree *t, uint32_t lblk, struct es_extent *es,
	      uint32_t *next_lblk);

/*
 * The first entry whose type is in types and which overlaps the inclusive
 * range [lblk, end]: 1 and a copy; or 0 and *es zeroed.
 */
int es_find_range(struct es_tree *t, unsigned int types, uint32_t lblk,
		  uint32_t end, struct es_extent *es);
/* Nonzero if any block of the inclusive range [lblk, end] has a type in types. */
int es_scan_range(struct es_tree *t, unsigned int types, uint32_t lblk, uint32_t end);
/* Blocks of [lblk, lblk + len) covered by entries whose type is in types. */
uint64_t es_count_blocks(const struct es_tree *t, unsigned int types,
			 uint32_t lblk, uint32_t len);

/*
 * Ordered iteration from the entry containing lblk, or the first after it.
 * Any modification of the tree invalidates the iterator.
 */
struct es_iter {
	const struct es_tree *tree;
	const struct es_node *node;
};
void es_iter_start(const struct es_tree *t, uint32_t lblk, struct es_iter *it);
/* 1 with *es filled and the iterator advanced, or 0 at the end. */
int es_iter_next(struct es_iter *it, struct es_extent *es);

/*
 * The full invariant check of one tree: sorted, non-overlapping, len >= 1, no
 * wrap, exactly one type, no two adjacent entries that could merge,
 * red-black balance, parent links, the cached pointers, and the counters.
 * O(n).  0, or EUCLEAN with a one-line description in msg.
 */
int es_check(const struct es_tree *t, char *msg, size_t msglen);

#endif /* ESCK_ES_H */
