/* crc32c.h --- the CRC32C of metadata checksums, with the CPU's instruction where it has one */
#ifndef ESCK_CRC32C_H
#define ESCK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * The same value as ext2fs_crc32c_le(crc, buf, len): the reflected
 * Castagnoli CRC of buf continued from crc, no inversion either side.
 */
uint32_t esck_crc32c(uint32_t crc, const void *buf, size_t len);

/* As esck_crc32c(), always table-driven (for tests). */
uint32_t esck_crc32c_soft(uint32_t crc, const void *buf, size_t len);

/* Whether esck_crc32c() uses the CPU's crc32 instruction. */
int esck_crc32c_hw(void);

#endif /* ESCK_CRC32C_H */
