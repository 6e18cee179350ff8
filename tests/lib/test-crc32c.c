/* test-crc32c.c --- TAP tests: lib/crc32c.c agrees with libext2fs and a bitwise CRC32C on every length and alignment, and libext2fs uses it */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "crc32c.h"
#include "../unit/tap.h"

/* Bit by bit: a third opinion that shares no table with either. */
static uint32_t bitwise(uint32_t crc, const unsigned char *p, size_t len)
{
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return crc;
}

typedef __u32 (*crc_fn)(__u32, unsigned char const *, size_t);

int main(void)
{
	static unsigned char buf[65536 + 16];
	size_t len, off, bad = 0, cases = 0;
	uint32_t seed = 0x12345678u;
	/* libext2fs's own, which ours preempts: the next definition after us */
	crc_fn lib = (crc_fn)(uintptr_t)dlsym(RTLD_NEXT, "ext2fs_crc32c_le");
	crc_fn global = (crc_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "ext2fs_crc32c_le");

	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	diag("the CPU's crc32 instruction is %s", esck_crc32c_hw() ? "used" : "not available");

	/* "123456789" from ~0 is the standard check value once inverted. */
	ok((~esck_crc32c(~0u, "123456789", 9)) == 0xE3069283u,
	   "the CRC32C check value of \"123456789\"");
	ok(esck_crc32c(0x9abcdef0u, buf, 0) == 0x9abcdef0u, "an empty buffer leaves the crc");

	for (off = 0; off < 16; off++)
		for (len = 0; len <= 80; len++) {
			uint32_t want = bitwise(0xffffffffu, buf + off, len);

			cases++;
			if (esck_crc32c(0xffffffffu, buf + off, len) != want ||
			    esck_crc32c_soft(0xffffffffu, buf + off, len) != want)
				bad++;
		}
	ok(bad == 0, "every length 0..80 at every alignment 0..15: %zu of %zu differ", bad, cases);

	/* Three chains from 1 KiB on: every length around that and the blocks. */
	bad = cases = 0;
	for (off = 0; off < 4; off++)
		for (len = 1000; len <= 1100; len++) {
			cases++;
			if (esck_crc32c(0x1234567u, buf + off, len) !=
			    bitwise(0x1234567u, buf + off, len))
				bad++;
		}
	for (len = 1024; len <= 65536; len *= 2)
		for (off = 0; off < 3; off++) {
			size_t l = len - 1 + off; /* len - 1, len, len + 1 */

			cases++;
			if (esck_crc32c(~0u, buf + 1, l) != bitwise(~0u, buf + 1, l))
				bad++;
		}
	ok(bad == 0, "lengths 1000..1100 and 1 KiB..64 KiB (+-1), in three chains: %zu of %zu differ",
	   bad, cases);

	/* libext2fs checksums a superblock through the PLT: ours, bit for bit */
	{
		struct struct_ext2_filsys fs;
		struct ext2_super_block sb;

		memcpy(&sb, buf, sizeof(sb));
		sb.s_feature_ro_compat = EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
		memset(&fs, 0, sizeof(fs));
		fs.super = &sb;
		ext2fs_superblock_csum_set(&fs, &sb);
		ok(sb.s_checksum == bitwise(~0u, (unsigned char *)&sb,
					    offsetof(struct ext2_super_block, s_checksum)),
		   "a superblock checksum libext2fs computes is the CRC32C");
	}
	ok(lib && lib != ext2fs_crc32c_le, "libext2fs's ext2fs_crc32c_le is found behind ours");
	/* What the library's calls through its PLT resolve to. */
	ok(global == ext2fs_crc32c_le, "the process's ext2fs_crc32c_le is ours");
	bad = 0;
	for (len = 1024; len <= 65536 && lib; len *= 2) {
		uint32_t crc = (uint32_t)len * 2654435761u;

		if (esck_crc32c(crc, buf + 3, len) != lib(crc, buf + 3, len) ||
		    ext2fs_crc32c_le(crc, buf + 3, len) != lib(crc, buf + 3, len) ||
		    esck_crc32c(crc, buf + 3, len) != bitwise(crc, buf + 3, len))
			bad++;
	}
	for (len = 0; len <= 80 && lib; len++)
		if (ext2fs_crc32c_le(~0u, buf + 5, len) != lib(~0u, buf + 5, len))
			bad++;
	ok(bad == 0 && lib, "lengths 0..80 and block-sized buffers 1 KiB..64 KiB agree with libext2fs's own code");

	/* Continuing a crc over a split buffer is the same as one pass. */
	ok(esck_crc32c(esck_crc32c(7u, buf, 1001), buf + 1001, 3095) ==
	   esck_crc32c(7u, buf, 4096), "a crc continued over two pieces");
	return done();
}
