/*
 * stubcuda.c — a stand-in for libcuda.so.1 for the tests: every driver API
 * function the backend binds, with the driver's C signatures, "device"
 * memory in host memory, and two kernels (sv_apply1_f64, sv_norm_f64)
 * run on the CPU from the kernelParams array. It checks the C side of the
 * purego bindings: argument order, widths and stack-passed arguments, and
 * the kernelParams layout. Built by TestStubDriver with the system C
 * compiler; not part of mec.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream;

static int ctx_token, stream_token, mod_token;
static char fn_names[32][64];
static int nfn;

/* Misuse the real driver would reject is counted; the test reads it. */
int stub_errors;
/* The last launch, for the test. */
unsigned stub_last_grid, stub_last_block, stub_last_shared;

CUresult cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
CUresult cuDriverGetVersion(int *v) { *v = 12020; return 0; }
CUresult cuGetErrorName(CUresult e, const char **s)
{
	if (e == 100) { *s = "CUDA_ERROR_NO_DEVICE"; return 0; }
	if (e == 1) { *s = "CUDA_ERROR_INVALID_VALUE"; return 0; }
	return 1;
}
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) { *d = ordinal + 7; return ordinal == 0 ? 0 : 101; }
CUresult cuDeviceGetName(char *name, int len, CUdevice d)
{
	if (d != 7 || len < 16) { stub_errors++; return 1; }
	strcpy(name, "Stub GPU");
	return 0;
}
CUresult cuDeviceTotalMem_v2(size_t *b, CUdevice d) { *b = (size_t)1 << 30; return d == 7 ? 0 : 101; }
CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d)
{
	if (d != 7) { stub_errors++; return 101; }
	switch (attr) {
	case 5: *v = 0x7fffffff; return 0;
	case 16: *v = 2; return 0;
	case 75: *v = 9; return 0;
	case 76: *v = 0; return 0;
	}
	stub_errors++;
	return 1;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { *c = &ctx_token; return d == 7 ? 0 : 101; }
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { return d == 7 ? 0 : 101; }
CUresult cuCtxSetCurrent(CUcontext c) { if (c != &ctx_token) stub_errors++; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned n, int *opts, void **vals)
{
	const char *s = image;
	if (!strstr(s, ".entry sv_norm_f64(") || !strstr(s, ".target sm_90")) stub_errors++;
	if (n != 2 || opts[0] != 5 || opts[1] != 6 || (size_t)vals[1] < 1024) stub_errors++;
	*m = &mod_token;
	return 0;
}
CUresult cuModuleUnload(CUmodule m) { return m == &mod_token ? 0 : 1; }
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name)
{
	if (m != &mod_token || nfn == 32 || strlen(name) >= 64) return 1;
	strcpy(fn_names[nfn], name);
	*f = fn_names[nfn++];
	return 0;
}
CUresult cuFuncGetAttribute(int *v, int attr, CUfunction f) { *v = 1024; return attr == 0 ? 0 : 1; }
CUresult cuMemGetInfo_v2(size_t *free, size_t *total) { *free = *total = (size_t)1 << 30; return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) { *p = (CUdeviceptr)(uintptr_t)calloc(1, n); return *p ? 0 : 2; }
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)(uintptr_t)p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *)(uintptr_t)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *)(uintptr_t)s, n); return 0; }
CUresult cuMemcpyDtoD_v2(CUdeviceptr d, CUdeviceptr s, size_t n) { memcpy((void *)(uintptr_t)d, (void *)(uintptr_t)s, n); return 0; }
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { memset((void *)(uintptr_t)d, v, n); return 0; }
CUresult cuStreamCreate(CUstream *s, unsigned flags) { *s = &stream_token; return flags == 0 ? 0 : 1; }
CUresult cuStreamSynchronize(CUstream s) { return s == &stream_token ? 0 : 400; }
CUresult cuStreamDestroy_v2(CUstream s) { return s == &stream_token ? 0 : 400; }

static uint64_t insert0(uint64_t i, int p) { return ((i >> p) << (p + 1)) | (i & (((uint64_t)1 << p) - 1)); }

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
	unsigned bz, unsigned shared, CUstream s, void **params, void **extra)
{
	const char *name = f;
	uint64_t threads = (uint64_t)gx * bx;
	if (gy != 1 || gz != 1 || by != 1 || bz != 1 || s != &stream_token || extra != NULL) {
		stub_errors++;
		return 1;
	}
	stub_last_grid = gx, stub_last_block = bx, stub_last_shared = shared;
	if (strcmp(name, "sv_norm_f64") == 0) {
		const double *a = (const double *)(uintptr_t) * (CUdeviceptr *)params[0];
		uint64_t n = *(uint64_t *)params[1];
		double *out = (double *)(uintptr_t) * (CUdeviceptr *)params[2];
		for (uint64_t g = 0; g < gx; g++) {
			double t = 0;
			for (uint64_t l = 0; l < bx; l++)
				for (uint64_t i = g * bx + l; i < n; i += threads)
					t += a[2 * i] * a[2 * i] + a[2 * i + 1] * a[2 * i + 1];
			out[g] = t;
		}
		return 0;
	}
	if (strcmp(name, "sv_apply1_f64") == 0) {
		double *a = (double *)(uintptr_t) * (CUdeviceptr *)params[0];
		int t = *(int *)params[1];
		double m[8];
		for (int j = 0; j < 8; j++)
			m[j] = *(double *)params[2 + j];
		uint64_t cmask = *(uint64_t *)params[10], cval = *(uint64_t *)params[11];
		for (uint64_t w = 0; w < threads * 16; w++) {
			uint64_t i0 = insert0(w, t), i1 = i0 | ((uint64_t)1 << t);
			if ((i0 & cmask) != cval)
				continue;
			double xr = a[2 * i0], xi = a[2 * i0 + 1], yr = a[2 * i1], yi = a[2 * i1 + 1];
			a[2 * i0] = m[0] * xr - m[1] * xi + m[2] * yr - m[3] * yi;
			a[2 * i0 + 1] = m[0] * xi + m[1] * xr + m[2] * yi + m[3] * yr;
			a[2 * i1] = m[4] * xr - m[5] * xi + m[6] * yr - m[7] * yi;
			a[2 * i1 + 1] = m[4] * xi + m[5] * xr + m[6] * yi + m[7] * yr;
		}
		return 0;
	}
	return 98; /* CUDA_ERROR_INVALID_IMAGE: not emulated */
}

int stub_error_count(void) { return stub_errors; }
unsigned stub_last_block_size(void) { return stub_last_block; }
