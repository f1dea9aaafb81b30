//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA kernels of the 1-qubit gate; see simd_amd64.go for each
// function's pure-Go reference loop.
//
// A complex product m·x is computed as xr·(mr, mi) + xi·(−mi, mr): the real
// and imaginary parts of the data are duplicated across each complex slot
// (VMOVDDUP/VPERMILPD, VMOVSLDUP/VMOVSHDUP, broadcasts) and multiplied by
// constant vectors prepared in Go, one VMULPx and three VFMADD231Px per
// output vector. All loads and stores are unaligned and stay inside the
// slices: the vector loops are followed by narrower tail steps.

// Run kernels: SI = x, DI = y, CX = elements left; Y8..Y15 = the
// constants M0, iM0, M1, iM1, M2, iM2, M3, iM3 of runConst*.
#define LOADRUN(c) \
	VMOVUPD 0(c), Y8; \
	VMOVUPD 32(c), Y9; \
	VMOVUPD 64(c), Y10; \
	VMOVUPD 96(c), Y11; \
	VMOVUPD 128(c), Y12; \
	VMOVUPD 160(c), Y13; \
	VMOVUPD 192(c), Y14; \
	VMOVUPD 224(c), Y15

// The output pair from the duplicated parts xr, xi, yr, yi in R0..R3:
// R4 = x' = m0·x + m1·y, R5 = y' = m2·x + m3·y.
#define MIXPD(R0, R1, R2, R3, R4, R5, C8, C9, C10, C11, C12, C13, C14, C15) \
	VMULPD C8, R0, R4; \
	VMULPD C12, R0, R5; \
	VFMADD231PD C9, R1, R4; \
	VFMADD231PD C13, R1, R5; \
	VFMADD231PD C10, R2, R4; \
	VFMADD231PD C14, R2, R5; \
	VFMADD231PD C11, R3, R4; \
	VFMADD231PD C15, R3, R5

#define MIXPS(R0, R1, R2, R3, R4, R5, C8, C9, C10, C11, C12, C13, C14, C15) \
	VMULPS C8, R0, R4; \
	VMULPS C12, R0, R5; \
	VFMADD231PS C9, R1, R4; \
	VFMADD231PS C13, R1, R5; \
	VFMADD231PS C10, R2, R4; \
	VFMADD231PS C14, R2, R5; \
	VFMADD231PS C11, R3, R4; \
	VFMADD231PS C15, R3, R5

// Two complex128 of x and of y at byte offset off.
#define STEP128(off) \
	VMOVDDUP off(SI), Y0; \
	VPERMILPD $15, off(SI), Y1; \
	VMOVDDUP off(DI), Y2; \
	VPERMILPD $15, off(DI), Y3; \
	MIXPD(Y0, Y1, Y2, Y3, Y4, Y5, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15); \
	VMOVUPD Y4, off(SI); \
	VMOVUPD Y5, off(DI)

// One complex128 of x and of y.
#define STEP128X \
	VMOVDDUP 0(SI), X0; \
	VMOVDDUP 8(SI), X1; \
	VMOVDDUP 0(DI), X2; \
	VMOVDDUP 8(DI), X3; \
	MIXPD(X0, X1, X2, X3, X4, X5, X8, X9, X10, X11, X12, X13, X14, X15); \
	VMOVUPD X4, 0(SI); \
	VMOVUPD X5, 0(DI)

// Four complex64 of x and of y at byte offset off.
#define STEP64(off) \
	VMOVSLDUP off(SI), Y0; \
	VMOVSHDUP off(SI), Y1; \
	VMOVSLDUP off(DI), Y2; \
	VMOVSHDUP off(DI), Y3; \
	MIXPS(Y0, Y1, Y2, Y3, Y4, Y5, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15); \
	VMOVUPS Y4, off(SI); \
	VMOVUPS Y5, off(DI)

// Two complex64 of x and of y.
#define STEP64X2 \
	VMOVSLDUP 0(SI), X0; \
	VMOVSHDUP 0(SI), X1; \
	VMOVSLDUP 0(DI), X2; \
	VMOVSHDUP 0(DI), X3; \
	MIXPS(X0, X1, X2, X3, X4, X5, X8, X9, X10, X11, X12, X13, X14, X15); \
	VMOVUPS X4, 0(SI); \
	VMOVUPS X5, 0(DI)

// One complex64 of x and of y.
#define STEP64X1 \
	VMOVQ 0(SI), X6; \
	VMOVQ 0(DI), X7; \
	VMOVSLDUP X6, X0; \
	VMOVSHDUP X6, X1; \
	VMOVSLDUP X7, X2; \
	VMOVSHDUP X7, X3; \
	MIXPS(X0, X1, X2, X3, X4, X5, X8, X9, X10, X11, X12, X13, X14, X15); \
	VMOVQ X4, 0(SI); \
	VMOVQ X5, 0(DI)

// func apply1RunAVX2C128(x, y *complex128, n int, c *runConstC128)
TEXT ·apply1RunAVX2C128(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	LOADRUN(AX)
	SUBQ $4, CX
	JL   r128tail

r128loop:
	STEP128(0)
	STEP128(32)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $4, CX
	JGE  r128loop

r128tail:
	ADDQ  $4, CX
	TESTQ $2, CX
	JZ    r128one
	STEP128(0)
	ADDQ  $32, SI
	ADDQ  $32, DI

r128one:
	TESTQ $1, CX
	JZ    r128done
	STEP128X

r128done:
	VZEROUPPER
	RET

// func apply1BlocksAVX2C128(a *complex128, nb, half int, c *runConstC128)
TEXT ·apply1BlocksAVX2C128(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ nb+8(FP), BX
	MOVQ half+16(FP), DX
	MOVQ c+24(FP), AX
	LOADRUN(AX)
	MOVQ DX, R9
	SHLQ $4, R9        // half in bytes
	TESTQ BX, BX
	JLE  b128done

b128block:
	LEAQ (SI)(R9*1), DI
	MOVQ DX, CX
	SUBQ $4, CX
	JL   b128tail

b128loop:
	STEP128(0)
	STEP128(32)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $4, CX
	JGE  b128loop

b128tail:
	ADDQ  $4, CX
	TESTQ $2, CX
	JZ    b128one
	STEP128(0)
	ADDQ  $32, SI
	ADDQ  $32, DI

b128one:
	TESTQ $1, CX
	JZ    b128next
	STEP128X
	ADDQ  $16, DI

b128next:
	MOVQ DI, SI        // the next block starts where this y ends
	DECQ BX
	JNZ  b128block

b128done:
	VZEROUPPER
	RET

// One pair (u, v) of complex128 at SI+off: Y8..Y11 = L0, iL0, L1, iL1.
#define LOW128(o0, o1, o2, o3, R0, R1, R2, R3, R4) \
	VBROADCASTSD o0(SI), R0; \
	VBROADCASTSD o1(SI), R1; \
	VBROADCASTSD o2(SI), R2; \
	VBROADCASTSD o3(SI), R3; \
	VMULPD Y8, R0, R4; \
	VFMADD231PD Y9, R1, R4; \
	VFMADD231PD Y10, R2, R4; \
	VFMADD231PD Y11, R3, R4; \
	VMOVUPD R4, o0(SI)

// func apply1LowAVX2C128(a *complex128, n int, c *lowConstC128)
TEXT ·apply1LowAVX2C128(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), AX
	VMOVUPD 0(AX), Y8
	VMOVUPD 32(AX), Y9
	VMOVUPD 64(AX), Y10
	VMOVUPD 96(AX), Y11
	SUBQ $2, CX
	JL   l128tail

l128loop:
	LOW128(0, 8, 16, 24, Y0, Y1, Y2, Y3, Y4)
	LOW128(32, 40, 48, 56, Y5, Y6, Y7, Y12, Y13)
	ADDQ $64, SI
	SUBQ $2, CX
	JGE  l128loop

l128tail:
	ADDQ  $2, CX
	JZ    l128done
	LOW128(0, 8, 16, 24, Y0, Y1, Y2, Y3, Y4)

l128done:
	VZEROUPPER
	RET

// func apply1RunAVX2C64(x, y *complex64, n int, c *runConstC64)
TEXT ·apply1RunAVX2C64(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	LOADRUN(AX)
	SUBQ $8, CX
	JL   r64tail

r64loop:
	STEP64(0)
	STEP64(32)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JGE  r64loop

r64tail:
	ADDQ  $8, CX
	TESTQ $4, CX
	JZ    r64two
	STEP64(0)
	ADDQ  $32, SI
	ADDQ  $32, DI

r64two:
	TESTQ $2, CX
	JZ    r64one
	STEP64X2
	ADDQ  $16, SI
	ADDQ  $16, DI

r64one:
	TESTQ $1, CX
	JZ    r64done
	STEP64X1

r64done:
	VZEROUPPER
	RET

// func apply1BlocksAVX2C64(a *complex64, nb, half int, c *runConstC64)
TEXT ·apply1BlocksAVX2C64(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ nb+8(FP), BX
	MOVQ half+16(FP), DX
	MOVQ c+24(FP), AX
	LOADRUN(AX)
	MOVQ DX, R9
	SHLQ $3, R9        // half in bytes
	TESTQ BX, BX
	JLE  b64done

b64block:
	LEAQ (SI)(R9*1), DI
	MOVQ DX, CX
	SUBQ $8, CX
	JL   b64tail

b64loop:
	STEP64(0)
	STEP64(32)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JGE  b64loop

b64tail:
	ADDQ  $8, CX
	TESTQ $4, CX
	JZ    b64two
	STEP64(0)
	ADDQ  $32, SI
	ADDQ  $32, DI

b64two:
	TESTQ $2, CX
	JZ    b64one
	STEP64X2
	ADDQ  $16, SI
	ADDQ  $16, DI

b64one:
	TESTQ $1, CX
	JZ    b64next
	STEP64X1
	ADDQ  $8, DI

b64next:
	MOVQ DI, SI
	DECQ BX
	JNZ  b64block

b64done:
	VZEROUPPER
	RET

// One block x0, x1, y0, y1 of complex64 at SI+off; Y8..Y11 = B0, iB0,
// B1, iB1 (pattern B of lowConstC64).
#define Q164(off, R0, R1, R2, R3, R4, R5, R6) \
	VBROADCASTF128 off(SI), R0; \
	VBROADCASTF128 off+16(SI), R1; \
	VMOVSLDUP R0, R2; \
	VMOVSHDUP R0, R3; \
	VMOVSLDUP R1, R4; \
	VMOVSHDUP R1, R5; \
	VMULPS Y8, R2, R6; \
	VFMADD231PS Y9, R3, R6; \
	VFMADD231PS Y10, R4, R6; \
	VFMADD231PS Y11, R5, R6; \
	VMOVUPS R6, off(SI)

// func apply1Q1AVX2C64(a *complex64, nb int, c *lowConstC64)
TEXT ·apply1Q1AVX2C64(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ nb+8(FP), CX
	MOVQ c+16(FP), AX
	VMOVUPS 128(AX), Y8
	VMOVUPS 160(AX), Y9
	VMOVUPS 192(AX), Y10
	VMOVUPS 224(AX), Y11
	SUBQ $2, CX
	JL   q64tail

q64loop:
	Q164(0, Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	Q164(32, Y7, Y12, Y13, Y14, Y15, Y0, Y1)
	ADDQ $64, SI
	SUBQ $2, CX
	JGE  q64loop

q64tail:
	ADDQ $2, CX
	JZ   q64done
	Q164(0, Y0, Y1, Y2, Y3, Y4, Y5, Y6)

q64done:
	VZEROUPPER
	RET

// Two pairs (u, v) of complex64 at SI+off; Y8..Y11 = A0, iA0, A1, iA1
// (pattern A of lowConstC64).
#define LOW64(off, R0, R1, R2, R3, R4) \
	VPERMILPS $0x00, off(SI), R0; \
	VPERMILPS $0x55, off(SI), R1; \
	VPERMILPS $0xAA, off(SI), R2; \
	VPERMILPS $0xFF, off(SI), R3; \
	VMULPS Y8, R0, R4; \
	VFMADD231PS Y9, R1, R4; \
	VFMADD231PS Y10, R2, R4; \
	VFMADD231PS Y11, R3, R4; \
	VMOVUPS R4, off(SI)

// func apply1LowAVX2C64(a *complex64, n int, c *lowConstC64)
TEXT ·apply1LowAVX2C64(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), AX
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VMOVUPS 64(AX), Y10
	VMOVUPS 96(AX), Y11
	SUBQ $4, CX
	JL   l64tail

l64loop:
	LOW64(0, Y0, Y1, Y2, Y3, Y4)
	LOW64(32, Y5, Y6, Y7, Y12, Y13)
	ADDQ $64, SI
	SUBQ $4, CX
	JGE  l64loop

l64tail:
	ADDQ  $4, CX
	TESTQ $2, CX
	JZ    l64one
	LOW64(0, Y0, Y1, Y2, Y3, Y4)
	ADDQ  $32, SI

l64one:
	TESTQ $1, CX
	JZ    l64done
	VPERMILPS $0x00, 0(SI), X0
	VPERMILPS $0x55, 0(SI), X1
	VPERMILPS $0xAA, 0(SI), X2
	VPERMILPS $0xFF, 0(SI), X3
	VMULPS X8, X0, X4
	VFMADD231PS X9, X1, X4
	VFMADD231PS X10, X2, X4
	VFMADD231PS X11, X3, X4
	VMOVUPS X4, 0(SI)

l64done:
	VZEROUPPER
	RET

// Dense k-qubit kernels: SIMD across groups. Each entry of bases is the
// amplitude index of V consecutive groups (V = 2 complex128 or 4
// complex64 a vector), whose amplitudes for matrix column j are the vector
// at a + base + offs[j]. Outputs are made four at a time: for each input j,
// the duplicated real and imaginary parts of input j (Y4, Y5) are
// multiplied by the constant vectors M[i][j] and i·M[i][j] of mc into
// separate accumulators (Y0..Y3 real parts, Y6..Y9 imaginary parts, eight
// independent FMA chains), then summed into tmp. When every output of a
// base is in tmp, tmp is scattered back to a: all inputs are read before
// any is written.

#define DENSEACCPD \
	VFMADD231PD 0(R13), Y4, Y0; \
	VFMADD231PD 32(R13), Y5, Y6; \
	VFMADD231PD 64(R13), Y4, Y1; \
	VFMADD231PD 96(R13), Y5, Y7; \
	VFMADD231PD 128(R13), Y4, Y2; \
	VFMADD231PD 160(R13), Y5, Y8; \
	VFMADD231PD 192(R13), Y4, Y3; \
	VFMADD231PD 224(R13), Y5, Y9

#define DENSEACCPS \
	VFMADD231PS 0(R13), Y4, Y0; \
	VFMADD231PS 32(R13), Y5, Y6; \
	VFMADD231PS 64(R13), Y4, Y1; \
	VFMADD231PS 96(R13), Y5, Y7; \
	VFMADD231PS 128(R13), Y4, Y2; \
	VFMADD231PS 160(R13), Y5, Y8; \
	VFMADD231PS 192(R13), Y4, Y3; \
	VFMADD231PS 224(R13), Y5, Y9

// func applyDenseAVX2C128(a *complex128, bases *uint64, nb int, offs *uint64, d int, mc *float64, tmp *float64)
TEXT ·applyDenseAVX2C128(SB), NOSPLIT, $8-56
	MOVQ a+0(FP), AX
	MOVQ bases+8(FP), BX
	MOVQ nb+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ mc+40(FP), R9
	MOVQ tmp+48(FP), R10
	MOVQ R8, R12
	SHLQ $5, R12
	ADDQ R10, R12
	MOVQ R12, tend-8(SP)    // end of tmp
	LEAQ (DX)(R8*8), R8     // end of offs
	TESTQ CX, CX
	JLE  applyDenseAVX2C128done

applyDenseAVX2C128base:
	MOVQ (BX), R11
	SHLQ $4, R11
	ADDQ AX, R11            // group vector address
	MOVQ R9, R13            // constants
	MOVQ R10, R12           // output slot in tmp

applyDenseAVX2C128chunk:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	MOVQ DX, SI

applyDenseAVX2C128col:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVDDUP (DI), Y4
	VPERMILPD $15, (DI), Y5
	DENSEACCPD
	ADDQ $256, R13
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDenseAVX2C128col

	VADDPD Y6, Y0, Y0
	VADDPD Y7, Y1, Y1
	VADDPD Y8, Y2, Y2
	VADDPD Y9, Y3, Y3
	VMOVUPD Y0, 0(R12)
	VMOVUPD Y1, 32(R12)
	VMOVUPD Y2, 64(R12)
	VMOVUPD Y3, 96(R12)
	ADDQ $128, R12
	CMPQ R12, tend-8(SP)
	JNE  applyDenseAVX2C128chunk

	MOVQ DX, SI
	MOVQ R10, R12

applyDenseAVX2C128scatter:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVUPD (R12), Y4
	VMOVUPD Y4, (DI)
	ADDQ $32, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDenseAVX2C128scatter

	ADDQ $8, BX
	DECQ CX
	JNZ  applyDenseAVX2C128base

applyDenseAVX2C128done:
	VZEROUPPER
	RET

// func applyDenseAVX2C64(a *complex64, bases *uint64, nb int, offs *uint64, d int, mc *float32, tmp *float32)
TEXT ·applyDenseAVX2C64(SB), NOSPLIT, $8-56
	MOVQ a+0(FP), AX
	MOVQ bases+8(FP), BX
	MOVQ nb+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ mc+40(FP), R9
	MOVQ tmp+48(FP), R10
	MOVQ R8, R12
	SHLQ $5, R12
	ADDQ R10, R12
	MOVQ R12, tend-8(SP)    // end of tmp
	LEAQ (DX)(R8*8), R8     // end of offs
	TESTQ CX, CX
	JLE  applyDenseAVX2C64done

applyDenseAVX2C64base:
	MOVQ (BX), R11
	SHLQ $3, R11
	ADDQ AX, R11            // group vector address
	MOVQ R9, R13            // constants
	MOVQ R10, R12           // output slot in tmp

applyDenseAVX2C64chunk:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	MOVQ DX, SI

applyDenseAVX2C64col:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVSLDUP (DI), Y4
	VMOVSHDUP (DI), Y5
	DENSEACCPS
	ADDQ $256, R13
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDenseAVX2C64col

	VADDPS Y6, Y0, Y0
	VADDPS Y7, Y1, Y1
	VADDPS Y8, Y2, Y2
	VADDPS Y9, Y3, Y3
	VMOVUPS Y0, 0(R12)
	VMOVUPS Y1, 32(R12)
	VMOVUPS Y2, 64(R12)
	VMOVUPS Y3, 96(R12)
	ADDQ $128, R12
	CMPQ R12, tend-8(SP)
	JNE  applyDenseAVX2C64chunk

	MOVQ DX, SI
	MOVQ R10, R12

applyDenseAVX2C64scatter:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVUPS (R12), Y4
	VMOVUPS Y4, (DI)
	ADDQ $32, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDenseAVX2C64scatter

	ADDQ $8, BX
	DECQ CX
	JNZ  applyDenseAVX2C64base

applyDenseAVX2C64done:
	VZEROUPPER
	RET

// Batched dense kernels for large matrices (d > 16): the constants of one
// chunk of four outputs (d·256 bytes) stay in L1 while the chunk is
// computed for every base of the batch; outputs go to tmp (base-major, d
// vectors a base) and are scattered once every chunk is done.
// AX = a, BX = bases, CX = nb, DX = offs, R9 = constants of the chunk,
// R10 = tmp, R14 = d·32 (tmp bytes a base), R15 = end of offs,
// R12 = chunk offset in a base's tmp, R8 = base index.

// func applyDenseBatchAVX2C128(a *complex128, bases *uint64, nb int, offs *uint64, d int, mc *float64, tmp *float64)
TEXT ·applyDenseBatchAVX2C128(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), AX
	MOVQ bases+8(FP), BX
	MOVQ nb+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ mc+40(FP), R9
	MOVQ tmp+48(FP), R10
	MOVQ R8, R14
	SHLQ $5, R14
	LEAQ (DX)(R8*8), R15
	TESTQ CX, CX
	JLE  applyDenseBatchAVX2C128done
	XORQ R12, R12

applyDenseBatchAVX2C128chunk:
	XORQ R8, R8

applyDenseBatchAVX2C128base:
	MOVQ (BX)(R8*8), R11
	SHLQ $4, R11
	ADDQ AX, R11
	MOVQ R9, R13
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	MOVQ DX, SI

applyDenseBatchAVX2C128col:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVDDUP (DI), Y4
	VPERMILPD $15, (DI), Y5
	DENSEACCPD
	ADDQ $256, R13
	ADDQ $8, SI
	CMPQ SI, R15
	JNE  applyDenseBatchAVX2C128col

	VADDPD Y6, Y0, Y0
	VADDPD Y7, Y1, Y1
	VADDPD Y8, Y2, Y2
	VADDPD Y9, Y3, Y3
	MOVQ R8, DI
	IMULQ R14, DI
	ADDQ R10, DI
	ADDQ R12, DI
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	INCQ R8
	CMPQ R8, CX
	JNE  applyDenseBatchAVX2C128base

	MOVQ R13, R9
	ADDQ $128, R12
	CMPQ R12, R14
	JNE  applyDenseBatchAVX2C128chunk

	XORQ R8, R8
	MOVQ R10, R12

applyDenseBatchAVX2C128sbase:
	MOVQ (BX)(R8*8), R11
	SHLQ $4, R11
	ADDQ AX, R11
	MOVQ DX, SI

applyDenseBatchAVX2C128scatter:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVUPD (R12), Y4
	VMOVUPD Y4, (DI)
	ADDQ $32, R12
	ADDQ $8, SI
	CMPQ SI, R15
	JNE  applyDenseBatchAVX2C128scatter
	INCQ R8
	CMPQ R8, CX
	JNE  applyDenseBatchAVX2C128sbase

applyDenseBatchAVX2C128done:
	VZEROUPPER
	RET

// func applyDenseBatchAVX2C64(a *complex64, bases *uint64, nb int, offs *uint64, d int, mc *float32, tmp *float32)
TEXT ·applyDenseBatchAVX2C64(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), AX
	MOVQ bases+8(FP), BX
	MOVQ nb+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ mc+40(FP), R9
	MOVQ tmp+48(FP), R10
	MOVQ R8, R14
	SHLQ $5, R14
	LEAQ (DX)(R8*8), R15
	TESTQ CX, CX
	JLE  applyDenseBatchAVX2C64done
	XORQ R12, R12

applyDenseBatchAVX2C64chunk:
	XORQ R8, R8

applyDenseBatchAVX2C64base:
	MOVQ (BX)(R8*8), R11
	SHLQ $3, R11
	ADDQ AX, R11
	MOVQ R9, R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	MOVQ DX, SI

applyDenseBatchAVX2C64col:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVSLDUP (DI), Y4
	VMOVSHDUP (DI), Y5
	DENSEACCPS
	ADDQ $256, R13
	ADDQ $8, SI
	CMPQ SI, R15
	JNE  applyDenseBatchAVX2C64col

	VADDPS Y6, Y0, Y0
	VADDPS Y7, Y1, Y1
	VADDPS Y8, Y2, Y2
	VADDPS Y9, Y3, Y3
	MOVQ R8, DI
	IMULQ R14, DI
	ADDQ R10, DI
	ADDQ R12, DI
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	INCQ R8
	CMPQ R8, CX
	JNE  applyDenseBatchAVX2C64base

	MOVQ R13, R9
	ADDQ $128, R12
	CMPQ R12, R14
	JNE  applyDenseBatchAVX2C64chunk

	XORQ R8, R8
	MOVQ R10, R12

applyDenseBatchAVX2C64sbase:
	MOVQ (BX)(R8*8), R11
	SHLQ $3, R11
	ADDQ AX, R11
	MOVQ DX, SI

applyDenseBatchAVX2C64scatter:
	MOVQ (SI), DI
	ADDQ R11, DI
	VMOVUPS (R12), Y4
	VMOVUPS Y4, (DI)
	ADDQ $32, R12
	ADDQ $8, SI
	CMPQ SI, R15
	JNE  applyDenseBatchAVX2C64scatter
	INCQ R8
	CMPQ R8, CX
	JNE  applyDenseBatchAVX2C64sbase

applyDenseBatchAVX2C64done:
	VZEROUPPER
	RET

// func applyDenseLowAVX2C64(a *complex64, bases *uint64, nb int, offs *uint64, nv int, mc *float32, pidx *uint64, ncol int, tmp *float32, smask uint64)
// The lane kernel of lowPlan: for each base, every input vector h is
// loaded once and the lane permutations l → l^s it needs (bit s of
// smask) stored to tmp with real and imaginary parts duplicated (64 bytes
// each, at (h·4+s)·64); then the outputs, four vectors at a time when nv ≥
// 4 (DENSEACCPS), else one, are Σ_c Re(P_c)·C_re + Im(P_c)·C_im over the
// columns c (pidx: offsets of P_c in tmp), written over the inputs, which
// are all in tmp already.
TEXT ·applyDenseLowAVX2C64(SB), NOSPLIT, $0-80
	MOVQ a+0(FP), AX
	MOVQ bases+8(FP), BX
	MOVQ nb+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ nv+32(FP), R8
	MOVQ mc+40(FP), R9
	MOVQ pidx+48(FP), R14
	MOVQ ncol+56(FP), R15
	MOVQ tmp+64(FP), R10
	LEAQ (R14)(R15*8), R15
	TESTQ CX, CX
	JLE  lowc64done

lowc64base:
	MOVQ (BX), R11
	SHLQ $3, R11
	ADDQ AX, R11
	MOVQ DX, SI
	MOVQ R10, R12
	MOVQ nv+32(FP), DI
	LEAQ (DX)(DI*8), R8     // end of offs

lowc64perm:
	MOVQ (SI), DI
	VMOVUPS (R11)(DI*1), Y4
	VMOVSLDUP Y4, Y5
	VMOVSHDUP Y4, Y6
	VMOVUPS Y5, 0(R12)
	VMOVUPS Y6, 32(R12)
	MOVQ smask+72(FP), DI
	TESTQ $2, DI
	JZ   lowc64p2
	VPERMPD $0xB1, Y4, Y7
	VMOVSLDUP Y7, Y5
	VMOVSHDUP Y7, Y6
	VMOVUPS Y5, 64(R12)
	VMOVUPS Y6, 96(R12)

lowc64p2:
	TESTQ $4, DI
	JZ   lowc64p3
	VPERMPD $0x4E, Y4, Y7
	VMOVSLDUP Y7, Y5
	VMOVSHDUP Y7, Y6
	VMOVUPS Y5, 128(R12)
	VMOVUPS Y6, 160(R12)

lowc64p3:
	TESTQ $8, DI
	JZ   lowc64pnext
	VPERMPD $0x1B, Y4, Y7
	VMOVSLDUP Y7, Y5
	VMOVSHDUP Y7, Y6
	VMOVUPS Y5, 192(R12)
	VMOVUPS Y6, 224(R12)

lowc64pnext:
	ADDQ $256, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  lowc64perm

	MOVQ DX, SI
	MOVQ R9, R13
	CMPQ nv+32(FP), $4
	JL   lowc64out1

lowc64out4:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	MOVQ R14, DI

lowc64col4:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPS 0(R12), Y4
	VMOVUPS 32(R12), Y5
	DENSEACCPS
	ADDQ $256, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowc64col4

	VADDPS Y6, Y0, Y0
	VADDPS Y7, Y1, Y1
	VADDPS Y8, Y2, Y2
	VADDPS Y9, Y3, Y3
	MOVQ 0(SI), DI
	VMOVUPS Y0, (R11)(DI*1)
	MOVQ 8(SI), DI
	VMOVUPS Y1, (R11)(DI*1)
	MOVQ 16(SI), DI
	VMOVUPS Y2, (R11)(DI*1)
	MOVQ 24(SI), DI
	VMOVUPS Y3, (R11)(DI*1)
	ADDQ $32, SI
	CMPQ SI, R8
	JNE  lowc64out4
	JMP  lowc64next

lowc64out1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R14, DI

lowc64col1:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPS 0(R12), Y4
	VFMADD231PS 0(R13), Y4, Y0
	VMOVUPS 32(R12), Y5
	VFMADD231PS 32(R13), Y5, Y1
	ADDQ $64, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowc64col1

	VADDPS Y1, Y0, Y0
	MOVQ (SI), DI
	VMOVUPS Y0, (R11)(DI*1)
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  lowc64out1

lowc64next:
	ADDQ $8, BX
	DECQ CX
	JNZ  lowc64base

lowc64done:
	VZEROUPPER
	RET

// func applyDenseLowAVX2C128(a *complex128, bases *uint64, nb int, offs *uint64, nv int, mc *float64, pidx *uint64, ncol int, tmp *float64, smask uint64)
// applyDenseLowAVX2C64 for complex128: two lanes (qubit 0), the
// permutation s = 1 at (h·2+1)·64 in tmp.
TEXT ·applyDenseLowAVX2C128(SB), NOSPLIT, $0-80
	MOVQ a+0(FP), AX
	MOVQ bases+8(FP), BX
	MOVQ nb+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ nv+32(FP), R8
	MOVQ mc+40(FP), R9
	MOVQ pidx+48(FP), R14
	MOVQ ncol+56(FP), R15
	MOVQ tmp+64(FP), R10
	LEAQ (DX)(R8*8), R8
	LEAQ (R14)(R15*8), R15
	TESTQ CX, CX
	JLE  lowc128done

lowc128base:
	MOVQ (BX), R11
	SHLQ $4, R11
	ADDQ AX, R11
	MOVQ DX, SI
	MOVQ R10, R12

lowc128perm:
	MOVQ (SI), DI
	VMOVUPD (R11)(DI*1), Y4
	VMOVDDUP Y4, Y5
	VPERMILPD $15, Y4, Y6
	VMOVUPD Y5, 0(R12)
	VMOVUPD Y6, 32(R12)
	VPERMPD $0x4E, Y4, Y7
	VMOVDDUP Y7, Y5
	VPERMILPD $15, Y7, Y6
	VMOVUPD Y5, 64(R12)
	VMOVUPD Y6, 96(R12)
	ADDQ $128, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  lowc128perm

	MOVQ DX, SI
	MOVQ R9, R13
	CMPQ nv+32(FP), $4
	JL   lowc128out1

lowc128out4:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	MOVQ R14, DI

lowc128col4:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPD 0(R12), Y4
	VMOVUPD 32(R12), Y5
	DENSEACCPD
	ADDQ $256, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowc128col4

	VADDPD Y6, Y0, Y0
	VADDPD Y7, Y1, Y1
	VADDPD Y8, Y2, Y2
	VADDPD Y9, Y3, Y3
	MOVQ 0(SI), DI
	VMOVUPD Y0, (R11)(DI*1)
	MOVQ 8(SI), DI
	VMOVUPD Y1, (R11)(DI*1)
	MOVQ 16(SI), DI
	VMOVUPD Y2, (R11)(DI*1)
	MOVQ 24(SI), DI
	VMOVUPD Y3, (R11)(DI*1)
	ADDQ $32, SI
	CMPQ SI, R8
	JNE  lowc128out4
	JMP  lowc128next

lowc128out1:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ R14, DI

lowc128col1:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPD 0(R12), Y4
	VFMADD231PD 0(R13), Y4, Y0
	VMOVUPD 32(R12), Y5
	VFMADD231PD 32(R13), Y5, Y1
	ADDQ $64, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowc128col1

	VADDPD Y1, Y0, Y0
	MOVQ (SI), DI
	VMOVUPD Y0, (R11)(DI*1)
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  lowc128out1

lowc128next:
	ADDQ $8, BX
	DECQ CX
	JNZ  lowc128base

lowc128done:
	VZEROUPPER
	RET
