/*
 * kuramoto.cl — the phase (Kuramoto) engine:
 *   dφ_i/dt = ω_i + K·Σ_j W_ij·sin(φ_j − φ_i)
 * with W_ij = 1/N (all-to-all, O(N) through the order parameter) or a
 * sparse CSR matrix W (two mat-vecs, W·cos φ and W·sin φ).
 *
 * One derivative evaluation at trial phases x is
 *   ku_phasor(x)   cos/sin of every x_i, per-group partial sums of both
 *                  (a fixed, small number of groups: grid-stride)
 *   ku_deriv       the derivative and the stage update (mode below); for
 *                  all-to-all coupling one work-item per group sums the
 *                  partials in group order (the same order in every
 *                  group, and the order the host uses for r and ψ)
 * The arithmetic follows package kuramoto (the CPU oracle) operation for
 * operation; sums are taken in a different (tree) order, so results agree
 * to rounding, not bit for bit.
 */

#define KU_PI ((real)3.14159265358979323846)
#define KU_2PI ((real)6.28318530717958647692)

/* ku_phasor: cs[i] = cos x_i, sn[i] = sin x_i, and per-group partial sums
 * part[2g] = Σ cos, part[2g+1] = Σ sin over the group's grid-stride range.
 * Launched with MEC_WG work-items per group. */
KERNEL void KNAME(ku_phasor)(GLOBAL const real *x, i32 n, GLOBAL real *cs, GLOBAL real *sn, GLOBAL acc *part)
{
	LOCAL acc sr[MEC_WG];
	LOCAL acc si[MEC_WG];
	acc tr = 0, ti = 0;
	for (u64 i = GID; i < (u64)n; i += GSIZE) {
		real c = COS(x[i]);
		real s = SIN(x[i]);
		cs[i] = c;
		sn[i] = s;
		tr += (acc)c;
		ti += (acc)s;
	}
	sr[LID] = tr;
	si[LID] = ti;
	WG_SUM(sr);
	WG_SUM(si);
	if (LID == 0) {
		part[2 * GROUP] = sr[0];
		part[2 * GROUP + 1] = si[0];
	}
}

/* wrap into [−π, π] as package kuramoto does (only when outside). */
FUNC real ku_wrap(real p)
{
	if (p > KU_PI || p < -KU_PI)
		p = remainder(p, KU_2PI);
	return p;
}

/*
 * ku_deriv: d_i = dφ_i/dt at the phases whose cos/sin are cs, sn, then
 *   mode 0 (stage):       kout[i] = d_i, tmp[i] = phi[i] + h·d_i
 *   mode 1 (Euler):       phi[i] = wrap(phi[i] + h·d_i)
 *   mode 2 (RK4, k4 = d): phi[i] = wrap(phi[i] + h·(k1 + 2k2 + 2k3 + d)), h = dt/6
 * sparse = 0: all-to-all, part[0..2·groups) the ku_phasor partials of
 * the trial phases; sparse = 1: CSR rowptr/col/val (part unused).
 * Launched with MEC_WG work-items per group.
 */
KERNEL void KNAME(ku_deriv)(GLOBAL real *phi, GLOBAL const real *cs, GLOBAL const real *sn,
			    GLOBAL const real *omega, GLOBAL const acc *part, i32 groups,
			    GLOBAL const i32 *rowptr, GLOBAL const i32 *col, GLOBAL const real *val,
			    real kc, i32 n, i32 sparse, i32 mode, real h,
			    GLOBAL real *kout, GLOBAL real *tmp,
			    GLOBAL const real *k1, GLOBAL const real *k2, GLOBAL const real *k3)
{
	LOCAL acc z[2];
	if (!sparse && LID == 0) {
		acc zr = 0, zi = 0;
		for (i32 g = 0; g < groups; g++) {
			zr += part[2 * g];
			zi += part[2 * g + 1];
		}
		z[0] = zr;
		z[1] = zi;
	}
	BARRIER;
	u64 i = GID;
	if (i >= (u64)n)
		return;
	real d;
	if (sparse) {
		real a = 0, b = 0;
		for (i32 q = rowptr[i]; q < rowptr[i + 1]; q++) {
			i32 j = col[q];
			real v = val[q];
			a += v * cs[j];
			b += v * sn[j];
		}
		d = omega[i] + kc * (b * cs[i] - a * sn[i]);
	} else {
		real re = kc * (real)z[0] / (real)n;
		real im = kc * (real)z[1] / (real)n;
		d = omega[i] + (im * cs[i] - re * sn[i]);
	}
	if (mode == 0) {
		kout[i] = d;
		tmp[i] = phi[i] + h * d;
	} else if (mode == 1) {
		phi[i] = ku_wrap(phi[i] + h * d);
	} else {
		phi[i] = ku_wrap(phi[i] + h * (k1[i] + 2 * k2[i] + 2 * k3[i] + d));
	}
}
