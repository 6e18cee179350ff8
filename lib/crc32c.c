/* crc32c.c --- CRC32C with SSE4.2 where the CPU has it, a table otherwise; libext2fs's too */
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "crc32c.h"

static uint32_t table[256];
static int table_ready;

uint32_t esck_crc32c_soft(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t i, c;
	int k;

	if (!table_ready) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
			table[i] = c;
		}
		table_ready = 1;
	}
	for (; len; p++, len--)
		crc = table[(crc ^ *p) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ESCK_CRC32C_X86 1

/*
 * Checksumming every tree node read and written is most of a replay's and
 * an inspect's CPU time through libext2fs's table-driven code; the
 * instruction does 8 bytes a cycle or so.
 */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t c = crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, p, sizeof(w)); /* little-endian: x86 */
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	for (; len; p++, len--)
		crc = __builtin_ia32_crc32qi(crc, *p);
	return crc;
}
#endif

static int use_hw = -1;

int esck_crc32c_hw(void)
{
	if (use_hw < 0) {
#ifdef ESCK_CRC32C_X86
		__builtin_cpu_init();
		use_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
		use_hw = 0;
#endif
	}
	return use_hw;
}

uint32_t esck_crc32c(uint32_t crc, const void *buf, size_t len)
{
#ifdef ESCK_CRC32C_X86
	if (esck_crc32c_hw())
		return crc32c_sse42(crc, buf, len);
#endif
	return esck_crc32c_soft(crc, buf, len);
}

/*
 * libext2fs checksums every tree node, inode, bitmap and descriptor it
 * writes with ext2fs_crc32c_le(), which it calls through its PLT: defined
 * in our executables, this one preempts the library's (ELF symbol
 * interposition), so those checksums get the instruction too -- a tenth of
 * a replay's time went to the library's tables.  The contract is the
 * library's; tests/lib/test-crc32c checks it against the library's own
 * code and a bitwise CRC, and that the library really calls this one.
 */
__u32 ext2fs_crc32c_le(__u32 crc, unsigned char const *p, size_t len)
{
	return esck_crc32c(crc, p, len);
}
