/* FFTW reference timings for mec bench --suite fft, one transform kind per run:
 *   c128    complex double, in place, forward        (libfftw3)
 *   c64     complex single, in place, forward        (libfftw3f)
 *   r2c128  real double -> n/2+1 complex, forward    (libfftw3, out of place)
 *   r2c64   real single -> n/2+1 complex, forward    (libfftw3f, out of place)
 * all planned with FFTW_MEASURE on the given number of threads.
 * Build (make peer-fftw):
 *   gcc -O2 fftw_kinds.c -lfftw3 -lfftw3f -lfftw3_threads -lfftw3f_threads -lm -o fftw_kinds
 * Usage: fftw_kinds KIND THREADS LOG2MIN LOG2MAX
 * Prints one JSON object per size: {"kind":K,"n":N,"threads":T,"ns_per_fft":X,"mflops":Y}
 * (mflops: the conventional 5 N log2 N, halved for the real kinds). */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* best returns the best ns per call of exec(p) over 3 batches of >= 0.1 s. */
#define BEST(EXEC, P, OUT)                                                   \
  do {                                                                       \
    int reps = 1;                                                            \
    double t;                                                                \
    for (;;) {                                                               \
      t = now();                                                             \
      for (int r = 0; r < reps; r++) EXEC(P);                                \
      t = now() - t;                                                         \
      if (t >= 0.1) break;                                                   \
      reps *= 2;                                                             \
    }                                                                        \
    double b = t;                                                            \
    for (int k = 0; k < 2; k++) {                                            \
      t = now();                                                             \
      for (int r = 0; r < reps; r++) EXEC(P);                                \
      t = now() - t;                                                         \
      if (t < b) b = t;                                                      \
    }                                                                        \
    OUT = b / reps * 1e9;                                                    \
  } while (0)

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: fftw_kinds c128|c64|r2c128|r2c64 THREADS LOG2MIN LOG2MAX\n");
    return 2;
  }
  const char *kind = argv[1];
  int threads = atoi(argv[2]), lo = atoi(argv[3]), hi = atoi(argv[4]);
  int dbl = !strcmp(kind, "c128") || !strcmp(kind, "r2c128");
  int real = !strncmp(kind, "r2c", 3);
  if (!dbl && strcmp(kind, "c64") && strcmp(kind, "r2c64")) {
    fprintf(stderr, "fftw_kinds: unknown kind %s\n", kind);
    return 2;
  }
  if (threads < 1 || lo < 1 || hi < lo || hi > 26) {
    fprintf(stderr, "fftw_kinds: bad threads or sizes\n");
    return 2;
  }
  fftw_init_threads();
  fftwf_init_threads();
  fftw_plan_with_nthreads(threads);
  fftwf_plan_with_nthreads(threads);
  for (int k = lo; k <= hi; k++) {
    long n = 1L << k;
    double ns;
    if (dbl) {
      fftw_complex *c = fftw_malloc(sizeof(fftw_complex) * n);
      double *r = fftw_malloc(sizeof(double) * n);
      fftw_plan p = real ? fftw_plan_dft_r2c_1d(n, r, c, FFTW_MEASURE)
                         : fftw_plan_dft_1d(n, c, c, FFTW_FORWARD, FFTW_MEASURE);
      for (long i = 0; i < n; i++) { r[i] = sin(0.001 * i); c[i][0] = sin(0.001 * i); c[i][1] = cos(0.003 * i); }
      BEST(fftw_execute, p, ns);
      fftw_destroy_plan(p);
      fftw_free(c);
      fftw_free(r);
    } else {
      fftwf_complex *c = fftwf_malloc(sizeof(fftwf_complex) * n);
      float *r = fftwf_malloc(sizeof(float) * n);
      fftwf_plan p = real ? fftwf_plan_dft_r2c_1d(n, r, c, FFTW_MEASURE)
                          : fftwf_plan_dft_1d(n, c, c, FFTW_FORWARD, FFTW_MEASURE);
      for (long i = 0; i < n; i++) { r[i] = sinf(0.001f * i); c[i][0] = sinf(0.001f * i); c[i][1] = cosf(0.003f * i); }
      BEST(fftwf_execute, p, ns);
      fftwf_destroy_plan(p);
      fftwf_free(c);
      fftwf_free(r);
    }
    double flops = 5.0 * n * k * (real ? 0.5 : 1.0);
    printf("{\"kind\":\"%s\",\"n\":%ld,\"threads\":%d,\"ns_per_fft\":%.1f,\"mflops\":%.0f}\n", kind, n, threads, ns,
           flops / ns * 1e3);
    fflush(stdout);
  }
  return 0;
}
