//go:build amd64 && !purego

#include "textflag.h"

// Diagonal kernels (see diagRunsAVX2C64 in simd_diag_amd64.go): k runs of
// n amplitudes, run j at byte offset offs[j] from a, each multiplied by
// its factor f_j, whose constants (f_j and i·f_j, each duplicated across a
// vector) are the 64 bytes at c+64·j: x·f = xr·(fr, fi) + xi·(−fi, fr).

// func diagRunsAVX2C64(a *complex64, offs *uint64, k, n int, c *float32)
TEXT ·diagRunsAVX2C64(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), AX
	MOVQ offs+8(FP), BX
	MOVQ k+16(FP), DX
	MOVQ c+32(FP), R8
	TESTQ DX, DX
	JLE  d64done

d64run:
	MOVQ (BX), SI
	ADDQ AX, SI
	VMOVUPS 0(R8), Y8
	VMOVUPS 32(R8), Y9
	MOVQ n+24(FP), CX
	SUBQ $8, CX
	JL   d64four

d64loop:
	VMOVSLDUP 0(SI), Y0
	VMOVSHDUP 0(SI), Y1
	VMOVSLDUP 32(SI), Y2
	VMOVSHDUP 32(SI), Y3
	VMULPS Y8, Y0, Y0
	VMULPS Y8, Y2, Y2
	VFMADD231PS Y9, Y1, Y0
	VFMADD231PS Y9, Y3, Y2
	VMOVUPS Y0, 0(SI)
	VMOVUPS Y2, 32(SI)
	ADDQ $64, SI
	SUBQ $8, CX
	JGE  d64loop

d64four:
	ADDQ  $8, CX
	TESTQ $4, CX
	JZ    d64one
	VMOVSLDUP 0(SI), Y0
	VMOVSHDUP 0(SI), Y1
	VMULPS Y8, Y0, Y0
	VFMADD231PS Y9, Y1, Y0
	VMOVUPS Y0, 0(SI)
	ADDQ $32, SI

d64one:
	ANDQ $3, CX
	JZ   d64next

d64oneloop:
	VMOVQ 0(SI), X2
	VMOVSLDUP X2, X0
	VMOVSHDUP X2, X1
	VMULPS X8, X0, X0
	VFMADD231PS X9, X1, X0
	VMOVQ X0, 0(SI)
	ADDQ $8, SI
	DECQ CX
	JNZ  d64oneloop

d64next:
	ADDQ $8, BX
	ADDQ $64, R8
	DECQ DX
	JNZ  d64run

d64done:
	VZEROUPPER
	RET

// func diagRunsAVX2C128(a *complex128, offs *uint64, k, n int, c *float64)
TEXT ·diagRunsAVX2C128(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), AX
	MOVQ offs+8(FP), BX
	MOVQ k+16(FP), DX
	MOVQ c+32(FP), R8
	TESTQ DX, DX
	JLE  d128done

d128run:
	MOVQ (BX), SI
	ADDQ AX, SI
	VMOVUPD 0(R8), Y8
	VMOVUPD 32(R8), Y9
	MOVQ n+24(FP), CX
	SUBQ $4, CX
	JL   d128two

d128loop:
	VMOVDDUP 0(SI), Y0
	VPERMILPD $15, 0(SI), Y1
	VMOVDDUP 32(SI), Y2
	VPERMILPD $15, 32(SI), Y3
	VMULPD Y8, Y0, Y0
	VMULPD Y8, Y2, Y2
	VFMADD231PD Y9, Y1, Y0
	VFMADD231PD Y9, Y3, Y2
	VMOVUPD Y0, 0(SI)
	VMOVUPD Y2, 32(SI)
	ADDQ $64, SI
	SUBQ $4, CX
	JGE  d128loop

d128two:
	ADDQ  $4, CX
	TESTQ $2, CX
	JZ    d128one
	VMOVDDUP 0(SI), Y0
	VPERMILPD $15, 0(SI), Y1
	VMULPD Y8, Y0, Y0
	VFMADD231PD Y9, Y1, Y0
	VMOVUPD Y0, 0(SI)
	ADDQ $32, SI

d128one:
	TESTQ $1, CX
	JZ    d128next
	VMOVDDUP 0(SI), X0
	VMOVDDUP 8(SI), X1
	VMULPD X8, X0, X0
	VFMADD231PD X9, X1, X0
	VMOVUPD X0, 0(SI)

d128next:
	ADDQ $8, BX
	ADDQ $64, R8
	DECQ DX
	JNZ  d128run

d128done:
	VZEROUPPER
	RET
