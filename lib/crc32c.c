/* crc32c.c --- CRC32C with SSE4.2 where the CPU has it, a table otherwise; libext2fs's too */
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "crc32c.h"

#define CRC32C_POLY 0x82F63B78u /* reflected: bit 31 is x^0 */

/* c * x modulo the polynomial, reflected: one bit of the bitwise CRC. */
static inline uint32_t times_x(uint32_t c)
{
	return (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
}

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
				c = times_x(c);
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

/*
 * The instruction takes 3 cycles and can start one a cycle, so a single
 * chain runs at a third of its speed.  Blocks (tree nodes, bitmaps, the
 * superblock) go as three chains over three thirds, joined with the
 * linearity of the CRC: the register after A then B is the register after
 * A carried over |B| zero bytes, xor the register of B alone; carrying
 * over n zero bytes multiplies by x^(8n) modulo the polynomial.
 */
#define LANES_FROM 1024		/* shorter buffers go as one chain */

/* a * b modulo the polynomial, both reflected. */
static uint32_t gf2_mulmod(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;
	int i;

	for (i = 0; i < 32; i++) {
		if (a & (0x80000000u >> i)) /* the coefficient of x^i */
			prod ^= b;
		b = times_x(b);
	}
	return prod;
}

/* x^(8n) modulo the polynomial: n zero bytes. */
static uint32_t zeros_factor(uint64_t n)
{
	uint32_t result = 0x80000000u, base = 0x40000000u; /* 1, x */
	uint64_t e = 8 * n;

	for (; e; e >>= 1) {
		if (e & 1)
			result = gf2_mulmod(result, base);
		base = gf2_mulmod(base, base);
	}
	return result;
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42_lanes(uint32_t crc, const unsigned char *p, size_t len)
{
	/* Block sizes repeat: the factor of the last lane length is kept. */
	static size_t factor_len;
	static uint32_t factor;
	size_t n = (len / 3) & ~(size_t)7, i;
	uint64_t a = crc, b = 0, c = 0;

	for (i = 0; i < n; i += 8) {
		uint64_t wa, wb, wc;

		memcpy(&wa, p + i, 8);
		memcpy(&wb, p + n + i, 8);
		memcpy(&wc, p + 2 * n + i, 8);
		a = __builtin_ia32_crc32di(a, wa);
		b = __builtin_ia32_crc32di(b, wb);
		c = __builtin_ia32_crc32di(c, wc);
	}
	if (factor_len != n) {
		factor = zeros_factor(n);
		factor_len = n;
	}
	crc = gf2_mulmod(factor, (uint32_t)a) ^ (uint32_t)b;
	crc = gf2_mulmod(factor, crc) ^ (uint32_t)c;
	return crc32c_sse42(crc, p + 3 * n, len - 3 * n);
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
		return len >= LANES_FROM ? crc32c_sse42_lanes(crc, buf, len)
					 : crc32c_sse42(crc, buf, len);
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
