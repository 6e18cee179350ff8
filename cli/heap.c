/* heap.c --- the memory a command knows it will need, taken in one call rather than a page fault per page */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cmd.h"

/*
 * Where page faults are dear, and on virtual machines with shadow page
 * tables they are (15-40 us each on ours), populating the same pages with
 * one madvise() costs about 1 us a page.  A replay of 20,000 punches on a
 * 16 GiB image took 695 faults, 600 of them on memory malloc() had just
 * handed out: the ops array, the bitmaps libext2fs allocates when it
 * opens, the buffers of each op.
 *
 * glibc gives blocks of 128 KiB and more fresh mappings of their own, so
 * it is told to take them from the heap (M_MMAP_THRESHOLD) and to keep
 * what is freed there (M_TRIM_THRESHOLD); then one block of the size
 * expected is allocated, populated and freed, and the allocations that
 * follow find its pages present.  Elsewhere, or before Linux 5.14's
 * MADV_POPULATE_WRITE, nothing is done: it is only faster.
 */
void cmd_heap_reserve(uint64_t bytes)
{
#if defined(__GLIBC__) && defined(MADV_POPULATE_WRITE) && defined(M_MMAP_THRESHOLD)
	const uint64_t cap = UINT64_C(64) << 20;
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t a, b;
	char *p;

	if (bytes > cap)
		bytes = cap;
	if (page <= 0 || bytes < 2 * (uint64_t)page)
		return;
	if (!mallopt(M_MMAP_THRESHOLD, (int)cap) ||
	    !mallopt(M_TRIM_THRESHOLD, (int)(2 * cap)))
		return;
	p = malloc((size_t)bytes);
	if (!p)
		return;
	a = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	b = ((uintptr_t)p + (uintptr_t)bytes) & ~((uintptr_t)page - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
	free(p);
#else
	(void)bytes;
#endif
}
