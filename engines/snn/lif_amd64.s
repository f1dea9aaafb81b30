//go:build !purego

// AVX2 kernels of the LIF update (see lif.go for the reference loops they
// must match bit for bit: the same multiplications and additions in the
// same order, no FMA contraction).

#include "textflag.h"

// func lif2AVX2(v, j0, j1, cst *float64, last *int64, n int, par *lifParams, flags *uint8)
// For 4 neurons at a time:
//   g0, g1 = j0[i], j1[i];  j0[i], j1[i] = g0*d0, g1*d1
//   y = (x*em + cst[i]) + (p0*g0 + p1*g1)
//   y = x where step-last[i] <= ref (refractory)
//   v[i] = y;  flags[i/4] = bits of y >= vth
TEXT ·lif2AVX2(SB), NOSPLIT, $0-64
	MOVQ v+0(FP), DI
	MOVQ j0+8(FP), SI
	MOVQ j1+16(FP), DX
	MOVQ cst+24(FP), R8
	MOVQ last+32(FP), R9
	MOVQ n+40(FP), CX
	MOVQ par+48(FP), AX
	MOVQ flags+56(FP), R10
	VBROADCASTSD 0(AX), Y8   // em
	VBROADCASTSD 8(AX), Y9   // p0
	VBROADCASTSD 16(AX), Y10 // d0
	VBROADCASTSD 24(AX), Y11 // p1
	VBROADCASTSD 32(AX), Y12 // d1
	VBROADCASTSD 40(AX), Y13 // vth
	VPBROADCASTQ 48(AX), Y14 // step
	VPBROADCASTQ 56(AX), Y15 // ref
	XORQ BX, BX
loop2:
	CMPQ BX, CX
	JGE done2
	VMOVUPD (DI)(BX*8), Y0     // x
	VMOVUPD (SI)(BX*8), Y1     // g0
	VMOVUPD (DX)(BX*8), Y2     // g1
	VMULPD Y10, Y1, Y3
	VMOVUPD Y3, (SI)(BX*8)     // j0 = g0*d0
	VMULPD Y12, Y2, Y3
	VMOVUPD Y3, (DX)(BX*8)     // j1 = g1*d1
	VMULPD Y8, Y0, Y4          // x*em
	VADDPD (R8)(BX*8), Y4, Y4  // + cst
	VMULPD Y9, Y1, Y5          // p0*g0
	VMULPD Y11, Y2, Y6         // p1*g1
	VADDPD Y6, Y5, Y5
	VADDPD Y5, Y4, Y4          // y
	VMOVDQU (R9)(BX*8), Y6     // last
	VPSUBQ Y6, Y14, Y6         // step - last
	VPCMPGTQ Y15, Y6, Y6       // (step-last) > ref: not refractory
	VBLENDVPD Y6, Y4, Y0, Y4   // y where not refractory, else x
	VMOVUPD Y4, (DI)(BX*8)
	VCMPPD $0x1D, Y13, Y4, Y7  // y >= vth (ordered, quiet)
	VMOVMSKPD Y7, AX
	MOVQ BX, R11
	SHRQ $2, R11
	MOVB AX, (R10)(R11*1)
	ADDQ $4, BX
	JMP loop2
done2:
	VZEROUPPER
	RET

// func lif1AVX2(v, j0, cst *float64, last *int64, n int, par *lifParams, flags *uint8)
// lif2AVX2 with one synaptic channel: y = (x*em + cst[i]) + p0*g0.
TEXT ·lif1AVX2(SB), NOSPLIT, $0-56
	MOVQ v+0(FP), DI
	MOVQ j0+8(FP), SI
	MOVQ cst+16(FP), R8
	MOVQ last+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ par+40(FP), AX
	MOVQ flags+48(FP), R10
	VBROADCASTSD 0(AX), Y8   // em
	VBROADCASTSD 8(AX), Y9   // p0
	VBROADCASTSD 16(AX), Y10 // d0
	VBROADCASTSD 40(AX), Y13 // vth
	VPBROADCASTQ 48(AX), Y14 // step
	VPBROADCASTQ 56(AX), Y15 // ref
	XORQ BX, BX
loop1:
	CMPQ BX, CX
	JGE done1
	VMOVUPD (DI)(BX*8), Y0
	VMOVUPD (SI)(BX*8), Y1
	VMULPD Y10, Y1, Y3
	VMOVUPD Y3, (SI)(BX*8)
	VMULPD Y8, Y0, Y4
	VADDPD (R8)(BX*8), Y4, Y4
	VMULPD Y9, Y1, Y5
	VADDPD Y5, Y4, Y4
	VMOVDQU (R9)(BX*8), Y6
	VPSUBQ Y6, Y14, Y6
	VPCMPGTQ Y15, Y6, Y6
	VBLENDVPD Y6, Y4, Y0, Y4
	VMOVUPD Y4, (DI)(BX*8)
	VCMPPD $0x1D, Y13, Y4, Y7
	VMOVMSKPD Y7, AX
	MOVQ BX, R11
	SHRQ $2, R11
	MOVB AX, (R10)(R11*1)
	ADDQ $4, BX
	JMP loop1
done1:
	VZEROUPPER
	RET
