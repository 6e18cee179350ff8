/* grow.c --- one doubling step for the library's growable arrays, overflow checked */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

int esck_grow(void **arr, size_t *cap, size_t nr, size_t size, size_t first)
{
	size_t ncap;
	void *n;

	if (nr < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : first;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return ENOMEM;
	n = realloc(*arr, ncap * size);
	if (!n)
		return ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}
