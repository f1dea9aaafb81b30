//go:build amd64 && !purego

#include "textflag.h"

// func r4avx2(y0, y1, y2, y3, x0, x1, x2, x3 *complex128, n int, w *[3]complex128, mask *[4]uint64)
//
// For q < n (n even): t0=x0+x2, t1=x0-x2, t2=x1+x3, t3=∓i(x1-x3) (the sign
// comes from mask, which negates one half of each complex after the swap);
// y0=t0+t2, y1=(t1+t3)·w[0], y2=(t0-t2)·w[1], y3=(t1-t3)·w[2].
// Two complex128 per YMM register.
TEXT ·r4avx2(SB), NOSPLIT, $0-88
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ y2+16(FP), R10
	MOVQ y3+24(FP), R11
	MOVQ x0+32(FP), R12
	MOVQ x1+40(FP), R13
	MOVQ x2+48(FP), R14
	MOVQ x3+56(FP), R15
	MOVQ n+64(FP), CX
	MOVQ w+72(FP), AX
	MOVQ mask+80(FP), BX
	VBROADCASTSD 0(AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	VBROADCASTSD 32(AX), Y12
	VBROADCASTSD 40(AX), Y13
	VMOVUPD (BX), Y15
	XORQ DX, DX
	SHRQ $1, CX
	JZ done

loop:
	VMOVUPD (R12)(DX*1), Y0
	VMOVUPD (R13)(DX*1), Y1
	VMOVUPD (R14)(DX*1), Y2
	VMOVUPD (R15)(DX*1), Y3
	VADDPD Y2, Y0, Y4 // t0
	VSUBPD Y2, Y0, Y5 // t1
	VADDPD Y3, Y1, Y6 // t2
	VSUBPD Y3, Y1, Y7
	VPERMILPD $5, Y7, Y7
	VXORPD Y15, Y7, Y7 // t3 = ∓i(x1-x3)
	VADDPD Y6, Y4, Y0
	VMOVUPD Y0, (R8)(DX*1)
	VSUBPD Y6, Y4, Y1 // u2
	VADDPD Y7, Y5, Y2 // u1
	VSUBPD Y7, Y5, Y3 // u3

	VPERMILPD $5, Y2, Y14
	VMULPD Y9, Y14, Y14
	VMULPD Y8, Y2, Y2
	VADDSUBPD Y14, Y2, Y2
	VMOVUPD Y2, (R9)(DX*1)

	VPERMILPD $5, Y1, Y14
	VMULPD Y11, Y14, Y14
	VMULPD Y10, Y1, Y1
	VADDSUBPD Y14, Y1, Y1
	VMOVUPD Y1, (R10)(DX*1)

	VPERMILPD $5, Y3, Y14
	VMULPD Y13, Y14, Y14
	VMULPD Y12, Y3, Y3
	VADDSUBPD Y14, Y3, Y3
	VMOVUPD Y3, (R11)(DX*1)

	ADDQ $32, DX
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	RET

// func r4s1avx2(y, x0, x1, x2, x3, tw *complex128, n int, mask *[4]uint64)
//
// First-stage (s = 1) radix-4 butterflies for k < n (n even): inputs
// x_j[k], twiddles tw[3k..3k+2], outputs y[4k..4k+3]. Two k per register;
// the outputs are regrouped with VPERM2F128.
TEXT ·r4s1avx2(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), R8
	MOVQ x0+8(FP), R12
	MOVQ x1+16(FP), R13
	MOVQ x2+24(FP), R14
	MOVQ x3+32(FP), R15
	MOVQ tw+40(FP), AX
	MOVQ n+48(FP), CX
	MOVQ mask+56(FP), BX
	VMOVUPD (BX), Y15
	XORQ DX, DX
	SHRQ $1, CX
	JZ s1done

s1loop:
	VMOVUPD (R12)(DX*1), Y0
	VMOVUPD (R13)(DX*1), Y1
	VMOVUPD (R14)(DX*1), Y2
	VMOVUPD (R15)(DX*1), Y3
	VADDPD Y2, Y0, Y4 // t0
	VSUBPD Y2, Y0, Y5 // t1
	VADDPD Y3, Y1, Y6 // t2
	VSUBPD Y3, Y1, Y7
	VPERMILPD $5, Y7, Y7
	VXORPD Y15, Y7, Y7 // t3
	VADDPD Y6, Y4, Y0 // b0
	VSUBPD Y6, Y4, Y1 // b2 (before twiddle)
	VADDPD Y7, Y5, Y2 // b1
	VSUBPD Y7, Y5, Y3 // b3

	// twiddles: lane 0 from tw[3k+t-1], lane 1 from tw[3k+3+t-1]
	VMOVUPD 0(AX), X8
	VINSERTF128 $1, 48(AX), Y8, Y8
	VMOVDDUP Y8, Y9
	VPERMILPD $15, Y8, Y8
	VPERMILPD $5, Y2, Y14
	VMULPD Y8, Y14, Y14
	VMULPD Y9, Y2, Y2
	VADDSUBPD Y14, Y2, Y2

	VMOVUPD 16(AX), X8
	VINSERTF128 $1, 64(AX), Y8, Y8
	VMOVDDUP Y8, Y9
	VPERMILPD $15, Y8, Y8
	VPERMILPD $5, Y1, Y14
	VMULPD Y8, Y14, Y14
	VMULPD Y9, Y1, Y1
	VADDSUBPD Y14, Y1, Y1

	VMOVUPD 32(AX), X8
	VINSERTF128 $1, 80(AX), Y8, Y8
	VMOVDDUP Y8, Y9
	VPERMILPD $15, Y8, Y8
	VPERMILPD $5, Y3, Y14
	VMULPD Y8, Y14, Y14
	VMULPD Y9, Y3, Y3
	VADDSUBPD Y14, Y3, Y3

	VPERM2F128 $0x20, Y2, Y0, Y4 // (b0_k, b1_k)
	VPERM2F128 $0x20, Y3, Y1, Y5 // (b2_k, b3_k)
	VPERM2F128 $0x31, Y2, Y0, Y6 // (b0_k+1, b1_k+1)
	VPERM2F128 $0x31, Y3, Y1, Y7 // (b2_k+1, b3_k+1)
	VMOVUPD Y4, 0(R8)
	VMOVUPD Y5, 32(R8)
	VMOVUPD Y6, 64(R8)
	VMOVUPD Y7, 96(R8)

	ADDQ $32, DX
	ADDQ $96, AX
	ADDQ $128, R8
	DECQ CX
	JNZ s1loop

s1done:
	VZEROUPPER
	RET

// func r4avx2c64(y0, y1, y2, y3, x0, x1, x2, x3 *complex64, n int, w *[3]complex64, mask *[8]uint32)
//
// r4avx2 for complex64: the same butterflies, four complex64 per YMM
// register (n a multiple of 4).
TEXT ·r4avx2c64(SB), NOSPLIT, $0-88
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ y2+16(FP), R10
	MOVQ y3+24(FP), R11
	MOVQ x0+32(FP), R12
	MOVQ x1+40(FP), R13
	MOVQ x2+48(FP), R14
	MOVQ x3+56(FP), R15
	MOVQ n+64(FP), CX
	MOVQ w+72(FP), AX
	MOVQ mask+80(FP), BX
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	VMOVUPS (BX), Y15
	XORQ DX, DX
	SHRQ $2, CX
	JZ done64

loop64:
	VMOVUPS (R12)(DX*1), Y0
	VMOVUPS (R13)(DX*1), Y1
	VMOVUPS (R14)(DX*1), Y2
	VMOVUPS (R15)(DX*1), Y3
	VADDPS Y2, Y0, Y4 // t0
	VSUBPS Y2, Y0, Y5 // t1
	VADDPS Y3, Y1, Y6 // t2
	VSUBPS Y3, Y1, Y7
	VPERMILPS $0xB1, Y7, Y7
	VXORPS Y15, Y7, Y7 // t3 = ∓i(x1-x3)
	VADDPS Y6, Y4, Y0
	VMOVUPS Y0, (R8)(DX*1)
	VSUBPS Y6, Y4, Y1 // u2
	VADDPS Y7, Y5, Y2 // u1
	VSUBPS Y7, Y5, Y3 // u3

	VPERMILPS $0xB1, Y2, Y14
	VMULPS Y9, Y14, Y14
	VMULPS Y8, Y2, Y2
	VADDSUBPS Y14, Y2, Y2
	VMOVUPS Y2, (R9)(DX*1)

	VPERMILPS $0xB1, Y1, Y14
	VMULPS Y11, Y14, Y14
	VMULPS Y10, Y1, Y1
	VADDSUBPS Y14, Y1, Y1
	VMOVUPS Y1, (R10)(DX*1)

	VPERMILPS $0xB1, Y3, Y14
	VMULPS Y13, Y14, Y14
	VMULPS Y12, Y3, Y3
	VADDSUBPS Y14, Y3, Y3
	VMOVUPS Y3, (R11)(DX*1)

	ADDQ $32, DX
	DECQ CX
	JNZ loop64

done64:
	VZEROUPPER
	RET

// func r4avx2k(y, x *complex128, s, m, nk int, tw *complex128, mask *[4]uint64)
//
// A whole radix-4 stage (or a range of its k) in one call: for each of nk
// values of k, r4avx2 over the s butterflies q < s (s even) with the
// twiddles tw[3k..3k+2], inputs x[s(k+jm)+q] and outputs y[4sk+js+q]; x,
// y and tw point at the first k's.
TEXT ·r4avx2k(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), R8
	MOVQ x+8(FP), R12
	MOVQ s+16(FP), SI
	MOVQ m+24(FP), DX
	MOVQ nk+32(FP), DI
	MOVQ tw+40(FP), AX
	MOVQ mask+48(FP), BX
	VMOVUPD (BX), Y15
	SHLQ $4, SI // s·16 bytes
	IMULQ SI, DX // m·s·16 bytes
	LEAQ (R12)(DX*1), R13
	LEAQ (R13)(DX*1), R14
	LEAQ (R14)(DX*1), R15
	LEAQ (R8)(SI*1), R9
	LEAQ (R9)(SI*1), R10
	LEAQ (R10)(SI*1), R11
	MOVQ SI, BX
	SHLQ $2, BX // 4·s·16 bytes: y's step per k
	TESTQ DI, DI
	JZ kdone

kloop:
	VBROADCASTSD 0(AX), Y8
	VBROADCASTSD 8(AX), Y9
	VBROADCASTSD 16(AX), Y10
	VBROADCASTSD 24(AX), Y11
	VBROADCASTSD 32(AX), Y12
	VBROADCASTSD 40(AX), Y13
	MOVQ SI, CX
	SHRQ $5, CX // s/2 iterations
	XORQ DX, DX

qloop:
	VMOVUPD (R12)(DX*1), Y0
	VMOVUPD (R13)(DX*1), Y1
	VMOVUPD (R14)(DX*1), Y2
	VMOVUPD (R15)(DX*1), Y3
	VADDPD Y2, Y0, Y4 // t0
	VSUBPD Y2, Y0, Y5 // t1
	VADDPD Y3, Y1, Y6 // t2
	VSUBPD Y3, Y1, Y7
	VPERMILPD $5, Y7, Y7
	VXORPD Y15, Y7, Y7 // t3 = ∓i(x1-x3)
	VADDPD Y6, Y4, Y0
	VMOVUPD Y0, (R8)(DX*1)
	VSUBPD Y6, Y4, Y1 // u2
	VADDPD Y7, Y5, Y2 // u1
	VSUBPD Y7, Y5, Y3 // u3

	VPERMILPD $5, Y2, Y14
	VMULPD Y9, Y14, Y14
	VMULPD Y8, Y2, Y2
	VADDSUBPD Y14, Y2, Y2
	VMOVUPD Y2, (R9)(DX*1)

	VPERMILPD $5, Y1, Y14
	VMULPD Y11, Y14, Y14
	VMULPD Y10, Y1, Y1
	VADDSUBPD Y14, Y1, Y1
	VMOVUPD Y1, (R10)(DX*1)

	VPERMILPD $5, Y3, Y14
	VMULPD Y13, Y14, Y14
	VMULPD Y12, Y3, Y3
	VADDSUBPD Y14, Y3, Y3
	VMOVUPD Y3, (R11)(DX*1)

	ADDQ $32, DX
	DECQ CX
	JNZ qloop

	ADDQ SI, R12
	ADDQ SI, R13
	ADDQ SI, R14
	ADDQ SI, R15
	ADDQ BX, R8
	ADDQ BX, R9
	ADDQ BX, R10
	ADDQ BX, R11
	ADDQ $48, AX
	DECQ DI
	JNZ kloop

kdone:
	VZEROUPPER
	RET

// func r4avx2kc64(y, x *complex64, s, m, nk int, tw *complex64, mask *[8]uint32)
//
// r4avx2k for complex64 (s a multiple of 4, four values per register).
TEXT ·r4avx2kc64(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), R8
	MOVQ x+8(FP), R12
	MOVQ s+16(FP), SI
	MOVQ m+24(FP), DX
	MOVQ nk+32(FP), DI
	MOVQ tw+40(FP), AX
	MOVQ mask+48(FP), BX
	VMOVUPS (BX), Y15
	SHLQ $3, SI // s·8 bytes
	IMULQ SI, DX // m·s·8 bytes
	LEAQ (R12)(DX*1), R13
	LEAQ (R13)(DX*1), R14
	LEAQ (R14)(DX*1), R15
	LEAQ (R8)(SI*1), R9
	LEAQ (R9)(SI*1), R10
	LEAQ (R10)(SI*1), R11
	MOVQ SI, BX
	SHLQ $2, BX // 4·s·8 bytes: y's step per k
	TESTQ DI, DI
	JZ kdone64

kloop64:
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	MOVQ SI, CX
	SHRQ $5, CX // s/4 iterations
	XORQ DX, DX

qloop64:
	VMOVUPS (R12)(DX*1), Y0
	VMOVUPS (R13)(DX*1), Y1
	VMOVUPS (R14)(DX*1), Y2
	VMOVUPS (R15)(DX*1), Y3
	VADDPS Y2, Y0, Y4 // t0
	VSUBPS Y2, Y0, Y5 // t1
	VADDPS Y3, Y1, Y6 // t2
	VSUBPS Y3, Y1, Y7
	VPERMILPS $0xB1, Y7, Y7
	VXORPS Y15, Y7, Y7 // t3 = ∓i(x1-x3)
	VADDPS Y6, Y4, Y0
	VMOVUPS Y0, (R8)(DX*1)
	VSUBPS Y6, Y4, Y1 // u2
	VADDPS Y7, Y5, Y2 // u1
	VSUBPS Y7, Y5, Y3 // u3

	VPERMILPS $0xB1, Y2, Y14
	VMULPS Y9, Y14, Y14
	VMULPS Y8, Y2, Y2
	VADDSUBPS Y14, Y2, Y2
	VMOVUPS Y2, (R9)(DX*1)

	VPERMILPS $0xB1, Y1, Y14
	VMULPS Y11, Y14, Y14
	VMULPS Y10, Y1, Y1
	VADDSUBPS Y14, Y1, Y1
	VMOVUPS Y1, (R10)(DX*1)

	VPERMILPS $0xB1, Y3, Y14
	VMULPS Y13, Y14, Y14
	VMULPS Y12, Y3, Y3
	VADDSUBPS Y14, Y3, Y3
	VMOVUPS Y3, (R11)(DX*1)

	ADDQ $32, DX
	DECQ CX
	JNZ qloop64

	ADDQ SI, R12
	ADDQ SI, R13
	ADDQ SI, R14
	ADDQ SI, R15
	ADDQ BX, R8
	ADDQ BX, R9
	ADDQ BX, R10
	ADDQ BX, R11
	ADDQ $24, AX
	DECQ DI
	JNZ kloop64

kdone64:
	VZEROUPPER
	RET

// func r4s1avx2c64(y, x0, x1, x2, x3, tw *complex64, n int, mask *[8]uint32)
//
// r4s1avx2 for complex64: first-stage (s = 1) radix-4 butterflies for k < n
// (n a multiple of 4), four k per register. The twiddle triples of four k
// (tw[3k..3k+11]) are regrouped into w1, w2, w3 vectors with VPERMPD and
// VBLENDPD, and the four outputs of each k are transposed into y[4k..4k+3].
TEXT ·r4s1avx2c64(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), R8
	MOVQ x0+8(FP), R12
	MOVQ x1+16(FP), R13
	MOVQ x2+24(FP), R14
	MOVQ x3+32(FP), R15
	MOVQ tw+40(FP), AX
	MOVQ n+48(FP), CX
	MOVQ mask+56(FP), BX
	VMOVUPS (BX), Y15
	XORQ DX, DX
	SHRQ $2, CX
	JZ s1done64

s1loop64:
	VMOVUPS (R12)(DX*1), Y0
	VMOVUPS (R13)(DX*1), Y1
	VMOVUPS (R14)(DX*1), Y2
	VMOVUPS (R15)(DX*1), Y3
	VADDPS Y2, Y0, Y4 // t0
	VSUBPS Y2, Y0, Y5 // t1
	VADDPS Y3, Y1, Y6 // t2
	VSUBPS Y3, Y1, Y7
	VPERMILPS $0xB1, Y7, Y7
	VXORPS Y15, Y7, Y7 // t3
	VADDPS Y6, Y4, Y0 // b0
	VSUBPS Y6, Y4, Y1 // b2 (before twiddle)
	VADDPS Y7, Y5, Y2 // b1
	VSUBPS Y7, Y5, Y3 // b3

	// A = tw[3k..3k+3], B = tw[3k+4..3k+7], C = tw[3k+8..3k+11]
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VMOVUPS 64(AX), Y10

	// w1 = (A0, A3, B2, C1)
	VPERMPD $0x0C, Y8, Y11
	VPERMPD $0xAA, Y9, Y12
	VBLENDPD $0x04, Y12, Y11, Y11
	VPERMPD $0x55, Y10, Y12
	VBLENDPD $0x08, Y12, Y11, Y11
	VMOVSHDUP Y11, Y12
	VMOVSLDUP Y11, Y11
	VPERMILPS $0xB1, Y2, Y14
	VMULPS Y12, Y14, Y14
	VMULPS Y11, Y2, Y2
	VADDSUBPS Y14, Y2, Y2

	// w2 = (A1, B0, B3, C2)
	VPERMPD $0x01, Y8, Y11
	VPERMPD $0x30, Y9, Y12
	VBLENDPD $0x06, Y12, Y11, Y11
	VPERMPD $0xAA, Y10, Y12
	VBLENDPD $0x08, Y12, Y11, Y11
	VMOVSHDUP Y11, Y12
	VMOVSLDUP Y11, Y11
	VPERMILPS $0xB1, Y1, Y14
	VMULPS Y12, Y14, Y14
	VMULPS Y11, Y1, Y1
	VADDSUBPS Y14, Y1, Y1

	// w3 = (A2, B1, C0, C3)
	VPERMPD $0x02, Y8, Y11
	VPERMPD $0x04, Y9, Y12
	VBLENDPD $0x02, Y12, Y11, Y11
	VPERMPD $0xC0, Y10, Y12
	VBLENDPD $0x0C, Y12, Y11, Y11
	VMOVSHDUP Y11, Y12
	VMOVSLDUP Y11, Y11
	VPERMILPS $0xB1, Y3, Y14
	VMULPS Y12, Y14, Y14
	VMULPS Y11, Y3, Y3
	VADDSUBPS Y14, Y3, Y3

	// transpose (b0, b1, b2, b3) = (Y0, Y2, Y1, Y3) into rows k..k+3
	VUNPCKLPD Y2, Y0, Y4 // (b0k0, b1k0, b0k2, b1k2)
	VUNPCKHPD Y2, Y0, Y5 // (b0k1, b1k1, b0k3, b1k3)
	VUNPCKLPD Y3, Y1, Y6 // (b2k0, b3k0, b2k2, b3k2)
	VUNPCKHPD Y3, Y1, Y7 // (b2k1, b3k1, b2k3, b3k3)
	VPERM2F128 $0x20, Y6, Y4, Y0
	VPERM2F128 $0x20, Y7, Y5, Y1
	VPERM2F128 $0x31, Y6, Y4, Y2
	VPERM2F128 $0x31, Y7, Y5, Y3
	VMOVUPS Y0, 0(R8)
	VMOVUPS Y1, 32(R8)
	VMOVUPS Y2, 64(R8)
	VMOVUPS Y3, 96(R8)

	ADDQ $32, DX
	ADDQ $96, AX
	ADDQ $128, R8
	DECQ CX
	JNZ s1loop64

s1done64:
	VZEROUPPER
	RET

// func addsubAVX2(y0, y1, x0, x1 *float64, n int)
//
// y0[i] = x0[i]+x1[i], y1[i] = x0[i]-x1[i] for i < n (n a multiple of 8):
// the radix-2 butterfly without twiddles of a complex128 pass (n = twice
// the complex count).
TEXT ·addsubAVX2(SB), NOSPLIT, $0-40
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ x0+16(FP), R12
	MOVQ x1+24(FP), R13
	MOVQ n+32(FP), CX
	XORQ DX, DX
	SHRQ $3, CX
	JZ asdone

asloop:
	VMOVUPD (R12)(DX*1), Y0
	VMOVUPD 32(R12)(DX*1), Y1
	VMOVUPD (R13)(DX*1), Y2
	VMOVUPD 32(R13)(DX*1), Y3
	VADDPD Y2, Y0, Y4
	VADDPD Y3, Y1, Y5
	VSUBPD Y2, Y0, Y6
	VSUBPD Y3, Y1, Y7
	VMOVUPD Y4, (R8)(DX*1)
	VMOVUPD Y5, 32(R8)(DX*1)
	VMOVUPD Y6, (R9)(DX*1)
	VMOVUPD Y7, 32(R9)(DX*1)
	ADDQ $64, DX
	DECQ CX
	JNZ asloop

asdone:
	VZEROUPPER
	RET

// func addsubAVX2f32(y0, y1, x0, x1 *float32, n int)
//
// addsubAVX2 for float32 (n a multiple of 16): the complex64 radix-2
// butterfly without twiddles.
TEXT ·addsubAVX2f32(SB), NOSPLIT, $0-40
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ x0+16(FP), R12
	MOVQ x1+24(FP), R13
	MOVQ n+32(FP), CX
	XORQ DX, DX
	SHRQ $4, CX
	JZ as32done

as32loop:
	VMOVUPS (R12)(DX*1), Y0
	VMOVUPS 32(R12)(DX*1), Y1
	VMOVUPS (R13)(DX*1), Y2
	VMOVUPS 32(R13)(DX*1), Y3
	VADDPS Y2, Y0, Y4
	VADDPS Y3, Y1, Y5
	VSUBPS Y2, Y0, Y6
	VSUBPS Y3, Y1, Y7
	VMOVUPS Y4, (R8)(DX*1)
	VMOVUPS Y5, 32(R8)(DX*1)
	VMOVUPS Y6, (R9)(DX*1)
	VMOVUPS Y7, 32(R9)(DX*1)
	ADDQ $64, DX
	DECQ CX
	JNZ as32loop

as32done:
	VZEROUPPER
	RET

// func rsplitAVX2(lo, hi, w *complex128, nit int, mask *[4]uint64)
//
// The forward split step of a real transform (real128.forward) for nit
// pairs of bins: lo points at z[k], k = 1, hi at z[h-k-1], w at w_n^k; each
// iteration does k and k+1 against h-k and h-k-1 (hi's pair, lanes
// swapped), then lo and w step up two bins and hi down two. With
// c = conj(z[h-k]): e = (z[k]+c)/2, o = -i·(z[k]-c)/2, X_k = e + w·o and
// X_{h-k} = conj(e - w·o). mask negates the imaginary lanes.
TEXT ·rsplitAVX2(SB), NOSPLIT, $0-40
	MOVQ lo+0(FP), SI
	MOVQ hi+8(FP), DI
	MOVQ w+16(FP), AX
	MOVQ nit+24(FP), CX
	MOVQ mask+32(FP), BX
	VMOVUPD (BX), Y15
	MOVQ $0x3FE0000000000000, DX // 0.5
	VMOVQ DX, X14
	VBROADCASTSD X14, Y14
	TESTQ CX, CX
	JZ rsdone

rsloop:
	VMOVUPD (SI), Y0
	VMOVUPD (DI), Y1
	VPERM2F128 $0x01, Y1, Y1, Y1
	VXORPD Y15, Y1, Y1 // c
	VADDPD Y1, Y0, Y2
	VMULPD Y14, Y2, Y2 // e
	VSUBPD Y1, Y0, Y3
	VMULPD Y14, Y3, Y3
	VPERMILPD $5, Y3, Y3
	VXORPD Y15, Y3, Y3 // o
	VMOVUPD (AX), Y4
	VMOVDDUP Y4, Y5
	VPERMILPD $15, Y4, Y4
	VPERMILPD $5, Y3, Y6
	VMULPD Y4, Y6, Y6
	VMULPD Y5, Y3, Y3
	VADDSUBPD Y6, Y3, Y3 // w·o
	VADDPD Y3, Y2, Y0
	VSUBPD Y3, Y2, Y1
	VXORPD Y15, Y1, Y1
	VPERM2F128 $0x01, Y1, Y1, Y1
	VMOVUPD Y0, (SI)
	VMOVUPD Y1, (DI)
	ADDQ $32, SI
	SUBQ $32, DI
	ADDQ $32, AX
	DECQ CX
	JNZ rsloop

rsdone:
	VZEROUPPER
	RET

// func rsplitAVX2c64(lo, hi, w *complex64, nit int, mask *[8]uint32)
//
// rsplitAVX2 for complex64: four bins per iteration (hi points at
// z[h-k-3], its four lanes reversed).
TEXT ·rsplitAVX2c64(SB), NOSPLIT, $0-40
	MOVQ lo+0(FP), SI
	MOVQ hi+8(FP), DI
	MOVQ w+16(FP), AX
	MOVQ nit+24(FP), CX
	MOVQ mask+32(FP), BX
	VMOVUPS (BX), Y15
	MOVL $0x3F000000, DX // 0.5
	VMOVD DX, X14
	VBROADCASTSS X14, Y14
	TESTQ CX, CX
	JZ rs64done

rs64loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DI), Y1
	VPERMPD $0x1B, Y1, Y1
	VXORPS Y15, Y1, Y1 // c
	VADDPS Y1, Y0, Y2
	VMULPS Y14, Y2, Y2 // e
	VSUBPS Y1, Y0, Y3
	VMULPS Y14, Y3, Y3
	VPERMILPS $0xB1, Y3, Y3
	VXORPS Y15, Y3, Y3 // o
	VMOVUPS (AX), Y4
	VMOVSLDUP Y4, Y5
	VMOVSHDUP Y4, Y4
	VPERMILPS $0xB1, Y3, Y6
	VMULPS Y4, Y6, Y6
	VMULPS Y5, Y3, Y3
	VADDSUBPS Y6, Y3, Y3 // w·o
	VADDPS Y3, Y2, Y0
	VSUBPS Y3, Y2, Y1
	VXORPS Y15, Y1, Y1
	VPERMPD $0x1B, Y1, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	SUBQ $32, DI
	ADDQ $32, AX
	DECQ CX
	JNZ rs64loop

rs64done:
	VZEROUPPER
	RET

// func r4avx2n(y0, y1, y2, y3, x0, x1, x2, x3 *complex128, n int, mask *[4]uint64)
//
// r4avx2 without twiddles (the last pass of a transform, m = 1):
// y0=t0+t2, y1=t1+t3, y2=t0-t2, y3=t1-t3 for q < n (n a multiple of 2).
TEXT ·r4avx2n(SB), NOSPLIT, $0-80
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ y2+16(FP), R10
	MOVQ y3+24(FP), R11
	MOVQ x0+32(FP), R12
	MOVQ x1+40(FP), R13
	MOVQ x2+48(FP), R14
	MOVQ x3+56(FP), R15
	MOVQ n+64(FP), CX
	MOVQ mask+72(FP), BX
	VMOVUPD (BX), Y15
	XORQ DX, DX
	SHRQ $1, CX
	JZ n128done

n128loop:
	VMOVUPD (R12)(DX*1), Y0
	VMOVUPD (R13)(DX*1), Y1
	VMOVUPD (R14)(DX*1), Y2
	VMOVUPD (R15)(DX*1), Y3
	VADDPD Y2, Y0, Y4 // t0
	VSUBPD Y2, Y0, Y5 // t1
	VADDPD Y3, Y1, Y6 // t2
	VSUBPD Y3, Y1, Y7
	VPERMILPD $5, Y7, Y7
	VXORPD Y15, Y7, Y7 // t3 = ∓i(x1-x3)
	VADDPD Y6, Y4, Y0
	VSUBPD Y6, Y4, Y1
	VADDPD Y7, Y5, Y2
	VSUBPD Y7, Y5, Y3
	VMOVUPD Y0, (R8)(DX*1)
	VMOVUPD Y2, (R9)(DX*1)
	VMOVUPD Y1, (R10)(DX*1)
	VMOVUPD Y3, (R11)(DX*1)
	ADDQ $32, DX
	DECQ CX
	JNZ n128loop

n128done:
	VZEROUPPER
	RET

// func r4avx2nc64(y0, y1, y2, y3, x0, x1, x2, x3 *complex64, n int, mask *[8]uint32)
//
// r4avx2c64 without twiddles (the last pass of a transform, m = 1):
// y0=t0+t2, y1=t1+t3, y2=t0-t2, y3=t1-t3 for q < n (n a multiple of 4).
TEXT ·r4avx2nc64(SB), NOSPLIT, $0-80
	MOVQ y0+0(FP), R8
	MOVQ y1+8(FP), R9
	MOVQ y2+16(FP), R10
	MOVQ y3+24(FP), R11
	MOVQ x0+32(FP), R12
	MOVQ x1+40(FP), R13
	MOVQ x2+48(FP), R14
	MOVQ x3+56(FP), R15
	MOVQ n+64(FP), CX
	MOVQ mask+72(FP), BX
	VMOVUPS (BX), Y15
	XORQ DX, DX
	SHRQ $2, CX
	JZ n64done

n64loop:
	VMOVUPS (R12)(DX*1), Y0
	VMOVUPS (R13)(DX*1), Y1
	VMOVUPS (R14)(DX*1), Y2
	VMOVUPS (R15)(DX*1), Y3
	VADDPS Y2, Y0, Y4 // t0
	VSUBPS Y2, Y0, Y5 // t1
	VADDPS Y3, Y1, Y6 // t2
	VSUBPS Y3, Y1, Y7
	VPERMILPS $0xB1, Y7, Y7
	VXORPS Y15, Y7, Y7 // t3 = ∓i(x1-x3)
	VADDPS Y6, Y4, Y0
	VSUBPS Y6, Y4, Y1
	VADDPS Y7, Y5, Y2
	VSUBPS Y7, Y5, Y3
	VMOVUPS Y0, (R8)(DX*1)
	VMOVUPS Y2, (R9)(DX*1)
	VMOVUPS Y1, (R10)(DX*1)
	VMOVUPS Y3, (R11)(DX*1)
	ADDQ $32, DX
	DECQ CX
	JNZ n64loop

n64done:
	VZEROUPPER
	RET

// func rsplitInvAVX2(zlo, zhi, xlo, xhi, w *complex128, nit int, mask *[4]uint64)
//
// The inverse split step of a real transform (real128.inverse) for nit
// iterations of 2 bins: xlo points at X[k], k = 1, xhi at X[h-k-1], zlo
// and zhi likewise into z, w at w_n^k. With c = conj(X[h-k]): e = (X[k]+c)/2,
// o = (X[k]-c)/2·conj(w), z[k] = e + i·o and z[h-k] = conj(e - i·o). mask
// negates the imaginary lanes.
TEXT ·rsplitInvAVX2(SB), NOSPLIT, $0-56
	MOVQ zlo+0(FP), R8
	MOVQ zhi+8(FP), R9
	MOVQ xlo+16(FP), SI
	MOVQ xhi+24(FP), DI
	MOVQ w+32(FP), AX
	MOVQ nit+40(FP), CX
	MOVQ mask+48(FP), BX
	VMOVUPD (BX), Y15
	MOVQ $0x3FE0000000000000, DX // 0.5
	VMOVQ DX, X14
	VBROADCASTSD X14, Y14
	MOVQ $0x8000000000000000, DX // sign bit
	VMOVQ DX, X13
	VBROADCASTSD X13, Y13
	VXORPD Y15, Y13, Y12 // the real lanes' signs
	TESTQ CX, CX
	JZ ridone

riloop:
	VMOVUPD (SI), Y0
	VMOVUPD (DI), Y1
	VPERM2F128 $0x01, Y1, Y1, Y1
	VXORPD Y15, Y1, Y1 // c
	VADDPD Y1, Y0, Y2
	VMULPD Y14, Y2, Y2 // e
	VSUBPD Y1, Y0, Y3
	VMULPD Y14, Y3, Y3 // d
	VMOVUPD (AX), Y4
	VMOVDDUP Y4, Y5
	VPERMILPD $15, Y4, Y4
	VXORPD Y13, Y4, Y4 // -Im w
	VPERMILPD $5, Y3, Y6
	VMULPD Y4, Y6, Y6
	VMULPD Y5, Y3, Y3
	VADDSUBPD Y6, Y3, Y3 // o = d·conj(w)
	VPERMILPD $5, Y3, Y7
	VXORPD Y12, Y7, Y7 // i·o
	VADDPD Y7, Y2, Y0
	VSUBPD Y7, Y2, Y1
	VXORPD Y15, Y1, Y1
	VPERM2F128 $0x01, Y1, Y1, Y1
	VMOVUPD Y0, (R8)
	VMOVUPD Y1, (R9)
	ADDQ $32, SI
	SUBQ $32, DI
	ADDQ $32, R8
	SUBQ $32, R9
	ADDQ $32, AX
	DECQ CX
	JNZ riloop

ridone:
	VZEROUPPER
	RET

// func rsplitInvAVX2c64(zlo, zhi, xlo, xhi, w *complex64, nit int, mask *[8]uint32)
//
// The inverse split step of a real transform (real64.inverse) for nit
// iterations of 4 bins: xlo points at X[k], k = 1, xhi at X[h-k-3], zlo
// and zhi likewise into z, w at w_n^k. With c = conj(X[h-k]): e = (X[k]+c)/2,
// o = (X[k]-c)/2·conj(w), z[k] = e + i·o and z[h-k] = conj(e - i·o). mask
// negates the imaginary lanes.
TEXT ·rsplitInvAVX2c64(SB), NOSPLIT, $0-56
	MOVQ zlo+0(FP), R8
	MOVQ zhi+8(FP), R9
	MOVQ xlo+16(FP), SI
	MOVQ xhi+24(FP), DI
	MOVQ w+32(FP), AX
	MOVQ nit+40(FP), CX
	MOVQ mask+48(FP), BX
	VMOVUPS (BX), Y15
	MOVL $0x3F000000, DX // 0.5
	VMOVD DX, X14
	VBROADCASTSS X14, Y14
	MOVL $0x80000000, DX // sign bit
	VMOVD DX, X13
	VBROADCASTSS X13, Y13
	VXORPS Y15, Y13, Y12 // the real lanes' signs
	TESTQ CX, CX
	JZ ri64done

ri64loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DI), Y1
	VPERMPD $0x1B, Y1, Y1
	VXORPS Y15, Y1, Y1 // c
	VADDPS Y1, Y0, Y2
	VMULPS Y14, Y2, Y2 // e
	VSUBPS Y1, Y0, Y3
	VMULPS Y14, Y3, Y3 // d
	VMOVUPS (AX), Y4
	VMOVSLDUP Y4, Y5
	VMOVSHDUP Y4, Y4
	VXORPS Y13, Y4, Y4 // -Im w
	VPERMILPS $0xB1, Y3, Y6
	VMULPS Y4, Y6, Y6
	VMULPS Y5, Y3, Y3
	VADDSUBPS Y6, Y3, Y3 // o = d·conj(w)
	VPERMILPS $0xB1, Y3, Y7
	VXORPS Y12, Y7, Y7 // i·o
	VADDPS Y7, Y2, Y0
	VSUBPS Y7, Y2, Y1
	VXORPS Y15, Y1, Y1
	VPERMPD $0x1B, Y1, Y1
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, (R9)
	ADDQ $32, SI
	SUBQ $32, DI
	ADDQ $32, R8
	SUBQ $32, R9
	ADDQ $32, AX
	DECQ CX
	JNZ ri64loop

ri64done:
	VZEROUPPER
	RET
