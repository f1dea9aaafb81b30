/*
 * fft.cl — FFT kernels (one body for OpenCL C and CUDA; see compat.h).
 *
 * Transforms of length n with batch vectors stored back to back. A plan
 * factors n into radices R <= FFT_MAXR and runs one Stockham auto-sort
 * stage per radix (Govindaraju et al.'s formulation: no bit-reversal pass,
 * ping-pong between two buffers); lengths with a prime factor above
 * FFT_MAXR use Bluestein's chirp-z algorithm on a power-of-two length.
 *
 * Twiddles come from a table tw[t] = exp(-2*pi*i*t/n) computed on the host
 * in double precision, so accuracy does not depend on the device's sin/cos.
 * inverse != 0 conjugates every twiddle.
 */

#define FFT_MAXR 16

FUNC cplx fft_tw(GLOBAL const cplx *tw, u32 t, i32 inverse)
{
	cplx w = tw[t];
	if (inverse)
		w.y = -w.y;
	return w;
}

/* fft_stage: one radix-R Stockham stage. Work item g = b*(n/R) + j reads
 * in[b*n + j + r*n/R] (r < R), applies the twiddles of its sub-transform,
 * does an R-point DFT and writes out[b*n + (j/Ns)*Ns*R + j%Ns + k*Ns],
 * scaled by scale. Ns is the product of the radices of earlier stages.
 * Indices are 32-bit: plans keep batch*n below 2^32. */
KERNEL void KNAME(fft_stage)(GLOBAL const cplx *in, GLOBAL cplx *out, GLOBAL const cplx *tw,
	u32 n, u32 total, i32 R, u32 Ns, i32 inverse, real scale)
{
	u32 g = (u32)GID;
	if (g >= total)
		return;
	u32 nr = n / (u32)R;
	u32 b = g / nr, j = g - b * nr;
	GLOBAL const cplx *x = in + (u64)b * n;
	GLOBAL cplx *y = out + (u64)b * n;
	u32 q = j / Ns;
	u32 jm = j - q * Ns;
	/* r*jm*step < n: jm < Ns and step = n/(Ns*R). */
	u32 tstep = jm * (n / (Ns * (u32)R));
	cplx v[FFT_MAXR];
	for (i32 r = 0; r < R; r++) {
		cplx a = x[j + (u32)r * nr];
		cplx w = fft_tw(tw, (u32)r * tstep, inverse);
		v[r] = CMUL(a, w);
	}
	u32 idx = q * Ns * (u32)R + jm;
	if (R == 2) {
		y[idx] = CPLX((v[0].x + v[1].x) * scale, (v[0].y + v[1].y) * scale);
		y[idx + Ns] = CPLX((v[0].x - v[1].x) * scale, (v[0].y - v[1].y) * scale);
		return;
	}
	if (R == 4) {
		/* -i (forward) or +i (inverse) times (v1 - v3) */
		real s = inverse ? (real)1 : (real)-1;
		cplx t0 = CADD(v[0], v[2]);
		cplx t1 = CPLX(v[0].x - v[2].x, v[0].y - v[2].y);
		cplx t2 = CADD(v[1], v[3]);
		cplx d = CPLX(v[1].x - v[3].x, v[1].y - v[3].y);
		cplx t3 = CPLX(-s * d.y, s * d.x);
		y[idx] = CPLX((t0.x + t2.x) * scale, (t0.y + t2.y) * scale);
		y[idx + Ns] = CPLX((t1.x + t3.x) * scale, (t1.y + t3.y) * scale);
		y[idx + 2 * Ns] = CPLX((t0.x - t2.x) * scale, (t0.y - t2.y) * scale);
		y[idx + 3 * Ns] = CPLX((t1.x - t3.x) * scale, (t1.y - t3.y) * scale);
		return;
	}
	for (i32 k = 0; k < R; k++) {
		real sr = 0, si = 0;
		for (i32 r = 0; r < R; r++) {
			cplx w = fft_tw(tw, (u32)((r * k) % R) * nr, inverse);
			sr += v[r].x * w.x - v[r].y * w.y;
			si += v[r].x * w.y + v[r].y * w.x;
		}
		y[idx + (u32)k * Ns] = CPLX(sr * scale, si * scale);
	}
}

/* fft_chirp_in: Bluestein's first step, a[b*m + k] = x[b*n + k]·c[k] for
 * k < n and 0 up to m (conjugating x first when conj_in). */
KERNEL void KNAME(fft_chirp_in)(GLOBAL const cplx *x, GLOBAL cplx *a, GLOBAL const cplx *c,
	u64 n, u64 m, u64 total, i32 conj_in)
{
	u64 g = GID;
	if (g >= total)
		return;
	u64 b = g / m, k = g % m;
	if (k >= n) {
		a[g] = CPLX(0, 0);
		return;
	}
	cplx v = x[b * n + k];
	if (conj_in)
		v.y = -v.y;
	a[g] = CMUL(v, c[k]);
}

/* fft_pointwise: a[g] *= B[g % m] (the chirp's spectrum). */
KERNEL void KNAME(fft_pointwise)(GLOBAL cplx *a, GLOBAL const cplx *B, u64 m, u64 total)
{
	u64 g = GID;
	if (g >= total)
		return;
	cplx v = a[g], w = B[g % m];
	a[g] = CMUL(v, w);
}

/* fft_chirp_out: Bluestein's last step, x[b*n + k] = scale·c[k]·y[b*m + k]
 * (conjugated when conj_out). */
KERNEL void KNAME(fft_chirp_out)(GLOBAL const cplx *y, GLOBAL cplx *x, GLOBAL const cplx *c,
	u64 n, u64 m, u64 total, real scale, i32 conj_out)
{
	u64 g = GID;
	if (g >= total)
		return;
	u64 b = g / n, k = g % n;
	cplx v = y[b * m + k], w = c[k];
	cplx r = CMUL(v, w);
	r = CPLX(r.x * scale, r.y * scale);
	if (conj_out)
		r.y = -r.y;
	x[g] = r;
}
