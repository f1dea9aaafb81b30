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
 * (mflops: the conventional 5 N log2 N, halved for the real kinds).
 *
 * Values mode, for checking mec's transforms against FFTW's numbers:
 *   fftw_kinds values KIND forward|backward N
 * reads one input vector from stdin and writes FFTW's transform of it to
 * stdout, both raw native-endian IEEE values (a complex value is its real
 * then imaginary part, as fftw_complex and Go's complex types lay them out):
 *   c128, c64   forward and backward: N complex in, N complex out
 *   r2c128/64   forward (r2c): N reals in, N/2+1 complex out;
 *               backward (c2r): N/2+1 complex in, N reals out
 * any N >= 1, one thread, out of place, FFTW_ESTIMATE. The backward
 * transforms are FFTW's, unnormalised (mec's inverse is 1/N times them).
 * Input of the wrong length is an error (exit 1, a message on stderr). */
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

/* readAll reads exactly n bytes of stdin into p and checks that nothing follows. */
static int readAll(void *p, size_t n) {
  if (fread(p, 1, n, stdin) != n) {
    fprintf(stderr, "fftw_kinds values: stdin: short input (want %zu bytes)\n", n);
    return -1;
  }
  if (fgetc(stdin) != EOF) {
    fprintf(stderr, "fftw_kinds values: stdin: more than the %zu bytes of the input\n", n);
    return -1;
  }
  return 0;
}

static int writeAll(const void *p, size_t n) {
  if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
    fprintf(stderr, "fftw_kinds values: stdout: write failed\n");
    return -1;
  }
  return 0;
}

/* values runs one transform on stdin's values (see the usage above). */
static int values(const char *kind, const char *dir, const char *ns) {
  char *end;
  long n = strtol(ns, &end, 10);
  if (*ns == 0 || *end != 0 || n < 1 || n > (1L << 26)) {
    fprintf(stderr, "fftw_kinds values: N %s is not an integer in [1, 2^26]\n", ns);
    return 2;
  }
  int fwd = !strcmp(dir, "forward");
  if (!fwd && strcmp(dir, "backward")) {
    fprintf(stderr, "fftw_kinds values: direction %s is not forward or backward\n", dir);
    return 2;
  }
  int sign = fwd ? FFTW_FORWARD : FFTW_BACKWARD;
  size_t h = n / 2 + 1;
  int rc;
  if (!strcmp(kind, "c128") || !strcmp(kind, "r2c128")) {
    int real = kind[0] == 'r';
    fftw_complex *c = fftw_malloc(sizeof(fftw_complex) * n), *d = fftw_malloc(sizeof(fftw_complex) * n);
    double *r = fftw_malloc(sizeof(double) * n);
    fftw_plan p = !real ? fftw_plan_dft_1d(n, c, d, sign, FFTW_ESTIMATE)
                  : fwd ? fftw_plan_dft_r2c_1d(n, r, c, FFTW_ESTIMATE)
                        : fftw_plan_dft_c2r_1d(n, c, r, FFTW_ESTIMATE);
    if (!real)
      rc = readAll(c, sizeof(fftw_complex) * n) || (fftw_execute(p), writeAll(d, sizeof(fftw_complex) * n));
    else if (fwd)
      rc = readAll(r, sizeof(double) * n) || (fftw_execute(p), writeAll(c, sizeof(fftw_complex) * h));
    else
      rc = readAll(c, sizeof(fftw_complex) * h) || (fftw_execute(p), writeAll(r, sizeof(double) * n));
    fftw_destroy_plan(p);
    fftw_free(c);
    fftw_free(d);
    fftw_free(r);
  } else if (!strcmp(kind, "c64") || !strcmp(kind, "r2c64")) {
    int real = kind[0] == 'r';
    fftwf_complex *c = fftwf_malloc(sizeof(fftwf_complex) * n), *d = fftwf_malloc(sizeof(fftwf_complex) * n);
    float *r = fftwf_malloc(sizeof(float) * n);
    fftwf_plan p = !real ? fftwf_plan_dft_1d(n, c, d, sign, FFTW_ESTIMATE)
                   : fwd ? fftwf_plan_dft_r2c_1d(n, r, c, FFTW_ESTIMATE)
                         : fftwf_plan_dft_c2r_1d(n, c, r, FFTW_ESTIMATE);
    if (!real)
      rc = readAll(c, sizeof(fftwf_complex) * n) || (fftwf_execute(p), writeAll(d, sizeof(fftwf_complex) * n));
    else if (fwd)
      rc = readAll(r, sizeof(float) * n) || (fftwf_execute(p), writeAll(c, sizeof(fftwf_complex) * h));
    else
      rc = readAll(c, sizeof(fftwf_complex) * h) || (fftwf_execute(p), writeAll(r, sizeof(float) * n));
    fftwf_destroy_plan(p);
    fftwf_free(c);
    fftwf_free(d);
    fftwf_free(r);
  } else {
    fprintf(stderr, "fftw_kinds values: unknown kind %s (c128, c64, r2c128, r2c64)\n", kind);
    return 2;
  }
  return rc ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "values")) return values(argv[2], argv[3], argv[4]);
  if (argc != 5) {
    fprintf(stderr, "usage: fftw_kinds c128|c64|r2c128|r2c64 THREADS LOG2MIN LOG2MAX\n"
                    "       fftw_kinds values c128|c64|r2c128|r2c64 forward|backward N < input > output\n");
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
