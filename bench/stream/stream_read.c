/* An independent, STREAM-like check of `rooflm probe`: read bandwidth (sum of a float array)
* and triad bandwidth (a = b + s*c) with OpenMP threads, for a working set that fits in L3 and
 * one that does not (-ffast-math lets the read reduction vectorize). Written separately from src/roofline/probe.cpp on purpose.
 *   gcc -O3 -ffast-math -march=native -fopenmp bench/stream/stream_read.c -o stream_read && OMP_NUM_THREADS=2 ./stream_read */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static double now(void) { return omp_get_wtime(); }

static void run(size_t bytes) {
  size_t n = bytes / sizeof(float) / 3;
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4);
#pragma omp parallel for
  for (size_t i = 0; i < n; i++) { a[i] = 1; b[i] = 2; c[i] = 3; }
  double best_read = 1e30, best_triad = 1e30, sink = 0;
  for (int rep = 0; rep < 10; rep++) {
    double t0 = now(), s = 0;
#pragma omp parallel for reduction(+ : s)
    for (size_t i = 0; i < n; i++) s += b[i] + c[i];
    double t1 = now();
    sink += s;
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
    double t2 = now();
    if (t1 - t0 < best_read) best_read = t1 - t0;
    if (t2 - t1 < best_triad) best_triad = t2 - t1;
  }
  printf("working set %7.1f MiB  read %6.1f GB/s  triad %6.1f GB/s  (threads %d, best of 10)%s\n",
         3.0 * n * 4 / 1048576, 2.0 * n * 4 / best_read / 1e9, 3.0 * n * 4 / best_triad / 1e9,
         omp_get_max_threads(), sink < 0 ? "!" : "");
  free(a); free(b); free(c);
}

int main(void) {
  run((size_t)24 << 20);    /* L3 (300 MiB shared) */
  run((size_t)75 << 20);    /* L3, the probe's L3 working set */
  run((size_t)1200 << 20);  /* DRAM */
  return 0;
}
