//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 dense kernels for d ≤ 16 (see simd_amd64.go for the reference
// loop): a ZMM register holds eight complex64 or four complex128 groups, so
// each base of bases is the amplitude index of that many consecutive
// groups. Bases come in pairs (the caller repeats the last base when their
// number is odd: both are computed from the same inputs before either is
// written, so the repeat writes the same values twice): one broadcast of a
// constant of mc (the AVX2 table of denseConstsC64/C128, 32-byte vectors
// broadcast to both halves of a ZMM register) serves both bases, so a
// column of a chunk of four outputs costs four loads of inputs, eight of
// constants and sixteen FMAs. Accumulators: Z0..Z3 (real parts) and
// Z4..Z7 (imaginary parts) of the first base, Z8..Z15 of the second. tmp
// holds the outputs of the first base (d vectors) then of the second; all
// inputs of both are read before any output is written.

// Registers: R11, R15 = the two bases' addresses, R13 = constants of the
// current chunk and column, SI = offs cursor, R8 = end of offs, R12 =
// output slot of the first base in tmp, R14 = d·64 (the second base's
// tmp is R12+R14), AX = end of the first base's tmp, CX = pairs left,
// BX = bases cursor.

#define ZERO16 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

// One output o of the chunk: constants at off(R13) (real part) and
// off+32(R13) (imaginary part) into T0, T1.
#define ACC512(FMA, off, T0, T1, A0, A1, B0, B1) \
	VBROADCASTF64X4 off(R13), T0; \
	VBROADCASTF64X4 off+32(R13), T1; \
	FMA T0, Z16, A0; \
	FMA T1, Z17, A1; \
	FMA T0, Z18, B0; \
	FMA T1, Z19, B1

#define COL512(FMA) \
	ACC512(FMA, 0, Z20, Z21, Z0, Z4, Z8, Z12); \
	ACC512(FMA, 64, Z22, Z23, Z1, Z5, Z9, Z13); \
	ACC512(FMA, 128, Z24, Z25, Z2, Z6, Z10, Z14); \
	ACC512(FMA, 192, Z26, Z27, Z3, Z7, Z11, Z15)

#define SUMSTORE512(ADD, MOV) \
	ADD Z4, Z0, Z0; \
	ADD Z5, Z1, Z1; \
	ADD Z6, Z2, Z2; \
	ADD Z7, Z3, Z3; \
	ADD Z12, Z8, Z8; \
	ADD Z13, Z9, Z9; \
	ADD Z14, Z10, Z10; \
	ADD Z15, Z11, Z11; \
	MOV Z0, 0(R12); \
	MOV Z1, 64(R12); \
	MOV Z2, 128(R12); \
	MOV Z3, 192(R12); \
	LEAQ (R12)(R14*1), DI; \
	MOV Z8, 0(DI); \
	MOV Z9, 64(DI); \
	MOV Z10, 128(DI); \
	MOV Z11, 192(DI)

// DIRECT4 sums the four outputs of both bases (d = 4) and writes them
// straight over their inputs.
#define DIRECT4(ADD, MOV) \
	ADD Z4, Z0, Z0; \
	ADD Z5, Z1, Z1; \
	ADD Z6, Z2, Z2; \
	ADD Z7, Z3, Z3; \
	ADD Z12, Z8, Z8; \
	ADD Z13, Z9, Z9; \
	ADD Z14, Z10, Z10; \
	ADD Z15, Z11, Z11; \
	MOVQ 0(DX), DI; \
	MOV Z0, (R11)(DI*1); \
	MOV Z8, (R15)(DI*1); \
	MOVQ 8(DX), DI; \
	MOV Z1, (R11)(DI*1); \
	MOV Z9, (R15)(DI*1); \
	MOVQ 16(DX), DI; \
	MOV Z2, (R11)(DI*1); \
	MOV Z10, (R15)(DI*1); \
	MOVQ 24(DX), DI; \
	MOV Z3, (R11)(DI*1); \
	MOV Z11, (R15)(DI*1)

// func applyDense512C64(a *complex64, bases *uint64, npairs int, offs *uint64, d int, mc *float32, tmp *float32)
TEXT ·applyDense512C64(SB), NOSPLIT, $0-56
	MOVQ bases+8(FP), BX
	MOVQ npairs+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ R8, R14
	SHLQ $6, R14            // d·64: one base's tmp
	LEAQ (DX)(R8*8), R8     // end of offs
	TESTQ CX, CX
	JLE  applyDense512C64done

applyDense512C64pair:
	MOVQ a+0(FP), AX
	MOVQ 0(BX), R11
	LEAQ (AX)(R11*8), R11   // first base's address
	MOVQ 8(BX), R15
	LEAQ (AX)(R15*8), R15   // second base's address
	MOVQ mc+40(FP), R13
	MOVQ tmp+48(FP), R12
	LEAQ (R12)(R14*1), AX   // end of the first base's tmp

applyDense512C64chunk:
	ZERO16
	MOVQ DX, SI

applyDense512C64col:
	MOVQ (SI), DI
	VMOVSLDUP (R11)(DI*1), Z16
	VMOVSHDUP (R11)(DI*1), Z17
	VMOVSLDUP (R15)(DI*1), Z18
	VMOVSHDUP (R15)(DI*1), Z19
	COL512(VFMADD231PS)
	ADDQ $256, R13
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDense512C64col

	CMPQ R14, $256          // d = 4: one chunk, every input read
	JEQ  applyDense512C64direct
	SUMSTORE512(VADDPS, VMOVUPS)
	ADDQ $256, R12
	CMPQ R12, AX
	JNE  applyDense512C64chunk

	MOVQ DX, SI
	MOVQ tmp+48(FP), R12

applyDense512C64scatter:
	MOVQ (SI), DI
	VMOVUPS (R12), Z16
	VMOVUPS (R12)(R14*1), Z17
	VMOVUPS Z16, (R11)(DI*1)
	VMOVUPS Z17, (R15)(DI*1)
	ADDQ $64, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDense512C64scatter

applyDense512C64next:
	ADDQ $16, BX
	DECQ CX
	JNZ  applyDense512C64pair
	JMP  applyDense512C64done

applyDense512C64direct:
	DIRECT4(VADDPS, VMOVUPS)
	JMP  applyDense512C64next

applyDense512C64done:
	VZEROUPPER
	RET

// func applyDense512C128(a *complex128, bases *uint64, npairs int, offs *uint64, d int, mc *float64, tmp *float64)
TEXT ·applyDense512C128(SB), NOSPLIT, $0-56
	MOVQ bases+8(FP), BX
	MOVQ npairs+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ R8, R14
	SHLQ $6, R14
	LEAQ (DX)(R8*8), R8
	TESTQ CX, CX
	JLE  applyDense512C128done

applyDense512C128pair:
	MOVQ a+0(FP), AX
	MOVQ 0(BX), R11
	SHLQ $4, R11
	ADDQ AX, R11
	MOVQ 8(BX), R15
	SHLQ $4, R15
	ADDQ AX, R15
	MOVQ mc+40(FP), R13
	MOVQ tmp+48(FP), R12
	LEAQ (R12)(R14*1), AX

applyDense512C128chunk:
	ZERO16
	MOVQ DX, SI

applyDense512C128col:
	MOVQ (SI), DI
	VMOVDDUP (R11)(DI*1), Z16
	VPERMILPD $0xff, (R11)(DI*1), Z17
	VMOVDDUP (R15)(DI*1), Z18
	VPERMILPD $0xff, (R15)(DI*1), Z19
	COL512(VFMADD231PD)
	ADDQ $256, R13
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDense512C128col

	CMPQ R14, $256          // d = 4: one chunk, every input read
	JEQ  applyDense512C128direct
	SUMSTORE512(VADDPD, VMOVUPD)
	ADDQ $256, R12
	CMPQ R12, AX
	JNE  applyDense512C128chunk

	MOVQ DX, SI
	MOVQ tmp+48(FP), R12

applyDense512C128scatter:
	MOVQ (SI), DI
	VMOVUPD (R12), Z16
	VMOVUPD (R12)(R14*1), Z17
	VMOVUPD Z16, (R11)(DI*1)
	VMOVUPD Z17, (R15)(DI*1)
	ADDQ $64, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  applyDense512C128scatter

applyDense512C128next:
	ADDQ $16, BX
	DECQ CX
	JNZ  applyDense512C128pair
	JMP  applyDense512C128done

applyDense512C128direct:
	DIRECT4(VADDPD, VMOVUPD)
	JMP  applyDense512C128next

applyDense512C128done:
	VZEROUPPER
	RET

// The AVX-512 lane kernel (see applyDenseLow512C64): as applyDenseLowAVX2C64
// with eight complex64 lanes (qubits 0–2) a ZMM register, and two bases at
// a time (bases holds 2·npairs entries; the caller repeats the last when
// their number is odd), so that each constant loaded serves both. For
// each base, every input vector h is loaded once and each lane permutation
// it needs (bit s of smask; VPERMQ by the indices at perm+64·s) is stored
// to tmp (at (h·8+s)·128; the second base's at nv·1024 further), which
// the column loops read back with duplicated real parts, then imaginary
// parts (VMOVSLDUP, VMOVSHDUP: loads, no shuffles); then the outputs,
// four at a time when nv ≥ 4, both when nv = 2, else one, are summed over the columns
// (pidx: offsets in tmp) and written over the inputs, which are all in
// tmp already.
// Registers: R11, AX = the two bases' addresses, R10 = tmp, R8 = nv·1024,
// R9 = constants, R13 = constants cursor, R14/R15 = pidx and its end,
// SI = offs cursor, endoffs = end of offs, BX = bases, CX = pairs left.

// Store Z8 at off(R12): the column loops load it with its real parts,
// then its imaginary parts duplicated (VMOVSLDUP, VMOVSHDUP: loads, not
// shuffles).
#define LOWDUP512(off) \
	VMOVUPS Z8, off(R12)

#define LOWACC512 \
	VMOVUPS 0(R13), Z20; \
	VMOVUPS 64(R13), Z21; \
	VFMADD231PS Z20, Z4, Z0; \
	VFMADD231PS Z21, Z5, Z6; \
	VFMADD231PS Z20, Z10, Z12; \
	VFMADD231PS Z21, Z11, Z16; \
	VMOVUPS 128(R13), Z22; \
	VMOVUPS 192(R13), Z23; \
	VFMADD231PS Z22, Z4, Z1; \
	VFMADD231PS Z23, Z5, Z7; \
	VFMADD231PS Z22, Z10, Z13; \
	VFMADD231PS Z23, Z11, Z17; \
	VMOVUPS 256(R13), Z24; \
	VMOVUPS 320(R13), Z25; \
	VFMADD231PS Z24, Z4, Z2; \
	VFMADD231PS Z25, Z5, Z8; \
	VFMADD231PS Z24, Z10, Z14; \
	VFMADD231PS Z25, Z11, Z18; \
	VMOVUPS 384(R13), Z26; \
	VMOVUPS 448(R13), Z27; \
	VFMADD231PS Z26, Z4, Z3; \
	VFMADD231PS Z27, Z5, Z9; \
	VFMADD231PS Z26, Z10, Z15; \
	VFMADD231PS Z27, Z11, Z19

// func applyDenseLow512C64(a *complex64, bases *uint64, npairs int, offs *uint64, nv int, mc *float32, pidx *uint64, ncol int, tmp *float32, smask uint64, perm *uint64)
TEXT ·applyDenseLow512C64(SB), NOSPLIT, $8-88
	MOVQ bases+8(FP), BX
	MOVQ npairs+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ mc+40(FP), R9
	MOVQ pidx+48(FP), R14
	MOVQ ncol+56(FP), R15
	MOVQ tmp+64(FP), R10
	LEAQ (R14)(R15*8), R15  // end of pidx
	MOVQ nv+32(FP), R8
	LEAQ (DX)(R8*8), DI
	MOVQ DI, endoffs-8(SP)  // end of offs
	SHLQ $10, R8            // nv·1024: the second base's tmp
	TESTQ CX, CX
	JLE  low512done

low512pair:
	MOVQ a+0(FP), AX
	MOVQ 0(BX), R11
	LEAQ (AX)(R11*8), R11
	MOVQ 8(BX), DI
	LEAQ (AX)(DI*8), AX

	MOVQ DX, SI
	MOVQ R10, R12

low512perma:
	MOVQ (SI), DI
	VMOVUPS (R11)(DI*1), Z4
	VMOVAPS Z4, Z8
	LOWDUP512(0)
	MOVQ smask+72(FP), DI
	MOVQ perm+80(FP), R13
	TESTQ $2, DI
	JZ   low512pa1
	VMOVDQU64 64(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(128)

low512pa1:
	TESTQ $4, DI
	JZ   low512pa2
	VMOVDQU64 128(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(256)

low512pa2:
	TESTQ $8, DI
	JZ   low512pa3
	VMOVDQU64 192(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(384)

low512pa3:
	TESTQ $16, DI
	JZ   low512pa4
	VMOVDQU64 256(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(512)

low512pa4:
	TESTQ $32, DI
	JZ   low512pa5
	VMOVDQU64 320(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(640)

low512pa5:
	TESTQ $64, DI
	JZ   low512pa6
	VMOVDQU64 384(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(768)

low512pa6:
	TESTQ $128, DI
	JZ   low512pa7
	VMOVDQU64 448(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(896)

low512pa7:
	ADDQ $1024, R12
	ADDQ $8, SI
	CMPQ SI, endoffs-8(SP)
	JNE  low512perma

	LEAQ (R10)(R8*1), DI

	MOVQ DX, SI
	MOVQ DI, R12

low512permb:
	MOVQ (SI), DI
	VMOVUPS (AX)(DI*1), Z4
	VMOVAPS Z4, Z8
	LOWDUP512(0)
	MOVQ smask+72(FP), DI
	MOVQ perm+80(FP), R13
	TESTQ $2, DI
	JZ   low512pb1
	VMOVDQU64 64(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(128)

low512pb1:
	TESTQ $4, DI
	JZ   low512pb2
	VMOVDQU64 128(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(256)

low512pb2:
	TESTQ $8, DI
	JZ   low512pb3
	VMOVDQU64 192(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(384)

low512pb3:
	TESTQ $16, DI
	JZ   low512pb4
	VMOVDQU64 256(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(512)

low512pb4:
	TESTQ $32, DI
	JZ   low512pb5
	VMOVDQU64 320(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(640)

low512pb5:
	TESTQ $64, DI
	JZ   low512pb6
	VMOVDQU64 384(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(768)

low512pb6:
	TESTQ $128, DI
	JZ   low512pb7
	VMOVDQU64 448(R13), Z7
	VPERMQ Z4, Z7, Z8
	LOWDUP512(896)

low512pb7:
	ADDQ $1024, R12
	ADDQ $8, SI
	CMPQ SI, endoffs-8(SP)
	JNE  low512permb

	MOVQ DX, SI
	MOVQ R9, R13
	CMPQ nv+32(FP), $2
	JEQ  low512out2
	CMPQ nv+32(FP), $4
	JL   low512out1

low512out4:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	MOVQ R14, DI

low512col4:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVSLDUP 0(R12), Z4
	VMOVSHDUP 0(R12), Z5
	VMOVSLDUP 0(R12)(R8*1), Z10
	VMOVSHDUP 0(R12)(R8*1), Z11
	LOWACC512
	ADDQ $512, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  low512col4

	VADDPS Z6, Z0, Z0
	VADDPS Z7, Z1, Z1
	VADDPS Z8, Z2, Z2
	VADDPS Z9, Z3, Z3
	VADDPS Z16, Z12, Z12
	VADDPS Z17, Z13, Z13
	VADDPS Z18, Z14, Z14
	VADDPS Z19, Z15, Z15
	MOVQ 0(SI), DI
	VMOVUPS Z0, (R11)(DI*1)
	VMOVUPS Z12, (AX)(DI*1)
	MOVQ 8(SI), DI
	VMOVUPS Z1, (R11)(DI*1)
	VMOVUPS Z13, (AX)(DI*1)
	MOVQ 16(SI), DI
	VMOVUPS Z2, (R11)(DI*1)
	VMOVUPS Z14, (AX)(DI*1)
	MOVQ 24(SI), DI
	VMOVUPS Z3, (R11)(DI*1)
	VMOVUPS Z15, (AX)(DI*1)
	ADDQ $32, SI
	CMPQ SI, endoffs-8(SP)
	JNE  low512out4
	JMP  low512next

// nv = 2 (the plan's chunk is 2): both outputs at once, so that each
// input serves two outputs.
low512out2:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	MOVQ R14, DI

low512col2:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVSLDUP 0(R12), Z4
	VMOVSHDUP 0(R12), Z5
	VMOVSLDUP 0(R12)(R8*1), Z10
	VMOVSHDUP 0(R12)(R8*1), Z11
	VMOVUPS 0(R13), Z20
	VMOVUPS 64(R13), Z21
	VFMADD231PS Z20, Z4, Z0
	VFMADD231PS Z21, Z5, Z6
	VFMADD231PS Z20, Z10, Z12
	VFMADD231PS Z21, Z11, Z16
	VMOVUPS 128(R13), Z22
	VMOVUPS 192(R13), Z23
	VFMADD231PS Z22, Z4, Z1
	VFMADD231PS Z23, Z5, Z7
	VFMADD231PS Z22, Z10, Z13
	VFMADD231PS Z23, Z11, Z17
	ADDQ $256, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  low512col2

	VADDPS Z6, Z0, Z0
	VADDPS Z7, Z1, Z1
	VADDPS Z16, Z12, Z12
	VADDPS Z17, Z13, Z13
	MOVQ 0(SI), DI
	VMOVUPS Z0, (R11)(DI*1)
	VMOVUPS Z12, (AX)(DI*1)
	MOVQ 8(SI), DI
	VMOVUPS Z1, (R11)(DI*1)
	VMOVUPS Z13, (AX)(DI*1)
	JMP  low512next

low512out1:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	MOVQ R14, DI

low512col1:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPS 0(R13), Z20
	VMOVUPS 64(R13), Z21
	VMOVSLDUP 0(R12), Z4
	VMOVSHDUP 0(R12), Z5
	VMOVSLDUP 0(R12)(R8*1), Z10
	VMOVSHDUP 0(R12)(R8*1), Z11
	VFMADD231PS Z20, Z4, Z0
	VFMADD231PS Z21, Z5, Z1
	VFMADD231PS Z20, Z10, Z12
	VFMADD231PS Z21, Z11, Z13
	ADDQ $128, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  low512col1

	VADDPS Z1, Z0, Z0
	VADDPS Z13, Z12, Z12
	MOVQ (SI), DI
	VMOVUPS Z0, (R11)(DI*1)
	VMOVUPS Z12, (AX)(DI*1)
	ADDQ $8, SI
	CMPQ SI, endoffs-8(SP)
	JNE  low512out1

low512next:
	ADDQ $16, BX
	DECQ CX
	JNZ  low512pair

low512done:
	VZEROUPPER
	RET

// applyDenseLow512C64 for complex128 (see applyDenseLow512C128): four
// lanes (qubits 0 and 1) a ZMM register, lane permutations l → l^s by
// VSHUFF64X2, 512 bytes of tmp per input vector h (the second base's at
// nv·512 further). Registers as in applyDenseLow512C64, R8 = nv·512.

// Store Z8's duplicated real and imaginary parts at off(R12).
#define LOWDUPPD512(off) \
	VMOVDDUP Z8, Z5; \
	VPERMILPD $0xff, Z8, Z6; \
	VMOVUPD Z5, off(R12); \
	VMOVUPD Z6, off+64(R12)

#define LOWACCPD512 \
	VMOVUPD 0(R13), Z20; \
	VMOVUPD 64(R13), Z21; \
	VFMADD231PD Z20, Z4, Z0; \
	VFMADD231PD Z21, Z5, Z6; \
	VFMADD231PD Z20, Z10, Z12; \
	VFMADD231PD Z21, Z11, Z16; \
	VMOVUPD 128(R13), Z22; \
	VMOVUPD 192(R13), Z23; \
	VFMADD231PD Z22, Z4, Z1; \
	VFMADD231PD Z23, Z5, Z7; \
	VFMADD231PD Z22, Z10, Z13; \
	VFMADD231PD Z23, Z11, Z17; \
	VMOVUPD 256(R13), Z24; \
	VMOVUPD 320(R13), Z25; \
	VFMADD231PD Z24, Z4, Z2; \
	VFMADD231PD Z25, Z5, Z8; \
	VFMADD231PD Z24, Z10, Z14; \
	VFMADD231PD Z25, Z11, Z18; \
	VMOVUPD 384(R13), Z26; \
	VMOVUPD 448(R13), Z27; \
	VFMADD231PD Z26, Z4, Z3; \
	VFMADD231PD Z27, Z5, Z9; \
	VFMADD231PD Z26, Z10, Z15; \
	VFMADD231PD Z27, Z11, Z19

// func applyDenseLow512C128(a *complex128, bases *uint64, npairs int, offs *uint64, nv int, mc *float64, pidx *uint64, ncol int, tmp *float64, smask uint64)
TEXT ·applyDenseLow512C128(SB), NOSPLIT, $8-80
	MOVQ bases+8(FP), BX
	MOVQ npairs+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ mc+40(FP), R9
	MOVQ pidx+48(FP), R14
	MOVQ ncol+56(FP), R15
	MOVQ tmp+64(FP), R10
	LEAQ (R14)(R15*8), R15  // end of pidx
	MOVQ nv+32(FP), R8
	LEAQ (DX)(R8*8), DI
	MOVQ DI, endoffs-8(SP)  // end of offs
	SHLQ $9, R8             // nv·512: the second base's tmp
	TESTQ CX, CX
	JLE  lowpd512done

lowpd512pair:
	MOVQ a+0(FP), AX
	MOVQ 0(BX), R11
	SHLQ $4, R11
	ADDQ AX, R11
	MOVQ 8(BX), DI
	SHLQ $4, DI
	ADDQ DI, AX

	MOVQ DX, SI
	MOVQ R10, R12

lowpd512perma:
	MOVQ (SI), DI
	VMOVUPD (R11)(DI*1), Z4
	VMOVAPD Z4, Z8
	LOWDUPPD512(0)
	MOVQ smask+72(FP), DI
	TESTQ $2, DI
	JZ   lowpd512pa1
	VSHUFF64X2 $0xB1, Z4, Z4, Z8
	LOWDUPPD512(128)

lowpd512pa1:
	TESTQ $4, DI
	JZ   lowpd512pa2
	VSHUFF64X2 $0x4E, Z4, Z4, Z8
	LOWDUPPD512(256)

lowpd512pa2:
	TESTQ $8, DI
	JZ   lowpd512pa3
	VSHUFF64X2 $0x1B, Z4, Z4, Z8
	LOWDUPPD512(384)

lowpd512pa3:
	ADDQ $512, R12
	ADDQ $8, SI
	CMPQ SI, endoffs-8(SP)
	JNE  lowpd512perma

	LEAQ (R10)(R8*1), DI

	MOVQ DX, SI
	MOVQ DI, R12

lowpd512permb:
	MOVQ (SI), DI
	VMOVUPD (AX)(DI*1), Z4
	VMOVAPD Z4, Z8
	LOWDUPPD512(0)
	MOVQ smask+72(FP), DI
	TESTQ $2, DI
	JZ   lowpd512pb1
	VSHUFF64X2 $0xB1, Z4, Z4, Z8
	LOWDUPPD512(128)

lowpd512pb1:
	TESTQ $4, DI
	JZ   lowpd512pb2
	VSHUFF64X2 $0x4E, Z4, Z4, Z8
	LOWDUPPD512(256)

lowpd512pb2:
	TESTQ $8, DI
	JZ   lowpd512pb3
	VSHUFF64X2 $0x1B, Z4, Z4, Z8
	LOWDUPPD512(384)

lowpd512pb3:
	ADDQ $512, R12
	ADDQ $8, SI
	CMPQ SI, endoffs-8(SP)
	JNE  lowpd512permb

	MOVQ DX, SI
	MOVQ R9, R13
	CMPQ nv+32(FP), $2
	JEQ  lowpd512out2
	CMPQ nv+32(FP), $4
	JL   lowpd512out1

lowpd512out4:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	MOVQ R14, DI

lowpd512col4:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPD 0(R12), Z4
	VMOVUPD 64(R12), Z5
	VMOVUPD 0(R12)(R8*1), Z10
	VMOVUPD 64(R12)(R8*1), Z11
	LOWACCPD512
	ADDQ $512, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowpd512col4

	VADDPD Z6, Z0, Z0
	VADDPD Z7, Z1, Z1
	VADDPD Z8, Z2, Z2
	VADDPD Z9, Z3, Z3
	VADDPD Z16, Z12, Z12
	VADDPD Z17, Z13, Z13
	VADDPD Z18, Z14, Z14
	VADDPD Z19, Z15, Z15
	MOVQ 0(SI), DI
	VMOVUPD Z0, (R11)(DI*1)
	VMOVUPD Z12, (AX)(DI*1)
	MOVQ 8(SI), DI
	VMOVUPD Z1, (R11)(DI*1)
	VMOVUPD Z13, (AX)(DI*1)
	MOVQ 16(SI), DI
	VMOVUPD Z2, (R11)(DI*1)
	VMOVUPD Z14, (AX)(DI*1)
	MOVQ 24(SI), DI
	VMOVUPD Z3, (R11)(DI*1)
	VMOVUPD Z15, (AX)(DI*1)
	ADDQ $32, SI
	CMPQ SI, endoffs-8(SP)
	JNE  lowpd512out4
	JMP  lowpd512next

// nv = 2 (chunk 2): both outputs at once, as low512out2.
lowpd512out2:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	MOVQ R14, DI

lowpd512col2:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPD 0(R12), Z4
	VMOVUPD 64(R12), Z5
	VMOVUPD 0(R12)(R8*1), Z10
	VMOVUPD 64(R12)(R8*1), Z11
	VMOVUPD 0(R13), Z20
	VMOVUPD 64(R13), Z21
	VFMADD231PD Z20, Z4, Z0
	VFMADD231PD Z21, Z5, Z6
	VFMADD231PD Z20, Z10, Z12
	VFMADD231PD Z21, Z11, Z16
	VMOVUPD 128(R13), Z22
	VMOVUPD 192(R13), Z23
	VFMADD231PD Z22, Z4, Z1
	VFMADD231PD Z23, Z5, Z7
	VFMADD231PD Z22, Z10, Z13
	VFMADD231PD Z23, Z11, Z17
	ADDQ $256, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowpd512col2

	VADDPD Z6, Z0, Z0
	VADDPD Z7, Z1, Z1
	VADDPD Z16, Z12, Z12
	VADDPD Z17, Z13, Z13
	MOVQ 0(SI), DI
	VMOVUPD Z0, (R11)(DI*1)
	VMOVUPD Z12, (AX)(DI*1)
	MOVQ 8(SI), DI
	VMOVUPD Z1, (R11)(DI*1)
	VMOVUPD Z13, (AX)(DI*1)
	JMP  lowpd512next

lowpd512out1:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	MOVQ R14, DI

lowpd512col1:
	MOVQ (DI), R12
	ADDQ R10, R12
	VMOVUPD 0(R13), Z20
	VMOVUPD 64(R13), Z21
	VMOVUPD 0(R12), Z4
	VMOVUPD 64(R12), Z5
	VMOVUPD 0(R12)(R8*1), Z10
	VMOVUPD 64(R12)(R8*1), Z11
	VFMADD231PD Z20, Z4, Z0
	VFMADD231PD Z21, Z5, Z1
	VFMADD231PD Z20, Z10, Z12
	VFMADD231PD Z21, Z11, Z13
	ADDQ $128, R13
	ADDQ $8, DI
	CMPQ DI, R15
	JNE  lowpd512col1

	VADDPD Z1, Z0, Z0
	VADDPD Z13, Z12, Z12
	MOVQ (SI), DI
	VMOVUPD Z0, (R11)(DI*1)
	VMOVUPD Z12, (AX)(DI*1)
	ADDQ $8, SI
	CMPQ SI, endoffs-8(SP)
	JNE  lowpd512out1

lowpd512next:
	ADDQ $16, BX
	DECQ CX
	JNZ  lowpd512pair

lowpd512done:
	VZEROUPPER
	RET

// The eight-output AVX-512 dense kernels (see applyDense512x8C64): as
// applyDense512C64 for d a multiple of 8, with eight outputs a chunk
// instead of four, so that each input vector loaded (with its real and
// imaginary parts duplicated) serves eight outputs, and one accumulator
// an output and base (the real-part and imaginary-part products go into
// the same register: no final additions). The constants of outputs 4–7
// of a chunk are those of the next four-output chunk of the table, d·256
// bytes further (R9). Accumulators: Z0..Z7 (first base), Z8..Z15
// (second); inputs Z16..Z19; constants Z20..Z27.
// Registers: R11, R15 = the two bases' addresses, R13/R9 = constants of
// outputs 0–3 / 4–7 of the current chunk and column, R10 = d·256, SI =
// offs cursor, R8 = end of offs, R12 = output slot of the first base in
// tmp, R14 = d·64, AX = end of the first base's tmp, CX = pairs left, BX
// = bases cursor.

#define ZERO8X2 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

// One output: constants at off(R) (the (re, im) pairs) and off+32(R) (the
// (−im, re) pairs) into T0, T1; A += T0·re(x) + T1·im(x) for the first
// base's input (Z16, Z17), B likewise for the second's (Z18, Z19).
#define X8ACC(FMA, R, off, T0, T1, A, B) \
	VBROADCASTF64X4 off(R), T0; \
	VBROADCASTF64X4 off+32(R), T1; \
	FMA T0, Z16, A; \
	FMA T0, Z18, B; \
	FMA T1, Z17, A; \
	FMA T1, Z19, B

#define X8COL(FMA) \
	X8ACC(FMA, R13, 0, Z20, Z21, Z0, Z8); \
	X8ACC(FMA, R13, 64, Z22, Z23, Z1, Z9); \
	X8ACC(FMA, R13, 128, Z24, Z25, Z2, Z10); \
	X8ACC(FMA, R13, 192, Z26, Z27, Z3, Z11); \
	X8ACC(FMA, R9, 0, Z20, Z21, Z4, Z12); \
	X8ACC(FMA, R9, 64, Z22, Z23, Z5, Z13); \
	X8ACC(FMA, R9, 128, Z24, Z25, Z6, Z14); \
	X8ACC(FMA, R9, 192, Z26, Z27, Z7, Z15)

#define X8STORE(MOV) \
	MOV Z0, 0(R12); \
	MOV Z1, 64(R12); \
	MOV Z2, 128(R12); \
	MOV Z3, 192(R12); \
	MOV Z4, 256(R12); \
	MOV Z5, 320(R12); \
	MOV Z6, 384(R12); \
	MOV Z7, 448(R12); \
	LEAQ (R12)(R14*1), DI; \
	MOV Z8, 0(DI); \
	MOV Z9, 64(DI); \
	MOV Z10, 128(DI); \
	MOV Z11, 192(DI); \
	MOV Z12, 256(DI); \
	MOV Z13, 320(DI); \
	MOV Z14, 384(DI); \
	MOV Z15, 448(DI)

// X8DIRECT stores the eight outputs of both bases straight over their
// inputs (d = 8: one chunk, so every input has been read).
#define X8DIRECT(MOV) \
	MOVQ 0(DX), DI; \
	MOV Z0, (R11)(DI*1); \
	MOV Z8, (R15)(DI*1); \
	MOVQ 8(DX), DI; \
	MOV Z1, (R11)(DI*1); \
	MOV Z9, (R15)(DI*1); \
	MOVQ 16(DX), DI; \
	MOV Z2, (R11)(DI*1); \
	MOV Z10, (R15)(DI*1); \
	MOVQ 24(DX), DI; \
	MOV Z3, (R11)(DI*1); \
	MOV Z11, (R15)(DI*1); \
	MOVQ 32(DX), DI; \
	MOV Z4, (R11)(DI*1); \
	MOV Z12, (R15)(DI*1); \
	MOVQ 40(DX), DI; \
	MOV Z5, (R11)(DI*1); \
	MOV Z13, (R15)(DI*1); \
	MOVQ 48(DX), DI; \
	MOV Z6, (R11)(DI*1); \
	MOV Z14, (R15)(DI*1); \
	MOVQ 56(DX), DI; \
	MOV Z7, (R11)(DI*1); \
	MOV Z15, (R15)(DI*1)

// func applyDense512x8C64(a *complex64, bases *uint64, npairs int, offs *uint64, d int, mc *float32, tmp *float32)
TEXT ·applyDense512x8C64(SB), NOSPLIT, $0-56
	MOVQ bases+8(FP), BX
	MOVQ npairs+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ R8, R14
	SHLQ $6, R14            // d·64: one base's tmp
	MOVQ R8, R10
	SHLQ $8, R10            // d·256: one four-output chunk of constants
	LEAQ (DX)(R8*8), R8     // end of offs
	TESTQ CX, CX
	JLE  x8C64done

x8C64pair:
	MOVQ a+0(FP), AX
	MOVQ 0(BX), R11
	LEAQ (AX)(R11*8), R11   // first base's address
	MOVQ 8(BX), R15
	LEAQ (AX)(R15*8), R15   // second base's address
	MOVQ mc+40(FP), R13
	MOVQ tmp+48(FP), R12
	LEAQ (R12)(R14*1), AX   // end of the first base's tmp

x8C64chunk:
	ZERO8X2
	MOVQ DX, SI
	LEAQ (R13)(R10*1), R9

x8C64col:
	MOVQ (SI), DI
	VMOVSLDUP (R11)(DI*1), Z16
	VMOVSHDUP (R11)(DI*1), Z17
	VMOVSLDUP (R15)(DI*1), Z18
	VMOVSHDUP (R15)(DI*1), Z19
	X8COL(VFMADD231PS)
	ADDQ $256, R13
	ADDQ $256, R9
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  x8C64col

	CMPQ R14, $512
	JEQ  x8C64direct
	MOVQ R9, R13            // the next eight-output chunk
	X8STORE(VMOVUPS)
	ADDQ $512, R12
	CMPQ R12, AX
	JNE  x8C64chunk

	MOVQ DX, SI
	MOVQ tmp+48(FP), R12

x8C64scatter:
	MOVQ (SI), DI
	VMOVUPS (R12), Z16
	VMOVUPS (R12)(R14*1), Z17
	VMOVUPS Z16, (R11)(DI*1)
	VMOVUPS Z17, (R15)(DI*1)
	ADDQ $64, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  x8C64scatter

x8C64next:
	ADDQ $16, BX
	DECQ CX
	JNZ  x8C64pair
	JMP  x8C64done

x8C64direct:
	X8DIRECT(VMOVUPS)
	JMP  x8C64next

x8C64done:
	VZEROUPPER
	RET

// func applyDense512x8C128(a *complex128, bases *uint64, npairs int, offs *uint64, d int, mc *float64, tmp *float64)
TEXT ·applyDense512x8C128(SB), NOSPLIT, $0-56
	MOVQ bases+8(FP), BX
	MOVQ npairs+16(FP), CX
	MOVQ offs+24(FP), DX
	MOVQ d+32(FP), R8
	MOVQ R8, R14
	SHLQ $6, R14
	MOVQ R8, R10
	SHLQ $8, R10
	LEAQ (DX)(R8*8), R8
	TESTQ CX, CX
	JLE  x8C128done

x8C128pair:
	MOVQ a+0(FP), AX
	MOVQ 0(BX), R11
	SHLQ $4, R11
	ADDQ AX, R11
	MOVQ 8(BX), R15
	SHLQ $4, R15
	ADDQ AX, R15
	MOVQ mc+40(FP), R13
	MOVQ tmp+48(FP), R12
	LEAQ (R12)(R14*1), AX

x8C128chunk:
	ZERO8X2
	MOVQ DX, SI
	LEAQ (R13)(R10*1), R9

x8C128col:
	MOVQ (SI), DI
	VMOVDDUP (R11)(DI*1), Z16
	VPERMILPD $0xff, (R11)(DI*1), Z17
	VMOVDDUP (R15)(DI*1), Z18
	VPERMILPD $0xff, (R15)(DI*1), Z19
	X8COL(VFMADD231PD)
	ADDQ $256, R13
	ADDQ $256, R9
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  x8C128col

	CMPQ R14, $512
	JEQ  x8C128direct
	MOVQ R9, R13
	X8STORE(VMOVUPD)
	ADDQ $512, R12
	CMPQ R12, AX
	JNE  x8C128chunk

	MOVQ DX, SI
	MOVQ tmp+48(FP), R12

x8C128scatter:
	MOVQ (SI), DI
	VMOVUPD (R12), Z16
	VMOVUPD (R12)(R14*1), Z17
	VMOVUPD Z16, (R11)(DI*1)
	VMOVUPD Z17, (R15)(DI*1)
	ADDQ $64, R12
	ADDQ $8, SI
	CMPQ SI, R8
	JNE  x8C128scatter

x8C128next:
	ADDQ $16, BX
	DECQ CX
	JNZ  x8C128pair
	JMP  x8C128done

x8C128direct:
	X8DIRECT(VMOVUPD)
	JMP  x8C128next

x8C128done:
	VZEROUPPER
	RET
