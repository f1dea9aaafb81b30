/*
 * lif.cl — the spiking (leaky integrate-and-fire) engine, step for step as
 * package snn (the CPU oracle), so that spike trains and voltages agree bit
 * for bit in double precision (MEC_FP64):
 *
 *   lif_update   integrate every neuron (V ← V·e_m + c_i + Σ_c prop_c·J_c,
 *                J_c ← J_c·decay_c, V held while refractory), threshold,
 *                reset; spike flags and per-group spike counts
 *   lif_force    neurons pushed to threshold by AddVoltage spike now
 *   lif_count    per-group spike counts again (after lif_force)
 *   lif_compact  the ascending list of the neurons that spiked (each group
 *                sums the counts of the groups before it) and its length
 *   lif_deliver  one work-item per target neuron walks its incoming
 *                synapses (sorted by source, then projection, then CSR
 *                position: the order in which snn adds them) for this
 *                step's neuron and Poisson spikes, adds the weights to the
 *                drive (delay 0) or to the delay ring, then moves the ring
 *                slot due now into the drive
 *
 * Work-items never write the same location except lif_deliver's ring-slot
 * stamps, which all receive the same value. Every product is rounded
 * before it is added (no contraction into FMA: Go does not contract
 * either), which is what keeps the arithmetic identical to the CPU's.
 *
 * Per-population tables: pint[5p..] = lo, size, first channel, channels,
 * model (0 current-based LIF, 1 conductance-based LIF: the channel term
 * is (prop·g)·(E_rev − V) instead of prop·J; 2 izhikevich, 3 adex: forward
 * Euler of snn's equations, the state variable u or w in the last channel,
 * cst = R·I_ext); preal[3p..] = e_m, V_th, V_reset; mreal[8p..] = the model
 * parameters of snn.PopulationLayout.Params; pref[p] = refractory steps.
 * Per-channel tables: cint[4c..] = ring depth, drive offset, ring offset,
 * stamp offset; creal[3c..] = prop, decay, E_rev.
 */

#ifdef __OPENCL_VERSION__
#pragma OPENCL FP_CONTRACT OFF
#define LIF_MUL(a, b) ((a) * (b))
#elif defined(MEC_FP64)
#define LIF_MUL(a, b) __dmul_rn((a), (b))
#else
#define LIF_MUL(a, b) __fmul_rn((a), (b))
#endif

/* lif_update: one work-item per neuron, MEC_WG per group; gcount[group] is
 * the number of spikes of the group's neurons. */
KERNEL void KNAME(lif_update)(GLOBAL real *v, GLOBAL u64 *last, GLOBAL u64 *count,
			      GLOBAL const real *cst, GLOBAL const i32 *pid,
			      GLOBAL const i32 *pint, GLOBAL const real *preal, GLOBAL const real *mreal,
			      GLOBAL const u64 *pref,
			      GLOBAL const i32 *cint, GLOBAL const real *creal,
			      GLOBAL real *J, GLOBAL i32 *flag, GLOBAL i32 *gcount, u64 step, i32 n)
{
	LOCAL i32 s[MEC_WG];
	u64 i = GID;
	i32 f = 0;
	if (i < (u64)n) {
		i32 p = pid[i];
		i32 li = (i32)i - pint[5 * p];
		i32 c0 = pint[5 * p + 2], nc = pint[5 * p + 3];
		i32 model = pint[5 * p + 4];
		i32 coba = model == 1;
		i32 nsyn = model >= 2 ? nc - 1 : nc;
		real x = v[i];
		real a = 0;
		for (i32 c = 0; c < nsyn; c++) {
			i32 k = cint[4 * (c0 + c) + 1] + li;
			real g = J[k];
			J[k] = LIF_MUL(g, creal[3 * (c0 + c) + 1]);
			real t = LIF_MUL(creal[3 * (c0 + c)], g);
			if (coba)
				t = LIF_MUL(t, creal[3 * (c0 + c) + 2] - x);
			/* snn: one channel p0·g0, two (p0·g0 + p1·g1), more
			 * 0 + p0·g0 + p1·g1 + … : the same values and order. */
			if (c == 0 && nc <= 2 && model < 2)
				a = t;
			else
				a = a + t;
		}
		real y;
		i32 ks = 0;
		real u1 = 0;
		GLOBAL const real *m = mreal + 8 * p;
		if (model >= 2) {
			ks = cint[4 * (c0 + nc - 1) + 1] + li;
			real u = J[ks];
			if (model == 2) {
				real fz = LIF_MUL(LIF_MUL(0.04, x), x) + LIF_MUL(5.0, x) + 140.0 - u + cst[i];
				y = x + LIF_MUL(m[0], fz);
				u1 = u + LIF_MUL(m[1], LIF_MUL(m[2], x) - u);
			} else {
				real fa = (m[1] - x) + LIF_MUL(m[2], exp((x - m[3]) / m[2])) - LIF_MUL(m[4], u) + cst[i];
				y = x + LIF_MUL(m[0], fa);
				u1 = u + LIF_MUL(m[5], LIF_MUL(m[6], x - m[1]) - u);
			}
		} else {
			y = LIF_MUL(x, preal[3 * p]) + cst[i];
		}
		y = y + a;
		if (step - last[i] <= pref[p])
			y = x;
		if (y >= preal[3 * p + 1]) {
			if (model >= 2)
				J[ks] = u1 + (model == 2 ? m[3] : m[7]);
			v[i] = preal[3 * p + 2];
			last[i] = step;
			count[i] += 1;
			f = 1;
		} else {
			if (model >= 2)
				J[ks] = u1;
			v[i] = y;
		}
		flag[i] = f;
	}
	s[LID] = f;
	WG_SUM(s);
	if (LID == 0)
		gcount[GROUP] = s[0];
}

/* lif_force: the neurons fidx[0..nf) (distinct) spike in this step unless
 * they already did. */
KERNEL void KNAME(lif_force)(GLOBAL real *v, GLOBAL u64 *last, GLOBAL u64 *count, GLOBAL i32 *flag,
			     GLOBAL const i32 *pid, GLOBAL const real *preal,
			     GLOBAL const i32 *fidx, i32 nf, u64 step)
{
	u64 k = GID;
	if (k >= (u64)nf)
		return;
	i32 g = fidx[k];
	if (last[g] == step)
		return;
	v[g] = preal[3 * pid[g] + 2];
	last[g] = step;
	count[g] += 1;
	flag[g] = 1;
}

/* lif_count: gcount[group] = Σ flags of the group (MEC_WG per group). */
KERNEL void KNAME(lif_count)(GLOBAL const i32 *flag, i32 n, GLOBAL i32 *gcount)
{
	LOCAL i32 s[MEC_WG];
	u64 i = GID;
	s[LID] = i < (u64)n ? flag[i] : 0;
	WG_SUM(s);
	if (LID == 0)
		gcount[GROUP] = s[0];
}

/* lif_compact: spk[offset + rank] = i for every flagged neuron i, in
 * ascending order, offset = Σ gcount of the groups before this one;
 * nspk[0] = the total (MEC_WG per group). */
KERNEL void KNAME(lif_compact)(GLOBAL const i32 *flag, i32 n, GLOBAL const i32 *gcount, i32 groups,
			       GLOBAL i32 *spk, GLOBAL i32 *nspk)
{
	LOCAL i32 s[MEC_WG];
	i32 t = 0;
	for (u64 h = LID; h < GROUP; h += MEC_WG)
		t += gcount[h];
	s[LID] = t;
	WG_SUM(s);
	i32 off = s[0];
	BARRIER;
	u64 i = GID;
	i32 f = i < (u64)n ? flag[i] : 0;
	s[LID] = f;
	BARRIER;
	for (u64 w = 1; w < MEC_WG; w <<= 1) {
		i32 x = LID >= w ? s[LID - w] : 0;
		BARRIER;
		s[LID] += x;
		BARRIER;
	}
	if (f)
		spk[off + s[LID] - 1] = (i32)i;
	if (GROUP == (u64)(groups - 1) && LID == MEC_WG - 1)
		nspk[0] = off + s[LID];
}

/* lif_find: the first q in [lo, hi) with key[q] >= s (keys ascending). */
FUNC i32 lif_find(GLOBAL const i32 *key, i32 lo, i32 hi, i32 s)
{
	while (lo < hi) {
		i32 m = lo + (hi - lo) / 2;
		if (key[m] < s)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* lif_add: synapse q of target (population p, li index li) delivers. */
FUNC void lif_add(GLOBAL const i32 *cint, GLOBAL real *J, GLOBAL real *ring, GLOBAL u64 *stamp,
		  i32 code, real w, i32 size, i32 li, u64 step)
{
	i32 ch = code >> 16, d = code & 0xffff;
	if (d == 0) {
		J[cint[4 * ch + 1] + li] += w;
		return;
	}
	i32 depth = cint[4 * ch];
	i32 slot = (i32)((step + (u64)d) % (u64)depth);
	ring[cint[4 * ch + 2] + slot * size + li] += w;
	stamp[cint[4 * ch + 3] + slot] = step + (u64)d + 1;
}

/* lif_deliver: one work-item per target neuron. Sources are global: the
 * neurons 0..n-1, then the Poisson sources. spk[0..nspk[0]) and
 * pspk[poff..poff+npois) are this step's spikes, each ascending (the
 * Poisson spikes of many steps share one buffer); src[inptr[i]..
 * inptr[i+1]) the sources of neuron i's incoming synapses, ascending. */
KERNEL void KNAME(lif_deliver)(GLOBAL const i32 *pid, GLOBAL const i32 *pint, GLOBAL const i32 *cint,
			       GLOBAL const i32 *inptr, GLOBAL const i32 *src, GLOBAL const i32 *code,
			       GLOBAL const real *win,
			       GLOBAL const i32 *spk, GLOBAL const i32 *nspk, GLOBAL const i32 *pspk, i32 poff, i32 npois,
			       GLOBAL const i32 *flag, GLOBAL real *J, GLOBAL real *ring, GLOBAL u64 *stamp,
			       u64 step, i32 n)
{
	u64 i = GID;
	if (i >= (u64)n)
		return;
	i32 p = pid[i];
	i32 li = (i32)i - pint[5 * p];
	i32 size = pint[5 * p + 1];
	i32 lo = inptr[i], hi = inptr[i + 1];
	pspk += poff;
	i32 nn = nspk[0];
	i32 ns = nn + npois;
	if (ns > 0 && hi > lo) {
		i32 deg = hi - lo;
		i32 lg = 1;
		while ((1 << lg) < deg && lg < 30)
			lg++;
		if ((u64)ns * (u64)(lg + 1) < (u64)deg) {
			/* few spikes: look each one up in the sorted sources */
			i32 q = lo;
			for (i32 k = 0; k < ns; k++) {
				i32 s = k < nn ? spk[k] : pspk[k - nn];
				q = lif_find(src, q, hi, s);
				for (; q < hi && src[q] == s; q++)
					lif_add(cint, J, ring, stamp, code[q], win[q], size, li, step);
			}
		} else {
			/* many spikes: walk every incoming synapse */
			i32 pk = 0;
			for (i32 q = lo; q < hi; q++) {
				i32 s = src[q];
				i32 hit;
				if (s < n) {
					hit = flag[s];
				} else {
					pk = lif_find(pspk, pk, npois, s);
					hit = pk < npois && pspk[pk] == s;
				}
				if (hit)
					lif_add(cint, J, ring, stamp, code[q], win[q], size, li, step);
			}
		}
	}
	/* the ring slot due at the end of this step */
	i32 c0 = pint[5 * p + 2], nc = pint[5 * p + 3];
	for (i32 c = c0; c < c0 + nc; c++) {
		i32 depth = cint[4 * c];
		if (depth <= 1)
			continue;
		i32 slot = (i32)(step % (u64)depth);
		if (stamp[cint[4 * c + 3] + slot] != step + 1)
			continue;
		i32 r = cint[4 * c + 2] + slot * size + li;
		J[cint[4 * c + 1] + li] += ring[r];
		ring[r] = 0;
	}
}

/*
 * Plasticity (package snn's STDP, bit for bit), launched after lif_deliver
 * for networks with plastic projections: stdp_dep, stdp_pre, stdp_post,
 * stdp_decay. Tables: plas[q] = the plastic projection of incoming synapse
 * q or -1; xidx[q] = its source's trace in X; per plastic projection pl:
 * sint[4pl..] = postsynaptic trace offset in X, target lo, target hi,
 * multiplicative (0/1); sreal[3pl..] = a_plus, a_minus, w_max (weight
 * units, or fractions when multiplicative); xsrc[j] = the global source of
 * presynaptic trace j < npre; xdec[j] = trace j's decay per step.
 */

/* stdp_dep: one work-item per neuron: each plastic incoming synapse whose
 * source spiked this step (lif_deliver delivered its old weight) is
 * depressed by the neuron's trace of that projection. */
KERNEL void KNAME(stdp_dep)(GLOBAL const i32 *inptr, GLOBAL const i32 *src, GLOBAL const i32 *plas,
			    GLOBAL const i32 *sint, GLOBAL const real *sreal, GLOBAL const real *X,
			    GLOBAL const i32 *flag, GLOBAL const i32 *pspk, i32 poff, i32 npois,
			    GLOBAL real *win, i32 n)
{
	u64 i = GID;
	if (i >= (u64)n)
		return;
	i32 hi = inptr[i + 1];
	i32 pk = 0;
	pspk += poff;
	for (i32 q = inptr[i]; q < hi; q++) {
		i32 pl = plas[q];
		if (pl < 0)
			continue;
		i32 s = src[q];
		i32 hit;
		if (s < n) {
			hit = flag[s];
		} else {
			pk = lif_find(pspk, pk, npois, s);
			hit = pk < npois && pspk[pk] == s;
		}
		if (!hit)
			continue;
		real x = X[sint[4 * pl] + (i32)i - sint[4 * pl + 1]];
		real w = win[q];
		if (sint[4 * pl + 3])
			w = w - LIF_MUL(LIF_MUL(sreal[3 * pl + 1], x), w);
		else
			w = w - LIF_MUL(sreal[3 * pl + 1], x);
		/* Traces exceed 1 after close spikes: w stays in [0, w_max]. */
		if (!(w > 0))
			w = 0;
		win[q] = w;
	}
}

/* stdp_pre: one work-item per presynaptic trace: +1 when its source spiked. */
KERNEL void KNAME(stdp_pre)(GLOBAL const i32 *xsrc, GLOBAL const i32 *flag, GLOBAL const i32 *pspk,
			    i32 poff, i32 npois, GLOBAL real *X, i32 npre, i32 n)
{
	u64 j = GID;
	if (j >= (u64)npre)
		return;
	i32 s = xsrc[j];
	i32 hit;
	if (s < n) {
		hit = flag[s];
	} else {
		pspk += poff;
		i32 k = lif_find(pspk, 0, npois, s);
		hit = k < npois && pspk[k] == s;
	}
	if (hit)
		X[j] = X[j] + 1;
}

/* stdp_post: one work-item per neuron; one that spiked this step raises
 * its trace of every plastic projection onto it by 1, then potentiates its
 * plastic incoming synapses by their sources' traces. */
KERNEL void KNAME(stdp_post)(GLOBAL const i32 *inptr, GLOBAL const i32 *plas, GLOBAL const i32 *xidx,
			     GLOBAL const i32 *sint, GLOBAL const real *sreal, GLOBAL real *X,
			     GLOBAL const i32 *flag, GLOBAL real *win, i32 npl, i32 n)
{
	u64 i = GID;
	if (i >= (u64)n || !flag[i])
		return;
	for (i32 pl = 0; pl < npl; pl++) {
		if ((i32)i >= sint[4 * pl + 1] && (i32)i < sint[4 * pl + 2]) {
			i32 k = sint[4 * pl] + (i32)i - sint[4 * pl + 1];
			X[k] = X[k] + 1;
		}
	}
	i32 hi = inptr[i + 1];
	for (i32 q = inptr[i]; q < hi; q++) {
		i32 pl = plas[q];
		if (pl < 0)
			continue;
		real x = X[xidx[q]];
		real w = win[q];
		real wmax = sreal[3 * pl + 2];
		if (sint[4 * pl + 3])
			w = w + LIF_MUL(LIF_MUL(sreal[3 * pl], x), wmax - w);
		else
			w = w + LIF_MUL(sreal[3 * pl], x);
		if (w > wmax)
			w = wmax;
		win[q] = w;
	}
}

/* stdp_decay: every trace decays by one step. */
KERNEL void KNAME(stdp_decay)(GLOBAL real *X, GLOBAL const real *xdec, i32 nx)
{
	u64 j = GID;
	if (j < (u64)nx)
		X[j] = LIF_MUL(X[j], xdec[j]);
}
