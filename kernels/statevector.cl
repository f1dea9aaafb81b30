/*
 * statevector.cl — state-vector kernels (one body for OpenCL C and CUDA;
 * see compat.h). Amplitude i holds basis state |i⟩, qubit q is bit q of i.
 *
 * Gate kernels take the controls as (cmask, cval): amplitude i is acted on
 * when (i & cmask) == cval. Target lists are packed 6 bits per qubit into a
 * u64: tpack holds the targets in matrix-bit order (target b is bit b of a
 * matrix index), spack the same qubits sorted ascending.
 *
 * Reductions use a grid of whole work-groups of MEC_WG items; each group
 * writes one partial (or one re/im pair) and the host adds the partials in
 * group order, so results do not depend on scheduling.
 */

#define TQ(pack, b) ((i32)(((pack) >> (6 * (b))) & 63))

/* insert0 inserts a zero bit at position p of i. */
FUNC u64 insert0(u64 i, i32 p)
{
	u64 lo = i & ((((u64)1) << p) - 1);
	return ((i >> p) << (p + 1)) | lo;
}

/* scatter spreads the k low bits of c onto the qubit positions of tpack. */
FUNC u64 scatter(u64 c, u64 tpack, i32 k)
{
	u64 r = 0;
	for (i32 b = 0; b < k; b++)
		r |= ((c >> b) & 1) << TQ(tpack, b);
	return r;
}

/* sv_apply1: a dense one-qubit gate [[m00 m01] [m10 m11]] on target t;
 * the controls exclude t. Work item w handles the SV_RUN consecutive pair
 * indices [w*SV_RUN, (w+1)*SV_RUN) of the 2^(n-1) pairs (the launch covers
 * them exactly); with t >= log2(SV_RUN) their first amplitudes are
 * contiguous, so the inner loop vectorises. SV_RUN is 16 for complex128 and
 * 32 for complex64 (accel.SVRun on the host must agree). Without controls
 * each half of a run is read whole before the other, which restores full
 * bandwidth on CPU devices when the halves lie 512 bytes apart. */
#ifdef MEC_FP64
#define SV_RUN 16
#else
#define SV_RUN 32
#endif
/* The run loops work on the amplitudes as interleaved scalars (re at 2i,
 * im at 2i+1): loop vectorisers (PoCL's among them) do not vectorise loops
 * whose instructions return vector types such as double2. */
#define ROW_RE(xr, xi, yr, yi, ar, ai, br, bi) (ar * xr - ai * xi + br * yr - bi * yi)
#define ROW_IM(xr, xi, yr, yi, ar, ai, br, bi) (ar * xi + ai * xr + br * yi + bi * yr)
#define SV_PAIR(q0, q1, ok)                                                     \
	{                                                                      \
		real xr = (q0)[0], xi = (q0)[1], yr = (q1)[0], yi = (q1)[1];   \
		real nxr = ROW_RE(xr, xi, yr, yi, m00r, m00i, m01r, m01i);     \
		real nxi = ROW_IM(xr, xi, yr, yi, m00r, m00i, m01r, m01i);     \
		real nyr = ROW_RE(xr, xi, yr, yi, m10r, m10i, m11r, m11i);     \
		real nyi = ROW_IM(xr, xi, yr, yi, m10r, m10i, m11r, m11i);     \
		(q0)[0] = (ok) ? nxr : xr;                                     \
		(q0)[1] = (ok) ? nxi : xi;                                     \
		(q1)[0] = (ok) ? nyr : yr;                                     \
		(q1)[1] = (ok) ? nyi : yi;                                     \
	}
/* SV_LOW(T): the run of a target T < log2(SV_RUN): its 2*SV_RUN amplitudes
 * are contiguous from p, pair j at offsets insert0(j, T) and that + 2^T;
 * T is a constant so the offsets fold. */
#define SV_LOW(T)                                                              \
	for (i32 j = 0; j < SV_RUN; j++) {                                     \
		i32 o = ((j >> T) << (T + 1)) | (j & ((1 << T) - 1));          \
		SV_PAIR(p + 2 * o, p + 2 * (o + (1 << T)),                      \
			cmask == 0 || ((base + (u64)o) & cmask) == cval)      \
	}
KERNEL void KNAME(sv_apply1)(GLOBAL cplx *a, i32 t,
	real m00r, real m00i, real m01r, real m01i,
	real m10r, real m10i, real m11r, real m11i, u64 cmask, u64 cval)
{
	u64 first = GID * SV_RUN;
	u64 bit = ((u64)1) << t;
	if (bit >= SV_RUN) {
		u64 i0 = insert0(first, t);
		GLOBAL real *p0 = (GLOBAL real *)(a + i0);
		GLOBAL real *p1 = (GLOBAL real *)(a + i0 + bit);
		if (cmask == 0) {
			real xr[SV_RUN], xi[SV_RUN], yr[SV_RUN], yi[SV_RUN];
			for (i32 j = 0; j < SV_RUN; j++) {
				xr[j] = p0[2 * j];
				xi[j] = p0[2 * j + 1];
			}
			for (i32 j = 0; j < SV_RUN; j++) {
				yr[j] = p1[2 * j];
				yi[j] = p1[2 * j + 1];
			}
			for (i32 j = 0; j < SV_RUN; j++) {
				p0[2 * j] = ROW_RE(xr[j], xi[j], yr[j], yi[j], m00r, m00i, m01r, m01i);
				p0[2 * j + 1] = ROW_IM(xr[j], xi[j], yr[j], yi[j], m00r, m00i, m01r, m01i);
			}
			for (i32 j = 0; j < SV_RUN; j++) {
				p1[2 * j] = ROW_RE(xr[j], xi[j], yr[j], yi[j], m10r, m10i, m11r, m11i);
				p1[2 * j + 1] = ROW_IM(xr[j], xi[j], yr[j], yi[j], m10r, m10i, m11r, m11i);
			}
			return;
		}
		if ((i0 & cmask & ~(u64)(SV_RUN - 1)) != (cval & ~(u64)(SV_RUN - 1)))
			return;
		for (i32 j = 0; j < SV_RUN; j++)
			SV_PAIR(p0 + 2 * j, p1 + 2 * j, ((i0 + j) & cmask) == cval)
		return;
	}
	u64 base = 2 * first;
	GLOBAL real *p = (GLOBAL real *)(a + base);
	switch (t) {
	case 0:
		SV_LOW(0)
		break;
	case 1:
		SV_LOW(1)
		break;
	case 2:
		SV_LOW(2)
		break;
	case 3:
		SV_LOW(3)
		break;
#if SV_RUN > 16
	default:
		SV_LOW(4)
		break;
#endif
	}
}

/* sv_applyK (K = 2..6): a dense gate on K targets, matrix m (2^K x 2^K,
 * row major), over groups = 2^(n-K) groups of 2^K amplitudes. K is a
 * compile-time constant so the loops unroll and v stays in registers. */
#define SV_APPLYK(K)                                                           \
	KERNEL void KNAME(sv_apply##K)(GLOBAL cplx *a, GLOBAL const cplx *m,   \
		u64 groups, u64 tpack, u64 spack, u64 cmask, u64 cval)         \
	{                                                                      \
		u64 g = GID;                                                   \
		if (g >= groups)                                               \
			return;                                                \
		u64 base = g;                                                  \
		for (i32 b = 0; b < K; b++)                                    \
			base = insert0(base, TQ(spack, b));                    \
		if ((base & cmask) != cval)                                    \
			return;                                                \
		u64 off[1 << K];                                               \
		cplx v[1 << K];                                                \
		off[0] = base;                                                 \
		for (i32 b = 0; b < K; b++)                                    \
			for (i32 c = 0; c < (1 << b); c++)                     \
				off[c | (1 << b)] = off[c] | (((u64)1) << TQ(tpack, b)); \
		for (i32 c = 0; c < (1 << K); c++)                             \
			v[c] = a[off[c]];                                      \
		for (i32 r = 0; r < (1 << K); r++) {                           \
			real sr = 0, si = 0;                                   \
			for (i32 c = 0; c < (1 << K); c++) {                   \
				cplx w = m[r * (1 << K) + c];                  \
				sr += w.x * v[c].x - w.y * v[c].y;             \
				si += w.x * v[c].y + w.y * v[c].x;             \
			}                                                      \
			a[off[r]] = CPLX(sr, si);                              \
		}                                                              \
	}

SV_APPLYK(2)
SV_APPLYK(3)
SV_APPLYK(4)
SV_APPLYK(5)
SV_APPLYK(6)

/* sv_applyK_run (K = 2..4): the same gate when every target is at least
 * log2(SV_RUN): work item w handles the SV_RUN consecutive groups
 * [w*SV_RUN, (w+1)*SV_RUN), whose amplitudes are contiguous for each
 * matrix index, so the j loop vectorises (scalar re/im accesses, as in
 * sv_apply1). */
#define SV_APPLYK_RUN(K)                                                       \
	KERNEL void KNAME(sv_apply##K##_run)(GLOBAL cplx *a, GLOBAL const cplx *m, \
		u64 tpack, u64 spack, u64 cmask, u64 cval)                     \
	{                                                                      \
		GLOBAL real *ar = (GLOBAL real *)a;                            \
		GLOBAL const real *mr = (GLOBAL const real *)m;                \
		u64 base = GID * SV_RUN;                                       \
		for (i32 b = 0; b < K; b++)                                    \
			base = insert0(base, TQ(spack, b));                    \
		u64 off[1 << K];                                               \
		off[0] = base;                                                 \
		for (i32 b = 0; b < K; b++)                                    \
			for (i32 c = 0; c < (1 << b); c++)                     \
				off[c | (1 << b)] = off[c] | (((u64)1) << TQ(tpack, b)); \
		for (i32 j = 0; j < SV_RUN; j++) {                             \
			i32 ok = cmask == 0 || ((base + j) & cmask) == cval;   \
			real vr[1 << K], vi[1 << K];                           \
			for (i32 c = 0; c < (1 << K); c++) {                   \
				vr[c] = ar[2 * (off[c] + j)];                  \
				vi[c] = ar[2 * (off[c] + j) + 1];              \
			}                                                      \
			for (i32 r = 0; r < (1 << K); r++) {                   \
				real sr = 0, si = 0;                           \
				for (i32 c = 0; c < (1 << K); c++) {           \
					real wr = mr[2 * (r * (1 << K) + c)];  \
					real wi = mr[2 * (r * (1 << K) + c) + 1]; \
					sr += wr * vr[c] - wi * vi[c];         \
					si += wr * vi[c] + wi * vr[c];         \
				}                                              \
				ar[2 * (off[r] + j)] = ok ? sr : vr[r];        \
				ar[2 * (off[r] + j) + 1] = ok ? si : vi[r];    \
			}                                                      \
		}                                                              \
	}

SV_APPLYK_RUN(2)
SV_APPLYK_RUN(3)
SV_APPLYK_RUN(4)

/* sv_diag: a diagonal gate d (2^k entries) on the targets of tpack, one
 * work item per amplitude (n = 2^qubits). k = 0 scales the state. */
KERNEL void KNAME(sv_diag)(GLOBAL cplx *a, GLOBAL const cplx *dg, u64 n, i32 k,
	u64 tpack, u64 cmask, u64 cval)
{
	u64 i = GID;
	if (i >= n || (i & cmask) != cval)
		return;
	u64 j = 0;
	for (i32 b = 0; b < k; b++)
		j |= ((i >> TQ(tpack, b)) & 1) << b;
	cplx w = dg[j], v = a[i];
	a[i] = CMUL(w, v);
}

/* sv_swap: exchanges amplitudes of qubits q1 < q2 (no controls), over
 * quarter = 2^(n-2) index groups. */
KERNEL void KNAME(sv_swap)(GLOBAL cplx *a, u64 quarter, i32 q1, i32 q2)
{
	u64 g = GID;
	if (g >= quarter)
		return;
	u64 base = insert0(insert0(g, q1), q2);
	u64 i01 = base | (((u64)1) << q1), i10 = base | (((u64)1) << q2);
	cplx t = a[i01];
	a[i01] = a[i10];
	a[i10] = t;
}

/* sv_norm: per-group partial sums of |a_i|^2. */
KERNEL void KNAME(sv_norm)(GLOBAL const cplx *a, u64 n, GLOBAL acc *out)
{
	LOCAL acc s[MEC_WG];
	acc t = 0;
	for (u64 i = GID; i < n; i += GSIZE) {
		cplx v = a[i];
		t += (acc)v.x * (acc)v.x + (acc)v.y * (acc)v.y;
	}
	s[LID] = t;
	WG_SUM(s);
	if (LID == 0)
		out[GROUP] = s[0];
}

/* sv_pauli: per-group partial sums (re, im) of
 * conj(a[i ^ xmask]) * a[i] * (-1)^popcount(i & zmask); the host applies
 * the string's phase. */
KERNEL void KNAME(sv_pauli)(GLOBAL const cplx *a, u64 n, u64 xmask, u64 zmask, GLOBAL acc *out)
{
	LOCAL acc sr[MEC_WG];
	LOCAL acc si[MEC_WG];
	acc tr = 0, ti = 0;
	for (u64 i = GID; i < n; i += GSIZE) {
		cplx w = a[i ^ xmask], v = a[i];
		acc pr = (acc)w.x * v.x + (acc)w.y * v.y;
		acc pi = (acc)w.x * v.y - (acc)w.y * v.x;
		if (POPC64(i & zmask) & 1) {
			pr = -pr;
			pi = -pi;
		}
		tr += pr;
		ti += pi;
	}
	sr[LID] = tr;
	si[LID] = ti;
	WG_SUM(sr);
	WG_SUM(si);
	if (LID == 0) {
		out[2 * GROUP] = sr[0];
		out[2 * GROUP + 1] = si[0];
	}
}

/* sv_inner: per-group partial sums (re, im) of conj(a_i) * b_i. */
KERNEL void KNAME(sv_inner)(GLOBAL const cplx *a, GLOBAL const cplx *b, u64 n, GLOBAL acc *out)
{
	LOCAL acc sr[MEC_WG];
	LOCAL acc si[MEC_WG];
	acc tr = 0, ti = 0;
	for (u64 i = GID; i < n; i += GSIZE) {
		cplx x = a[i], y = b[i];
		tr += (acc)x.x * y.x + (acc)x.y * y.y;
		ti += (acc)x.x * y.y - (acc)x.y * y.x;
	}
	sr[LID] = tr;
	si[LID] = ti;
	WG_SUM(sr);
	WG_SUM(si);
	if (LID == 0) {
		out[2 * GROUP] = sr[0];
		out[2 * GROUP + 1] = si[0];
	}
}

/* sv_marginal: work item w = o * chunks + c sums |a_i|^2 over the indices
 * i whose bits at the k measured qubits (qpack, outcome bit j = qubit
 * qpack[j]; spack sorted) spell o, taking the c-th chunk of length clen of
 * the rest = 2^(n-k) such indices. */
KERNEL void KNAME(sv_marginal)(GLOBAL const cplx *a, u64 rest, i32 k, u64 qpack, u64 spack,
	u64 chunks, u64 clen, GLOBAL acc *out)
{
	u64 w = GID;
	u64 outcomes = ((u64)1) << k;
	if (w >= outcomes * chunks)
		return;
	u64 o = w / chunks, c = w % chunks;
	u64 bits = scatter(o, qpack, k);
	u64 lo = c * clen, hi = lo + clen;
	if (hi > rest)
		hi = rest;
	acc t = 0;
	for (u64 j = lo; j < hi; j++) {
		u64 i = j;
		for (i32 b = 0; b < k; b++)
			i = insert0(i, TQ(spack, b));
		cplx v = a[i | bits];
		t += (acc)v.x * v.x + (acc)v.y * v.y;
	}
	out[w] = t;
}

/* sv_blocksum: item b sums |a_i|^2 over [b*blen, (b+1)*blen), in index
 * order (the sampling reduction: the host finds each variate's block from
 * the cumulative block sums and reads only that block). */
KERNEL void KNAME(sv_blocksum)(GLOBAL const cplx *a, u64 blocks, u64 blen, GLOBAL acc *out)
{
	u64 b = GID;
	if (b >= blocks)
		return;
	acc t = 0;
	for (u64 i = b * blen; i < (b + 1) * blen; i++) {
		cplx v = a[i];
		t += (acc)v.x * v.x + (acc)v.y * v.y;
	}
	out[b] = t;
}
