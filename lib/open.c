/* open.c --- open and close an image, its mount state, inode lookup, kind and mapping names */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esck_int.h"

/* The mount check must never stop an inspection: an unknown state is 0. */
static int mount_state(const char *image)
{
	int mf = 0;

	if (ext2fs_check_if_mounted(image, &mf))
		return 0;
	if (!(mf & EXT2_MF_MOUNTED))
		return 0;
	return ESCK_MOUNTED | ((mf & EXT2_MF_READONLY) ? ESCK_MOUNTED_RO : 0);
}

/* Block 0 holds the superblock unless blocks are 1 KiB (without bigalloc). */
static int first_data_block_ok(ext2_filsys fs)
{
	uint32_t first = fs->super->s_first_data_block;

	if (first >= ext2fs_blocks_count(fs->super))
		return 0;
	if (fs->blocksize == 1024 && !ext2fs_has_feature_bigalloc(fs->super))
		return first <= 1;
	return first == 0;
}

errcode_t esck_open(const char *image, int flags, struct esck_fs **ret)
{
	errcode_t retval;
	struct esck_fs *efs;
	int oflags;

	if (!image || !ret)
		return EINVAL;
	*ret = NULL;
	efs = calloc(1, sizeof(*efs));
	if (!efs)
		return ENOMEM;
	efs->flags = flags;

	/*
	 * Checksum failures are findings for the checks to report, not a
	 * reason to refuse the image; MMP's multi-second handshake is only
	 * meant for writers that could collide with another node.
	 */
	oflags = EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS |
		 EXT2_FLAG_SKIP_MMP | EXT2_FLAG_SOFTSUPP_FEATURES;
	if (flags & ESCK_OPEN_RW)
		oflags |= EXT2_FLAG_RW;
	retval = ext2fs_open2(image, NULL, oflags, 0, 0, unix_io_manager, &efs->fs);
	if (retval)
		goto out_free;

	/*
	 * libext2fs 1.47.0 trusts s_first_data_block when it sizes the
	 * bitmaps and overruns its buffers when the value does not match the
	 * block size (the kernel refuses such a superblock too).
	 */
	if (!first_data_block_ok(efs->fs)) {
		retval = EXT2_ET_CORRUPT_SUPERBLOCK;
		goto out_close;
	}

	/* libext2fs does not replay journals; reading around one lies. */
	if (ext2fs_has_feature_journal_needs_recovery(efs->fs->super) &&
	    !(flags & ESCK_OPEN_FORCE)) {
		retval = ESCK_ET_JOURNAL_NEEDS_RECOVERY;
		goto out_close;
	}
	efs->mount_state = mount_state(image);
	*ret = efs;
	return 0;

out_close:
	ext2fs_close_free(&efs->fs);
out_free:
	free(efs);
	return retval;
}

errcode_t esck_close(struct esck_fs *efs)
{
	errcode_t retval;

	if (!efs)
		return 0;
	retval = ext2fs_close_free(&efs->fs);
	free(efs);
	return retval;
}

int esck_mount_state(const struct esck_fs *efs)
{
	return efs ? efs->mount_state : 0;
}

errcode_t esck_resolve_inode(struct esck_fs *efs, const char *spec, uint32_t *ino)
{
	errcode_t retval;
	ext2_ino_t found;
	uint64_t n = 0;
	const char *p;

	if (!efs || !spec || !ino)
		return EINVAL;
	if (spec[0] == '/') {
		retval = ext2fs_namei(efs->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, spec, &found);
		if (retval == EXT2_ET_FILE_NOT_FOUND)
			return ESCK_ET_NOT_FOUND;
		if (retval)
			return retval;
		*ino = found;
		return 0;
	}
	if (!*spec)
		return ESCK_ET_BAD_INODE;
	for (p = spec; *p; p++) {
		if (*p < '0' || *p > '9')
			return ESCK_ET_BAD_INODE;
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return ESCK_ET_BAD_INODE;
	}
	if (n < 1 || n > efs->fs->super->s_inodes_count)
		return ESCK_ET_BAD_INODE;
	*ino = (uint32_t)n;
	return 0;
}

const char *esck_kind_name(enum esck_kind kind)
{
	static const char *const names[ESCK_KIND_COUNT] = {
		[ESCK_KIND_REGULAR] = "regular",
		[ESCK_KIND_DIRECTORY] = "directory",
		[ESCK_KIND_SYMLINK] = "symlink",
		[ESCK_KIND_CHARDEV] = "chardev",
		[ESCK_KIND_BLOCKDEV] = "blockdev",
		[ESCK_KIND_FIFO] = "fifo",
		[ESCK_KIND_SOCKET] = "socket",
		[ESCK_KIND_SPECIAL] = "special",
	};

	if ((unsigned int)kind >= ESCK_KIND_COUNT)
		return "?";
	return names[kind];
}

const char *esck_mapping_name(enum esck_mapping m)
{
	static const char *const names[ESCK_MAPPING_COUNT] = {
		[ESCK_MAPPING_EXTENTS] = "extents",
		[ESCK_MAPPING_BLOCKS] = "blocks",
		[ESCK_MAPPING_INLINE] = "inline",
		[ESCK_MAPPING_NONE] = "none",
	};

	if ((unsigned int)m >= ESCK_MAPPING_COUNT)
		return "?";
	return names[m];
}
