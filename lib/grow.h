/* grow.h --- make room for one more element in a doubling array */
#ifndef ESCK_GROW_H
#define ESCK_GROW_H

#include <stddef.h>

/*
 * If nr == *cap, double the array at *arr (to first elements when empty)
 * of elements of size bytes.  0, or ENOMEM when the allocation fails or
 * the new size would overflow; *arr and *cap are then unchanged.  Pass a
 * void * variable, not a cast typed pointer: *arr is written through.
 */
int esck_grow(void **arr, size_t *cap, size_t nr, size_t size, size_t first);

#endif /* ESCK_GROW_H */
