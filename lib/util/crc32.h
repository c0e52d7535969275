/* CRC-32 (IEEE 802.3 polynomial, as zlib), for the model file's section checks. */
#ifndef RI_CRC32_H
#define RI_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc over data; start with crc = 0. */
uint32_t ri_crc32(uint32_t crc, const void *data, size_t len);

#endif
