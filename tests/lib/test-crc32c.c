/* test-crc32c.c --- TAP tests: lib/crc32c.c agrees with libext2fs and a bitwise CRC32C on every length and alignment */
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

int main(void)
{
	static unsigned char buf[65536 + 16];
	size_t len, off, bad = 0, cases = 0;
	uint32_t seed = 0x12345678u;

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

	bad = 0;
	for (len = 1024; len <= 65536; len *= 2) {
		uint32_t crc = (uint32_t)len * 2654435761u;

		if (esck_crc32c(crc, buf + 3, len) != ext2fs_crc32c_le(crc, buf + 3, len) ||
		    esck_crc32c(crc, buf + 3, len) != bitwise(crc, buf + 3, len))
			bad++;
	}
	ok(bad == 0, "block-sized buffers 1 KiB..64 KiB agree with ext2fs_crc32c_le");

	/* Continuing a crc over a split buffer is the same as one pass. */
	ok(esck_crc32c(esck_crc32c(7u, buf, 1001), buf + 1001, 3095) ==
	   esck_crc32c(7u, buf, 4096), "a crc continued over two pieces");
	return done();
}
