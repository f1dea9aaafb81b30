/*
 * fusion.cl — the fusion layer's coupling (one body for OpenCL C and CUDA;
 * see compat.h and backend.FusionCoupler): the amplitude-to-neuron fold,
 * the strided kick of the spike spectrum into the state, and the one-pass
 * statistics (norm, entropy sum, order-parameter sum).
 */

/* fu_fold: item w = i*chunks + c sums ψ_a over a = i + n*j for j in the
 * c-th chunk [c*clen, min((c+1)*clen, per)) of the per = dim/n terms; the
 * host adds the chunks of neuron i in order. */
KERNEL void KNAME(fu_fold)(GLOBAL const cplx *a, u64 n, u64 per, u64 chunks, u64 clen, GLOBAL acc *out)
{
	u64 w = GID;
	if (w >= n * chunks)
		return;
	u64 i = w / chunks, c = w - i * chunks;
	u64 lo = c * clen, hi = lo + clen;
	if (hi > per)
		hi = per;
	acc re = 0, im = 0;
	for (u64 j = lo; j < hi; j++) {
		cplx v = a[i + n * j];
		re += v.x;
		im += v.y;
	}
	out[2 * w] = re;
	out[2 * w + 1] = im;
}

/* fu_kick: ψ_{k*stride} += v[k] for k < count; out[k] receives the sum
 * (out may be v: item k reads v[k] before writing out[k]). */
KERNEL void KNAME(fu_kick)(GLOBAL cplx *a, GLOBAL const cplx *v, u64 stride, u64 count, GLOBAL cplx *out)
{
	u64 k = GID;
	if (k >= count)
		return;
	cplx x = a[k * stride], d = v[k];
	x = CADD(x, d);
	a[k * stride] = x;
	out[k] = x;
}

/* fu_stats: per-group partial sums of p, p·ln p (0 for p = 0) and
 * |ψ|·ψ (re, im), p = |ψ|², four values per group. */
KERNEL void KNAME(fu_stats)(GLOBAL const cplx *a, u64 n, GLOBAL acc *out)
{
	LOCAL acc s0[MEC_WG];
	LOCAL acc s1[MEC_WG];
	LOCAL acc s2[MEC_WG];
	LOCAL acc s3[MEC_WG];
	acc t0 = 0, t1 = 0, t2 = 0, t3 = 0;
	for (u64 i = GID; i < n; i += GSIZE) {
		cplx v = a[i];
		acc p = (acc)v.x * v.x + (acc)v.y * v.y;
		t0 += p;
		if (p > 0)
			t1 += p * log(p);
		acc m = sqrt(p);
		t2 += m * v.x;
		t3 += m * v.y;
	}
	s0[LID] = t0;
	s1[LID] = t1;
	s2[LID] = t2;
	s3[LID] = t3;
	WG_SUM(s0);
	WG_SUM(s1);
	WG_SUM(s2);
	WG_SUM(s3);
	if (LID == 0) {
		out[4 * GROUP] = s0[0];
		out[4 * GROUP + 1] = s1[0];
		out[4 * GROUP + 2] = s2[0];
		out[4 * GROUP + 3] = s3[0];
	}
}
