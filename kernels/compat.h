/*
 * compat.h — lets one kernel body compile as OpenCL C (at run time, by the
 * OpenCL backend) and as CUDA C++ (offline, nvcc -> PTX, by `make kernels`).
 *
 * Each kernel source is compiled twice per language: with MEC_FP64 defined
 * (complex128 states: real = double) and without (complex64: real = float).
 * KNAME(x) appends _f64 or _f32 so both variants live in one module.
 *
 * Conventions the bodies rely on:
 *   KERNEL          kernel entry point (extern "C" in CUDA, unmangled names)
 *   FUNC            a helper function callable from kernels
 *   GLOBAL          pointer into device global memory
 *   LOCAL           work-group (CUDA: block) shared memory, fixed-size arrays
 *   GID, LID, GSIZE, LSIZE, GROUP   1-D indices (size_t-sized)
 *   BARRIER         work-group barrier on local memory
 *   u64, u32, i32   64- and 32-bit unsigned, 32-bit signed integers
 *   real, cplx      the amplitude scalar and its complex pair (.x, .y)
 *   acc             the accumulator of reductions: double when MEC_FP64 or
 *                   MEC_ACC64 is defined (every CUDA device, OpenCL devices
 *                   with cl_khr_fp64), float otherwise
 *   CPLX(a, b)      builds a cplx
 *   POPC64(x)       population count of a u64
 *   WG_SUM(s)       work-group tree sum of a LOCAL array into s[0]
 */
#ifndef MEC_COMPAT_H
#define MEC_COMPAT_H

#ifdef __OPENCL_VERSION__

#if defined(MEC_FP64) || defined(MEC_ACC64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#define FUNC inline
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define GID ((u64)get_global_id(0))
#define LID ((u64)get_local_id(0))
#define GSIZE ((u64)get_global_size(0))
#define LSIZE ((u64)get_local_size(0))
#define GROUP ((u64)get_group_id(0))
#define BARRIER barrier(CLK_LOCAL_MEM_FENCE)
typedef ulong u64;
typedef uint u32;
typedef int i32;
#define POPC64(x) ((i32)popcount(x))
#ifdef MEC_FP64
typedef double real;
typedef double2 cplx;
#define CPLX(a, b) ((double2)((a), (b)))
#else
typedef float real;
typedef float2 cplx;
#define CPLX(a, b) ((float2)((a), (b)))
#endif
#define SQRT(x) sqrt(x)
#define SIN(x) sin(x)
#define COS(x) cos(x)

#else /* CUDA */

#define KERNEL extern "C" __global__
#define FUNC __device__ __forceinline__
#define GLOBAL
#define LOCAL __shared__
#define GID ((u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x)
#define LID ((u64)threadIdx.x)
#define GSIZE ((u64)gridDim.x * (u64)blockDim.x)
#define LSIZE ((u64)blockDim.x)
#define GROUP ((u64)blockIdx.x)
#define BARRIER __syncthreads()
typedef unsigned long long u64;
typedef unsigned int u32;
typedef int i32;
#define POPC64(x) (__popcll(x))
#ifdef MEC_FP64
typedef double real;
typedef double2 cplx;
#define CPLX(a, b) make_double2((a), (b))
#else
typedef float real;
typedef float2 cplx;
#define CPLX(a, b) make_float2((a), (b))
#endif
#define SQRT(x) sqrt(x)
#define SIN(x) sin(x)
#define COS(x) cos(x)

#endif

#if defined(MEC_FP64) || defined(MEC_ACC64)
typedef double acc;
#else
typedef float acc;
#endif

#ifdef MEC_FP64
#define KNAME(x) x##_f64
#else
#define KNAME(x) x##_f32
#endif

/* Complex arithmetic on cplx. */
#define CMUL(a, b) CPLX((a).x * (b).x - (a).y * (b).y, (a).x * (b).y + (a).y * (b).x)
#define CADD(a, b) CPLX((a).x + (b).x, (a).y + (b).y)

/* Work-group size every reduction kernel is launched with. */
#define MEC_WG 256

/* WG_SUM(s): tree-sums the LOCAL array s[0..MEC_WG), which every item of
 * the group has filled at s[LID], into s[0] (in a fixed order, so results
 * do not depend on scheduling). Every item of the group must reach it. */
#define WG_SUM(s)                                                              \
	do {                                                                   \
		BARRIER;                                                       \
		for (u64 wg_w = MEC_WG / 2; wg_w > 0; wg_w >>= 1) {           \
			if (LID < wg_w)                                        \
				(s)[LID] += (s)[LID + wg_w];                   \
			BARRIER;                                               \
		}                                                              \
	} while (0)

#endif
