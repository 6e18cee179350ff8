/* replay.c --- esck replay-truncate's engine: open, run a script op by op, all-or-nothing per op */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "replay_int.h"

#include <ext2fs/ext3_extents.h> /* after ext2fs.h: it needs its types */

/* ---- opening and closing the image ---- */

errcode_t replay_fs_open(struct esck_replay *r)
{
	int oflags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP |
		     EXT2_FLAG_SOFTSUPP_FEATURES;
	errcode_t retval;

	if (!r->opts.dry_run) {
		oflags |= EXT2_FLAG_RW;
		/* Reopened after a rollback: the same undo file, reopened. */
		txio_set_backing_manager(r->opts.undo_file ? undo_io_manager
							   : NULL);
	}
	retval = ext2fs_open2(
		r->image, NULL, oflags, 0, 0,
		r->opts.dry_run ? unix_io_manager : txio_io_manager, &r->fs);
	if (retval)
		return retval;
	/*
	 * Frees and allocations need the bitmaps, or the counters drift
	 * (e2fsprogs.md §1.4).
	 */
	retval = ext2fs_read_bitmaps(r->fs);
	if (retval)
		goto out_close;
	/*
	 * The kernel updates only the primary superblock; so do we, and less to
	 * undo.
	 */
	r->fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
	if (!r->opts.dry_run) {
		retval = replay_bitmap_track(r);
		if (retval)
			goto out_close;
		txio_group_order(r->fs->io, replay_write_rank, r);
	}
	return 0;

out_close:
	ext2fs_free(r->fs);
	r->fs = NULL;
	return retval;
}

/*
 * The undo manager's backing manager and file are process-wide (undo_io.c's
 * globals): set once, and a later replay must name the same file.
 */
static errcode_t setup_undo(const char *file)
{
	static char *undo_path;
	errcode_t retval;

	if (undo_path)
		return strcmp(undo_path, file) ? EBUSY : 0;
	undo_path = strdup(file);
	if (!undo_path)
		return ENOMEM;
	retval = set_undo_io_backing_manager(unix_io_manager);
	if (!retval)
		retval = set_undo_io_backup_file(undo_path);
	if (retval) {
		free(undo_path);
		undo_path = NULL;
	}
	return retval;
}

errcode_t esck_replay_open(const char *image,
			   const struct esck_replay_opts *opts,
			   struct esck_replay **ret)
{
	struct esck_replay *r;
	errcode_t retval;
	int mf = 0;

	if (!image || !opts || !ret)
		return EINVAL;
	*ret = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->opts = *opts;
	r->lazy = !opts->dry_run && opts->verify == ESCK_VERIFY_RANGE;
	r->image = strdup(image);
	if (!r->image) {
		retval = ENOMEM;
		goto out_free;
	}
	if (!ext2fs_check_if_mounted(image, &mf) && (mf & EXT2_MF_MOUNTED))
		r->mount_state =
			ESCK_MOUNTED |
			((mf & EXT2_MF_READONLY) ? ESCK_MOUNTED_RO : 0);
	/*
	 * Writing under a mounted kernel corrupts both; a dry run only reads.
	 */
	if (r->mount_state && !opts->dry_run && !opts->force) {
		retval = ESCK_ET_MOUNTED;
		goto out_free;
	}
	/* A dry run writes nothing: nothing to undo. */
	if (opts->dry_run)
		r->opts.undo_file = NULL;
	if (r->opts.undo_file) {
		retval = setup_undo(r->opts.undo_file);
		if (retval)
			goto out_free;
	}
	if (opts->fail_write)
		txio_set_fail_write(opts->fail_write);
	if (opts->fail_read)
		txio_set_fail_read(opts->fail_read);
	retval = replay_fs_open(r);
	if (retval)
		goto out_free;
	/*
	 * undo_io writes its header only with its first saved block: record
	 * the superblock now, so the undo file is complete even if the replay
	 * writes nothing.
	 */
	if (r->opts.undo_file) {
		retval = txio_rewrite(r->fs->io, SUPERBLOCK_OFFSET,
				      SUPERBLOCK_SIZE);
		if (retval)
			goto out_close;
	}
	if (ext2fs_has_feature_journal_needs_recovery(r->fs->super) &&
	    !opts->force) {
		retval = ESCK_ET_JOURNAL_NEEDS_RECOVERY;
		goto out_close;
	}
	r->buf = malloc(r->fs->blocksize);
	if (!r->buf) {
		retval = ENOMEM;
		goto out_close;
	}
	es_cache_init(&r->cache);
	es_cache_set_policy(&r->cache, opts->policy);
	if (opts->fault)
		es_cache_set_fault(&r->cache, opts->fault);
	*ret = r;
	return 0;

out_close:
	ext2fs_free(r->fs);
	replay_bitmap_release(r);
out_free:
	free(r->image);
	free(r);
	return retval;
}

errcode_t esck_replay_close(struct esck_replay *r)
{
	errcode_t retval = 0;
	size_t i;

	if (!r)
		return 0;
	for (i = 0; i < r->nr_files; i++) {
		es_tree_release(&r->files[i]->tree);
		replay_pend_free(&r->files[i]->pend);
		free(r->files[i]);
	}
	replay_pend_free(&r->save);
	free(r->files);
	es_cache_release(&r->cache);
	if (r->fs)
		retval = ext2fs_close_free(&r->fs);
	replay_bitmap_release(r);
	replay_meta_free(r);
	replay_group_free(r);
	free(r->buf);
	free(r->walk_scratch);
	free(r->leaf_bufs);
	free(r->image);
	free(r);
	return retval;
}

void *replay_kept_buffer(void **buf, unsigned int *made_for, unsigned int bs,
			 size_t bytes)
{
	if (*made_for != bs) {
		free(*buf);
		*buf = malloc(bytes);
		*made_for = *buf ? bs : 0;
	}
	return *buf;
}

/* ---- files ---- */

static struct replay_file *find_file(struct esck_replay *r, uint32_t ino)
{
	size_t i;

	for (i = 0; i < r->nr_files; i++)
		if (r->files[i]->ino == ino && ino)
			return r->files[i];
	return NULL;
}

static errcode_t add_file(struct esck_replay *r, uint32_t ino, uint64_t size,
			  struct replay_file **ret)
{
	struct replay_file *f;
	void *arr = r->files;
	/* false: files holds pointers, and the element is one */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	int rc = esck_grow(&arr, &r->cap_files, r->nr_files, sizeof(*r->files), 8);

	r->files = arr;
	if (rc)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->ino = ino;
	f->size = size;
	es_tree_init(&r->cache, &f->tree,
		     ino ? ino : 0x100000000ULL + r->nr_files);
	r->files[r->nr_files++] = f;
	*ret = f;
	return 0;
}

/*
 * Select an existing inode: the kernel's checks at open(2), then load its
 * cache.
 */
/*
 * libext2fs verifies the checksum of every tree node and inode it reads, and
 * an op reads the whole path again for each lookup: that was a third of a
 * replay's time.  Every such block of a file the replay has selected was
 * verified by our own reader when the file was first opened
 * (replay_check_tree, which refuses a damaged tree) or was since written
 * by the replay, so libext2fs may skip it.  Checksums are still computed
 * on every write.
 */
static void trust_csums(struct esck_replay *r, int *saved)
{
	*saved = r->fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS;
	r->fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
}

static void untrust_csums(struct esck_replay *r, int saved)
{
	/* A rollback may have reopened the filesystem: r->fs is new then. */
	if (r->fs && !saved)
		r->fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
}

static errcode_t select_ino(struct esck_replay *r, uint32_t ino, int from_open)
{
	struct replay_file *f = find_file(r, ino);
	struct ext2_inode inode;
	errcode_t retval;

	if (!ino || ino > r->fs->super->s_inodes_count)
		return ESCK_ET_BAD_INODE;
	retval = ext2fs_read_inode(r->fs, ino, &inode);
	if (retval)
		return retval;
	/* Orphans being released have no links but are still in use. */
	if (!ext2fs_test_inode_bitmap2(r->fs->inode_map, ino) ||
	    (!inode.i_links_count && !inode.i_mode))
		return ENOENT;
	/* xfs_io opens read-write: a directory is refused there. */
	if (from_open && LINUX_S_ISDIR(inode.i_mode))
		return EISDIR;
	if (f) {
		r->cur = f;
		return 0;
	}
	retval = add_file(r, ino, EXT2_I_SIZE(&inode), &f);
	if (retval)
		return retval;
	r->cur = f;
	if (!LINUX_S_ISREG(inode.i_mode) ||
	    (inode.i_flags & EXT4_INLINE_DATA_FL))
		return 0;
	/*
	 * A damaged tree or block map is neither cached nor touched: its ops
	 * are refused with what is wrong, as the kernel refuses them
	 * (EFSCORRUPTED) once it reads the bad node.  A bad header in the
	 * inode itself already fails the kernel's open.  A sound one is
	 * cached whole from the same walk, or with r->lazy a range at a time
	 * by the ops that reach it (replay_fill.c).
	 */
	retval = replay_check_tree(r, ino, &inode, f->damage, sizeof(f->damage),
				   r->lazy ? NULL : &f->tree);
	if (retval)
		return retval;
	if (!(inode.i_flags & EXT4_EXTENTS_FL))
		return f->damage[0] || r->lazy ? 0 : replay_load_cache(r, f);
	if (f->damage[0] &&
	    (!strncmp(f->damage, "TREE_ROOT_HEADER:", 17) ||
	     !strncmp(f->damage, "TREE_TOO_DEEP:", 14))) {
		r->detail = f->damage;
		return ESCK_ET_CORRUPT_TREE;
	}
	return 0;
}

/* open -f of a missing file: a new empty regular file, mode 0600, as xfs_io. */
static errcode_t create_file(struct esck_replay *r, const char *path,
			     uint32_t *ret)
{
	ext2_filsys fs = r->fs;
	struct ext2_inode_large inode;
	struct ext3_extent_header *eh;
	ext2_ino_t parent, ino;
	char *dir, *base, *slash;
	errcode_t retval;
	time_t now = time(NULL);

	dir = strdup(path);
	if (!dir)
		return ENOMEM;
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
	} else {
		base = dir;
	}
	if (!*base) {
		retval = EISDIR;
		goto out_free;
	}
	if (slash && *dir)
		retval = ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
					     dir, &parent);
	else
		parent = EXT2_ROOT_INO, retval = 0;
	if (retval)
		goto out_free;
	retval = ext2fs_new_inode(fs, parent, LINUX_S_IFREG | 0600, NULL, &ino);
	if (retval)
		goto out_free;
	retval = ext2fs_link(fs, parent, base, ino, EXT2_FT_REG_FILE);
	if (retval == EXT2_ET_DIR_NO_SPACE) {
		retval = ext2fs_expand_dir(fs, parent);
		if (!retval)
			retval = ext2fs_link(fs, parent, base, ino,
					     EXT2_FT_REG_FILE);
	}
	if (retval)
		goto out_free;
	ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	memset(&inode, 0, sizeof(inode));
	inode.i_mode = LINUX_S_IFREG | 0600;
	inode.i_links_count = 1;
	inode.i_atime = inode.i_ctime = inode.i_mtime = (__u32)now;
	if (ext2fs_has_feature_extents(fs->super)) {
		inode.i_flags |= EXT4_EXTENTS_FL;
		eh = (struct ext3_extent_header *)inode.i_block;
		eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
		eh->eh_max = ext2fs_cpu_to_le16(
			(sizeof(inode.i_block) - sizeof(*eh)) /
			sizeof(struct ext3_extent));
	}
	retval = ext2fs_write_new_inode(fs, ino, (struct ext2_inode *)&inode);
	if (retval)
		goto out_free;
	*ret = ino;
out_free:
	free(dir);
	return retval;
}

static errcode_t op_open(struct esck_replay *r, const struct esck_op *op)
{
	struct replay_file *f;
	ext2_ino_t ino;
	errcode_t retval;

	retval = ext2fs_namei_follow(r->fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				     op->path, &ino);
	if (retval == EXT2_ET_FILE_NOT_FOUND ||
	    retval == EXT2_ET_NO_DIRECTORY) {
		if (!(op->flags & ESCK_OPF_CREATE))
			return ENOENT;
		if (r->opts.dry_run) {
			/*
			 * Nothing may be written: the new file lives in the
			 * cache alone.
			 */
			retval = add_file(r, 0, 0, &f);
			if (!retval)
				r->cur = f;
			return retval;
		}
		retval = create_file(r, op->path, &ino);
	}
	if (retval)
		return retval;
	return select_ino(r, ino, 1);
}

/* ---- the ops ---- */

/*
 * s_maxbytes (ext4_max_size): 2^32 - 1 blocks, and without huge_file no
 * more than i_blocks' 2^32 - 1 sectors hold.
 */
static uint64_t max_bytes(const struct esck_replay *r)
{
	unsigned int bits = r->fs->super->s_log_block_size + 10;
	uint64_t res = (uint64_t)0xffffffffU << bits, lim;

	if (!ext2fs_has_feature_huge_file(r->fs->super)) {
		lim = (0xffffffffULL >> (bits - 9)) << bits;
		if (lim < res)
			res = lim;
	}
	return res;
}

/*
 * The largest size truncate and pwrite allow: s_bitmap_maxbytes for a
 * block-mapped file.
 */
static uint64_t file_max_bytes(const struct esck_replay *r,
			       const struct ext2_inode *inode)
{
	if (!(inode->i_flags & EXT4_EXTENTS_FL))
		return replay_ind_max_bytes(r->fs);
	return max_bytes(r);
}

static void touch(struct ext2_inode *inode, int mtime)
{
	__u32 now = (__u32)time(NULL);

	inode->i_ctime = now;
	if (mtime)
		inode->i_mtime = now;
}

/*
 * Lazily cached files: the verification range of the op in flight and one
 * block on each side, cached before the op changes the cache.
 */
static errcode_t fill_vrange(struct esck_replay *r, struct ext2_inode *inode)
{
	return replay_fill(r, r->cur, inode, r->vlo ? r->vlo - 1 : 0,
			   r->vhi < LBLK_LAST ? r->vhi + 1 : LBLK_LAST);
}

/*
 * Zero bytes [from, to) of logical block lblk if it is written on disk or
 * dirty (ext4_block_zero_eof and ext4_zero_partial_blocks zero the page
 * cache of written, delayed and dirty unwritten blocks; clean unwritten
 * blocks and holes read as zeros anyway).
 */
static errcode_t zero_in_block(struct esck_replay *r, struct ext2_inode *inode,
			       uint32_t lblk, unsigned int from,
			       unsigned int to)
{
	unsigned int type;
	uint64_t pblk;
	int dirty;
	errcode_t retval;

	if (from >= to)
		return 0;
	retval = replay_pend_zero(r, r->cur, lblk, from, to, &dirty);
	if (retval || r->opts.dry_run || !r->cur->ino)
		return retval;
	retval = replay_disk_lookup(r, r->cur->ino, inode, lblk, &type, &pblk);
	if (retval || type != ES_WRITTEN)
		return retval;
	retval = io_channel_read_blk64(r->fs->io, pblk, 1, r->buf);
	if (retval)
		return retval;
	memset(r->buf + from, 0, to - from);
	return io_channel_write_blk64(r->fs->io, pblk, 1, r->buf);
}

/*
 * The kernel's refusals common to fallocate(2) modes, and what this replay
 * supports.
 */
static errcode_t check_file(struct esck_replay *r, struct ext2_inode *inode,
			    int falloc)
{
	if (LINUX_S_ISDIR(inode->i_mode))
		return EISDIR;
	if (!LINUX_S_ISREG(inode->i_mode))
		return falloc ? ENODEV : EINVAL;
	if (inode->i_flags & EXT4_INLINE_DATA_FL) {
		r->detail = "inline-data files are not supported yet";
		return EOPNOTSUPP;
	}
	return 0;
}

static errcode_t read_cur(struct esck_replay *r, struct ext2_inode *inode)
{
	if (!r->cur)
		return EBADF;
	if (!r->cur->ino) {
		memset(inode, 0, sizeof(*inode));
		inode->i_mode = LINUX_S_IFREG | 0600;
		/* As create_file would have made it. */
		if (ext2fs_has_feature_extents(r->fs->super))
			inode->i_flags = EXT4_EXTENTS_FL;
		inode->i_size = (__u32)r->cur->size;
		inode->i_size_high = (__u32)(r->cur->size >> 32);
		return 0;
	}
	return ext2fs_read_inode(r->fs, r->cur->ino, inode);
}

static errcode_t write_cur(struct esck_replay *r, struct ext2_inode *inode)
{
	if (r->opts.dry_run || !r->cur->ino)
		return 0;
	return ext2fs_write_inode(r->fs, r->cur->ino, inode);
}

/*
 * What fallocate(2) checks before a punch or a preallocation, in its order:
 * a zero length is EINVAL, the file must be one these ops apply to, and
 * the range must end within the largest file size.
 */
static errcode_t range_op_prologue(struct esck_replay *r, const struct esck_op *op,
				   struct ext2_inode *inode)
{
	errcode_t retval;

	retval = read_cur(r, inode);
	if (retval)
		return retval;
	if (!op->length)
		return EINVAL;
	retval = check_file(r, inode, 1);
	if (retval)
		return retval;
	if (op->offset + op->length > max_bytes(r) ||
	    op->offset + op->length < op->offset)
		return EFBIG;
	return 0;
}

static errcode_t op_fpunch(struct esck_replay *r, const struct esck_op *op,
			   int *noop)
{
	struct replay_file *f = r->cur;
	struct ext2_inode inode;
	uint64_t bs, size, off = op->offset, end, start_lblk, end_lblk, max_end;
	uint32_t hb, tb;
	errcode_t retval;

	if (!f)
		return EBADF; /* no file selected: xfs_io's "no file open" */
	retval = range_op_prologue(r, op, &inode);
	if (retval)
		return retval;
	bs = r->fs->blocksize;
	size = f->size;
	/*
	 * A block map's punch stops a block short of s_bitmap_maxbytes
	 * (ext4_punch_hole's max_end, 29ec9bed2395).
	 */
	max_end = inode.i_flags & EXT4_EXTENTS_FL ?
			  UINT64_MAX :
			  replay_ind_max_bytes(r->fs) - bs;
	if (off >= size || off >= max_end) {
		*noop = 1;
		return 0;
	}
	/*
	 * Past EOF the hole ends with the page holding i_size, not its block
	 * (reference/kernel-es.md §5.1 says block and ">="; Linux 6.18 on a
	 * loop mount does "end > i_size" and rounds up to PAGE_SIZE: with
	 * 1 KiB blocks, preallocated blocks up to that page boundary go).
	 */
	end = off + op->length;
	if (end > size)
		end = (size + REPLAY_PAGE_SIZE - 1) / REPLAY_PAGE_SIZE *
		      REPLAY_PAGE_SIZE;
	if (end > max_end)
		end = max_end;
	r->vlo = (uint32_t)(off / bs);
	r->vhi = (uint32_t)((end - 1) / bs);
	retval = fill_vrange(r, &inode);
	if (retval)
		return retval;

	/* Partial head and tail bytes, in written blocks only. */
	hb = (uint32_t)(off / bs);
	tb = (uint32_t)((end - 1) / bs);
	if (hb == tb) {
		if (off % bs || end % bs)
			retval = zero_in_block(
				r, &inode, hb, (unsigned int)(off % bs),
				(unsigned int)((end - 1) % bs + 1));
	} else {
		if (off % bs)
			retval = zero_in_block(r, &inode, hb,
					       (unsigned int)(off % bs),
					       (unsigned int)bs);
		if (!retval && end % bs)
			retval = zero_in_block(r, &inode, tb, 0,
					       (unsigned int)(end % bs));
	}
	if (retval)
		return retval;

	start_lblk = (off + bs - 1) / bs;
	end_lblk = end / bs;
	if (end_lblk > start_lblk) {
		uint32_t s = (uint32_t)start_lblk, e = (uint32_t)(end_lblk - 1);
		int may_split = 1;

		/* The kernel's order: cache first, then disk, then the hole. */
		if (!r->opts.dry_run && f->ino) {
			retval = replay_reserve_split(r, f->ino, &f->tree,
						      &inode, s, e, &may_split);
			if (retval)
				return retval;
		}
		es_remove(&f->tree, s, e - s + 1);
		replay_pend_drop(&f->pend, s, e); /* the dirty pages go too */
		if (!r->opts.dry_run && f->ino) {
			retval = replay_remove_space(r, f->ino, &inode, s, e,
						     may_split);
			replay_release_reserve(r);
			if (retval)
				return retval;
		}
		es_insert(&f->tree, s, e - s + 1, 0, ES_HOLE);
	}
	touch(&inode, 1);
	return write_cur(r, &inode);
}

/*
 * The orphan list through s_last_orphan and i_dtime, as ext4_orphan_add does on
 * old formats.
 */
static errcode_t orphan_add(struct esck_replay *r, uint32_t ino,
			    struct ext2_inode *inode)
{
	errcode_t retval;

	inode->i_dtime = r->fs->super->s_last_orphan;
	r->fs->super->s_last_orphan = ino;
	ext2fs_mark_super_dirty(r->fs);
	retval = ext2fs_write_inode(r->fs, ino, inode);
	if (retval)
		return retval;
	/*
	 * On disk before any block is freed: a crash now is finished by fsck.
	 */
	return ext2fs_flush2(r->fs, EXT2_FLAG_FLUSH_NO_SYNC);
}

static void orphan_del(struct esck_replay *r, uint32_t ino,
		       struct ext2_inode *inode)
{
	if (r->fs->super->s_last_orphan == ino) {
		r->fs->super->s_last_orphan = inode->i_dtime;
		ext2fs_mark_super_dirty(r->fs);
	}
	inode->i_dtime = 0;
}

/*
 * ftruncate(2) of the current file to size.  An orphan being completed is
 * already on the orphan list (at its head), so it is only taken off.
 */
static errcode_t truncate_cur(struct esck_replay *r, uint64_t size, int orphan)
{
	struct replay_file *f = r->cur;
	struct ext2_inode inode;
	uint64_t bs, old;
	uint32_t last;
	int disk;
	errcode_t retval;

	retval = read_cur(r, &inode);
	if (retval)
		return retval;
	if (!orphan)
		retval = check_file(r, &inode, 0);
	if (retval)
		return retval;
	if (size > file_max_bytes(r, &inode))
		return EFBIG;
	bs = r->fs->blocksize;
	old = f->size;
	disk = !r->opts.dry_run && f->ino;

	if (size > old) {
		/*
		 * Bytes past the old EOF read as zeros; make the disk agree
		 * before exposing them.
		 */
		if (old % bs)
			retval = zero_in_block(r, &inode, (uint32_t)(old / bs),
					       (unsigned int)(old % bs),
					       (unsigned int)bs);
		if (retval)
			return retval;
		ext2fs_inode_size_set(r->fs, &inode, size);
		f->size = size;
		r->vlo = (uint32_t)(old / bs);
		r->vhi = r->vlo;
		retval = fill_vrange(r, &inode);
		if (retval)
			return retval;
		touch(&inode, 1);
		return write_cur(r, &inode);
	}

	/* Shrink, or the same size: blocks preallocated past EOF go too. */
	if (size % bs)
		retval = zero_in_block(r, &inode, (uint32_t)(size / bs),
				       (unsigned int)(size % bs),
				       (unsigned int)bs);
	if (retval)
		return retval;
	last = (uint32_t)((size + bs - 1) / bs);
	r->vlo = last ? last - 1 : 0;
	r->vhi = LBLK_LAST;
	/*
	 * Of the range compared, [vlo - 1, LBLK_LAST], only up to vlo stays
	 * cached: what lies past goes from the cache, so it is not read in.
	 */
	retval = replay_fill(r, f, &inode, r->vlo ? r->vlo - 1 : 0, r->vlo);
	if (retval)
		return retval;
	ext2fs_inode_size_set(r->fs, &inode, size);
	f->size = size;
	if (disk && !orphan) {
		retval = orphan_add(r, f->ino, &inode);
		if (retval)
			return retval;
	}
	if (last <= LBLK_LAST) {
		/*
		 * truncate_pagecache drops the dirty pages past EOF unwritten;
		 * their DELAYED entries go with the rest.
		 */
		es_remove(&f->tree, last, LBLK_LAST - last + 1);
		replay_pend_drop(&f->pend, last, LBLK_LAST);
	}
	if (disk) {
		retval =
			replay_remove_space(r, f->ino, &inode, last, LBLK_LAST, 1);
		if (retval)
			return retval;
		orphan_del(r, f->ino, &inode);
	}
	touch(&inode, !orphan);
	return write_cur(r, &inode);
}

static errcode_t op_truncate(struct esck_replay *r, const struct esck_op *op)
{
	return truncate_cur(r, op->offset, 0);
}

static errcode_t op_falloc(struct esck_replay *r, const struct esck_op *op)
{
	struct replay_file *f = r->cur;
	struct ext2_inode inode;
	uint64_t bs, start, end, new_size;
	errcode_t retval;

	if (!f)
		return EBADF; /* no file selected: xfs_io's "no file open" */
	retval = range_op_prologue(r, op, &inode);
	if (retval)
		return retval;
	/* ext4_do_fallocate: preallocation is for extent-mapped files only. */
	if (!(inode.i_flags & EXT4_EXTENTS_FL))
		return EOPNOTSUPP;
	bs = r->fs->blocksize;
	start = op->offset / bs;
	end = (op->offset + op->length + bs - 1) / bs - 1;
	r->vlo = (uint32_t)start;
	r->vhi = (uint32_t)end;
	/* The range itself is cached from the disk after the allocation. */
	if (start)
		retval = replay_fill(r, f, &inode, (uint32_t)start - 1,
				     (uint32_t)start - 1);
	if (!retval && end < LBLK_LAST)
		retval = replay_fill(r, f, &inode, (uint32_t)end + 1,
				     (uint32_t)end + 1);
	if (retval)
		return retval;
	if (!r->opts.dry_run && f->ino) {
		/*
		 * Unwritten extents over the holes, as the kernel; existing
		 * blocks untouched.
		 */
		retval = replay_falloc(r, f->ino, &inode, (uint32_t)start,
				       (uint32_t)end);
		if (retval)
			return retval;
	}
	new_size = op->offset + op->length;
	if (!(op->flags & ESCK_OPF_KEEP_SIZE) && new_size > f->size) {
		ext2fs_inode_size_set(r->fs, &inode, new_size);
		f->size = new_size;
	}
	touch(&inode, !(op->flags & ESCK_OPF_KEEP_SIZE));
	retval = write_cur(r, &inode);
	if (retval)
		return retval;
	/*
	 * What the allocation made, into the cache (the kernel's map_blocks
	 * insert).
	 */
	if (!r->opts.dry_run)
		retval = replay_cache_range(r, f, (uint32_t)start,
					    (uint32_t)end);
	return retval;
}

/*
 * pwrite(2) through the page cache with delayed allocation: the blocks
 * become dirty, those that are holes on disk DELAYED; nothing is allocated
 * or written until writeback (fsync, or the end of the script).
 */
static errcode_t op_pwrite(struct esck_replay *r, const struct esck_op *op,
			   int *noop)
{
	struct replay_file *f = r->cur;
	struct ext2_inode inode;
	uint64_t bs, len = op->length, want, end, old, lim;
	errcode_t retval;

	retval = read_cur(r, &inode);
	if (retval)
		return retval;
	retval = check_file(r, &inode, 0);
	if (retval)
		return retval;
	if (!len) {
		*noop = 1; /* a write of nothing changes nothing */
		return 0;
	}
	/*
	 * generic_write_checks (ext4_generic_write_checks for a block map):
	 * EFBIG at the limit, a short write before it.
	 */
	lim = file_max_bytes(r, &inode);
	if (op->offset >= lim)
		return EFBIG;
	if (len > lim - op->offset)
		len = lim - op->offset;
	want = len;
	bs = r->fs->blocksize;
	old = f->size;
	end = op->offset + len;
	r->vlo = (uint32_t)(op->offset / bs);
	r->vhi = (uint32_t)((end - 1) / bs);
	retval = fill_vrange(r, &inode);
	if (retval)
		return retval;
	/*
	 * Extending past a partial last block: what lay past the old EOF in
	 * it reads as zeros from now on.
	 */
	if (end > old && old % bs) {
		retval = zero_in_block(r, &inode, (uint32_t)(old / bs),
				       (unsigned int)(old % bs),
				       (unsigned int)bs);
		if (retval)
			return retval;
	}
	retval = replay_pwrite(r, f, &inode, op->offset, &len, op->fill);
	if (retval)
		return retval;
	/* Written up to there, then refused, as xfs_io's next pwrite(2) is. */
	if (len < want)
		r->late_err = ENOSPC;
	else if (len < op->length)
		r->late_err = EFBIG;
	end = op->offset + len;
	if (end > f->size) {
		ext2fs_inode_size_set(r->fs, &inode, end);
		f->size = end;
	}
	touch(&inode, 1);
	return write_cur(r, &inode);
}

/* fsync(2): write the current file's dirty data back. */
static errcode_t op_fsync(struct esck_replay *r, int *noop)
{
	uint32_t lo, hi;
	errcode_t retval;

	if (!r->cur)
		return EBADF;
	if (!r->cur->pend.nr) {
		*noop = 1;
		return 0;
	}
	retval = replay_writeback(r, r->cur, &lo, &hi);
	if (!retval) {
		r->vlo = lo;
		r->vhi = hi;
	}
	return retval;
}

/* ---- running a script ---- */

/*
 * Before an op on the current file: a copy of its dirty data, put back if
 * the op is rolled back.
 */
static errcode_t save_pending(struct esck_replay *r, const struct esck_op *op)
{
	errcode_t retval;

	if (!r->cur || op->type == ESCK_OP_OPEN || op->type == ESCK_OP_INODE)
		return 0;
	retval = replay_pend_copy(&r->save, &r->cur->pend, r->fs->blocksize);
	if (!retval)
		r->save_file = r->cur;
	return retval;
}

static void forget_saved(struct esck_replay *r)
{
	replay_pend_free(&r->save);
	r->save_file = NULL;
}

/*
 * After a failed op the image is rolled back, but libext2fs's in-memory
 * state (bitmaps, counters, descriptors) may hold the op's half: reopen,
 * and reload the file's cache from the restored disk, keeping DELAYED.
 */
static errcode_t recover(struct esck_replay *r)
{
	errcode_t retval, err;

	replay_release_reserve(r);
	retval = txio_rollback(r->fs->io);
	ext2fs_free(r->fs);
	r->fs = NULL;
	if (r->sum)
		r->sum->rollbacks++;
	err = replay_fs_open(r);
	if (err)
		return err;
	if (r->save_file) {
		/* The op's changes to the dirty data go with it. */
		replay_pend_free(&r->save_file->pend);
		r->save_file->pend = r->save;
		memset(&r->save, 0, sizeof(r->save));
		r->save_file = NULL;
	}
	if (r->cur && r->cur->ino && !r->cur->damage[0]) {
		struct ext2_inode inode;

		err = ext2fs_read_inode(r->fs, r->cur->ino, &inode);
		if (err)
			return err;
		r->cur->size = EXT2_I_SIZE(&inode);
		/* The disk's extents, and DELAYED over the dirty holes. */
		err = replay_pend_rebuild(r, r->cur);
		if (err)
			return err;
	}
	return retval;
}

static errcode_t run_data_op(struct esck_replay *r, const struct esck_op *op,
			     int *noop)
{
	switch (op->type) {
	case ESCK_OP_OPEN:
	case ESCK_OP_INODE:
		break;
	case ESCK_OP_TRUNCATE:
		return op_truncate(r, op);
	case ESCK_OP_FPUNCH:
		return op_fpunch(r, op, noop);
	case ESCK_OP_FALLOC:
		return op_falloc(r, op);
	case ESCK_OP_PWRITE:
		return op_pwrite(r, op, noop);
	case ESCK_OP_FSYNC:
		return op_fsync(r, noop);
	}
	return EINVAL;
}

static errcode_t run_op(struct esck_replay *r, const struct esck_op *op,
			int *noop)
{
	errcode_t retval;
	int saved;

	if (op->type == ESCK_OP_OPEN)
		return op_open(r, op);
	if (op->type == ESCK_OP_INODE)
		return select_ino(r, op->ino, 0);
	if (r->cur && r->cur->damage[0]) {
		r->detail = r->cur->damage;
		return ESCK_ET_CORRUPT_TREE;
	}
	trust_csums(r, &saved);
	retval = run_data_op(r, op, noop);
	untrust_csums(r, saved);
	return retval;
}

/*
 * The end of the script for one file: its dirty data written back, all or
 * nothing, then verified.  A failure of the writeback is returned (no op is
 * left to report it with); *fatal is set when the replay cannot go on.
 */
static errcode_t end_writeback(struct esck_replay *r, struct replay_file *f,
			       errcode_t *fatal)
{
	struct replay_file *cur = r->cur;
	uint32_t lo = 1, hi = 0;
	errcode_t retval, err;

	if (!f->pend.nr || r->opts.dry_run || !f->ino)
		return 0;
	r->cur = f;
	r->detail = NULL;
	err = txio_begin(r->fs->io);
	if (!err)
		err = replay_pend_copy(&r->save, &f->pend, r->fs->blocksize);
	if (!err) {
		r->save_file = f;
		err = replay_writeback(r, f, &lo, &hi);
	}
	if (!err)
		err = replay_flush(r);
	if (!err)
		err = txio_commit(r->fs->io);
	retval = err ? recover(r) : 0;
	forget_saved(r);
	if (!err && !retval && r->opts.verify == ESCK_VERIFY_FULL)
		retval = replay_verify(r, f, 0, LBLK_LAST);
	else if (!err && !retval && r->opts.verify == ESCK_VERIFY_RANGE &&
		 lo <= hi)
		retval = replay_verify(r, f, lo ? lo - 1 : 0,
				       hi < LBLK_LAST ? hi + 1 : LBLK_LAST);
	r->cur = cur;
	*fatal = retval;
	return err;
}

/*
 * Write the open group out: 0 to go on, 1 to replay from the group's
 * start (its write failed; *i is set), -1 to stop (*retval is set).
 */
static int settle(struct esck_replay *r, size_t *i, errcode_t *retval)
{
	int rerun;

	*retval = replay_group_settle(r, &rerun);
	if (*retval) {
		r->cur = NULL;
		return -1;
	}
	if (rerun)
		*i = r->grp.start;
	return rerun;
}

errcode_t esck_replay_run(struct esck_replay *r, const struct esck_script *s,
			  const struct esck_replay_ops *ops,
			  struct esck_replay_summary *sum)
{
	struct esck_replay_result res;
	const struct esck_op *op = NULL;
	struct replay_file *prev;
	errcode_t retval = 0, err;
	size_t i;
	int noop, tx, short_write, grouped, settled, full;
	errcode_t end_err = 0;

	if (!r || !s || !sum)
		return EINVAL;
	memset(sum, 0, sizeof(*sum));
	r->ops = ops;
	r->sum = sum;
	replay_group_free(r);
	r->grp.on = !r->opts.dry_run && r->opts.verify != ESCK_VERIFY_FULL;
	for (i = 0;;) {
		int stop = i >= s->nr;

		if (!stop && ops && ops->stop && ops->stop(ops->arg)) {
			sum->interrupted = 1;
			stop = 1;
		}
		/* The group is written out before an op that cannot join it. */
		if (r->grp.active &&
		    (stop || !replay_groupable(r, i, &s->ops[i]))) {
			settled = settle(r, &i, &retval);
			if (settled < 0)
				break;
			if (settled)
				continue;
		}
		if (stop)
			break;
		op = &s->ops[i];
		r->op = op;
		r->detail = NULL;
		r->vlo = 1;
		r->vhi = 0;
		noop = 0;
		prev = r->cur;
		tx = !r->opts.dry_run;
		grouped = replay_groupable(r, i, op);
		if (grouped && !r->grp.active &&
		    replay_group_start(r, i) != 0)
			grouped = 0;
		replay_group_op_begin(r, i, grouped);
		err = tx ? txio_begin(r->fs->io) : 0;
		if (!err && tx)
			err = save_pending(r, op);
		if (!err)
			err = run_op(r, op, &noop);
		if (!err && tx)
			err = grouped ? replay_group_op_flush(r) : replay_flush(r);
		if (!err && tx)
			err = txio_commit(r->fs->io);
		if (!err && tx && grouped)
			replay_group_op_done(r);
		if (err && tx && grouped) {
			/*
			 * The group's earlier ops are written out before this
			 * one is rolled back and told; one that failed only
			 * for the group's memory is tried again alone.  If its
			 * half cannot be told from what they left to write,
			 * the group is redone op by op up to it instead.
			 */
			full = txio_group_full(r->fs->io);
			replay_release_reserve(r);
			(void)txio_rollback(r->fs->io);
			if (replay_group_tainted(r)) {
				retval = replay_group_redo(r, i);
				if (retval) {
					r->cur = NULL;
					break;
				}
				i = r->grp.start;
				continue;
			}
			settled = settle(r, &i, &retval);
			if (settled < 0)
				break;
			if (settled)
				continue;
			if (full) {
				retval = recover(r);
				forget_saved(r);
				if (retval) {
					r->cur = NULL;
					break;
				}
				r->grp.solo_until = i + 1;
				continue;
			}
		}
		if (err && tx) {
			retval = recover(r);
			if (retval) {
				r->cur = NULL;
				break;
			}
		}
		forget_saved(r);
		short_write = !err && r->late_err;
		if (short_write)
			err = r->late_err;
		r->late_err = 0;
		/* A failed open leaves the previous file current, as xfs_io. */
		if (err &&
		    (op->type == ESCK_OP_OPEN || op->type == ESCK_OP_INODE))
			r->cur = prev;
		if (r->grp.active)
			r->grp.end = i + 1;
		i++;
		sum->ops++;
		if (err)
			sum->failed++;
		else
			sum->ok++;
		if (noop)
			sum->noops++;
		memset(&res, 0, sizeof(res));
		res.op = op;
		res.ino = r->cur ? r->cur->ino : 0;
		res.err = err;
		res.noop = noop;
		res.detail = r->detail;
		replay_report_op(r, &res);
		if ((err && !short_write) || !r->cur ||
		    r->opts.verify == ESCK_VERIFY_END)
			retval = 0;
		else if (r->opts.verify == ESCK_VERIFY_FULL)
			retval = replay_verify(r, r->cur, 0, LBLK_LAST);
		else if (r->vlo <= r->vhi)
			retval = replay_verify(r, r->cur,
					       r->vlo ? r->vlo - 1 : 0,
					       r->vhi < LBLK_LAST ? r->vhi + 1
								  : LBLK_LAST);
		if (retval) {
			/* What was done stands: write it, then stop. */
			(void)replay_group_settle(r, &settled);
			break;
		}
		if (replay_group_due(r) && settle(r, &i, &retval) < 0)
			break;
	}
	if (r->grp.redo) {
		/* Stopped before the op the redo was for. */
		(void)txio_fault_hold(0);
		r->grp.redo = 0;
	}
	/*
	 * xfs_io's exit closes the files; the unmount writes the rest back.
	 * (A truncate to 0 makes the kernel write a file's delalloc data back
	 * at its close, auto_da_alloc's EXT4_STATE_DA_ALLOC_CLOSE: that close
	 * is this same moment, so nothing tells the two apart.)
	 */
	for (i = 0; i < r->nr_files && !retval; i++) {
		r->op = op;
		err = end_writeback(r, r->files[i], &retval);
		if (err && !end_err)
			end_err = err;
	}
	if (!retval && r->opts.verify == ESCK_VERIFY_END) {
		r->op = op;
		for (i = 0; i < r->nr_files && !retval; i++)
			retval = replay_verify(r, r->files[i], 0, LBLK_LAST);
	}
	es_cache_stats(&r->cache, &sum->cache);
	return retval ? retval : end_err;
}

/* ---- no script: finish the orphan list as the kernel does at mount ---- */

/* One orphan: truncate to i_size, or release it when no name is left. */
static errcode_t orphan_one(struct esck_replay *r, uint32_t ino, int *released)
{
	struct ext2_inode inode;
	errcode_t retval;

	retval = ext2fs_read_inode(r->fs, ino, &inode);
	if (retval)
		return retval;
	*released = !inode.i_links_count;
	if (ext2fs_inode_has_valid_blocks2(r->fs, &inode)) {
		retval = select_ino(r, ino, 0);
		if (retval)
			return retval;
		/* A damaged orphan stays on the list, untouched. */
		if (r->cur->damage[0]) {
			r->detail = r->cur->damage;
			return ESCK_ET_CORRUPT_TREE;
		}
		retval =
			truncate_cur(r, *released ? 0 : EXT2_I_SIZE(&inode), 1);
		if (retval)
			return retval;
		retval = ext2fs_read_inode(r->fs, ino, &inode);
		if (retval)
			return retval;
	} else {
		/*
		 * A fast symlink or an inline inode: no blocks to free, just
		 * unlink it.
		 */
		if (r->fs->super->s_last_orphan == ino) {
			r->fs->super->s_last_orphan = inode.i_dtime;
			ext2fs_mark_super_dirty(r->fs);
		}
		inode.i_dtime = 0;
	}
	if (*released) {
		/*
		 * Freed as e2fsck's release_orphan_inode: dtime set, bitmap
		 * cleared.
		 */
		inode.i_dtime = (__u32)time(NULL);
		ext2fs_inode_alloc_stats2(r->fs, ino, -1,
					  LINUX_S_ISDIR(inode.i_mode));
	}
	return ext2fs_write_inode(r->fs, ino, &inode);
}

errcode_t esck_replay_orphans(struct esck_replay *r,
			      const struct esck_replay_ops *ops,
			      struct esck_replay_summary *sum)
{
	struct esck_replay_result res;
	struct replay_ofile_pos pos;
	struct esck_op *op;
	uint64_t seen = 0;
	uint32_t ino;
	errcode_t retval = 0, err;
	int released, in_file = 0;

	if (!r || !sum)
		return EINVAL;
	memset(sum, 0, sizeof(*sum));
	r->ops = ops;
	r->sum = sum;
	if (r->opts.dry_run)
		return EROFS;
	memset(&pos, 0, sizeof(pos));
	/* The list first, then the orphan file, as the kernel's cleanup. */
	for (;;) {
		if (!in_file) {
			ino = r->fs->super->s_last_orphan;
			if (!ino && ext2fs_has_feature_orphan_file(r->fs->super)) {
				in_file = 1;
				continue;
			}
		} else {
			retval = replay_ofile_next(r, &pos, &ino);
			if (retval)
				return retval;
		}
		if (!ino)
			break;
		if (ops && ops->stop && ops->stop(ops->arg)) {
			sum->interrupted = 1;
			break;
		}
		/* A loop in the list must not run forever. */
		if (!in_file && (ino > r->fs->super->s_inodes_count ||
				 ++seen > r->fs->super->s_inodes_count))
			return ESCK_ET_CORRUPT_TREE;
		op = &r->orphan_op;
		memset(op, 0, sizeof(*op));
		op->type = ESCK_OP_TRUNCATE;
		op->ino = ino;
		r->op = op;
		r->detail = NULL;
		released = 0;
		err = txio_begin(r->fs->io);
		if (!err)
			err = orphan_one(r, ino, &released);
		if (!err && in_file)
			err = replay_ofile_clear(r, &pos);
		if (!err)
			err = replay_flush(r);
		if (!err)
			err = txio_commit(r->fs->io);
		if (err) {
			retval = recover(r);
			if (retval)
				return retval;
		}
		op->offset = r->cur && r->cur->ino == ino ? r->cur->size : 0;
		sum->ops++;
		if (err)
			sum->failed++;
		else
			sum->ok++;
		memset(&res, 0, sizeof(res));
		res.op = op;
		res.ino = ino;
		res.err = err;
		res.noop = released; /* for orphans: the inode was released */
		res.detail = r->detail;
		if (ops && ops->op)
			ops->op(ops->arg, &res);
		/* The list cannot go past an orphan that stays on it. */
		if (err)
			break;
		if (!released && r->cur && r->cur->ino == ino)
			retval = replay_verify(r, r->cur, 0, LBLK_LAST);
		if (retval)
			break;
		pos.slot += in_file;
	}
	/* Every entry done: orphan_present goes, as the kernel clears it. */
	if (!retval && !sum->failed && !sum->interrupted &&
	    ext2fs_has_feature_orphan_file(r->fs->super)) {
		err = txio_begin(r->fs->io);
		if (!err)
			err = replay_ofile_done(r);
		if (!err)
			err = replay_flush(r);
		if (!err)
			err = txio_commit(r->fs->io);
		if (err) {
			retval = recover(r);
			if (!retval)
				retval = err;
		}
	}
	es_cache_stats(&r->cache, &sum->cache);
	return retval;
}
