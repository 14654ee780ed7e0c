/* The article's kernels in C: a translation of the numba kernels for one model family.
 *
 * The family is whole_fit.py's: Dense(H, act) -> Dense(1, "sigmoid"), trained on binary
 * cross-entropy (the fused rule) by plain SGD without regularizers.  Five entry points:
 *
 *   fit_epochs    whole_fit.fit_epochs    epochs first..stop, each in its own sample order
 *   train_range   kernels.train_steps     steps first..stop of one epoch (this family only)
 *   forward       kernels.forward_rows    predictions for rows of X (this family only)
 *   permutations  pcg64.permutations     the epochs' sample orders, as NumPy's PCG64 draws them
 *   fit_shuffled  permutations, then fit_epochs, the drawing on a second thread
 *
 * Every function below names the Python function it mirrors; each is the same math in the
 * same order, so the results are equal bit for bit (tests/test_native.py).  native.py builds
 * this file once per dtype, with -DREAL=float -DSINGLE=1 or -DREAL=double -DSINGLE=0, and
 * -O3 -march=native -ffp-contract=off: no FMA contraction and no -ffast-math, because the
 * numba kernels round every product and sum on its own, in the model's dtype.  Float32
 * arithmetic stays float32 here too (C evaluates float operands in float on x86-64 and
 * arm64: FLT_EVAL_METHOD 0, checked below), and constants are written (real)c.
 *
 * In float32 with AVX2, training takes step8 (below step) for every batch of a multiple of
 * 8 samples, and forward takes forward_pass8: the same math, 8 samples per vector register.
 *
 * Arrays are those of the numba kernels, C-contiguous (native.py checks): X (n_samples,
 * n_features), Y (n_samples, 1), theta = W1 [n_features, H], b1 [H], W2 [H, 1], b2 [1], and
 * the feature-major work buffers A, Z, G (rows [x | hidden | output], ld columns), T (1, ld)
 * and S (2, ld) of whole_fit.work_buffers.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if !defined(REAL) || !defined(SINGLE)
#error "build with -DREAL=float -DSINGLE=1 or with -DREAL=double -DSINGLE=0"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "float arithmetic must be evaluated in its own type (FLT_EVAL_METHOD 0)"
#endif

typedef REAL real;
#define R(x) ((real)(x))

#if SINGLE
#define LOG logf /* numba's np.log of a float32 */
#else
#define LOG log
#endif

/* codes.py */
enum { LINEAR, RELU, LEAKY_RELU, TANH, SIGMOID };
/* losses._base.EPSILON, as f(EPSILON): the float64 constant rounded to the dtype */
#define EPSILON 1e-7

/* sizeof(REAL), so native.py can check that it loaded the build of its dtype. */
int64_t real_size(void) { return (int64_t)sizeof(real); }

/* pointwise._exp_neg: np.exp(y) for y <= 0 (not NaN) in float64, by range reduction and a
 * Taylor polynomial in Horner order, then exact halvings. */
static inline double exp_neg(double y)
{
    /* exp's Taylor coefficients 1/13!, ..., 1/1!, 1/0! (pointwise._INV_FACTORIALS) */
    static const double inv_factorials[14] = {
        1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
        1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
        1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        1.0 / 2.0,
        1.0 / 1.0,          1.0 / 1.0,
    };
    /* 2**-(2**i), i < 6 (pointwise._HALVINGS) */
    static const double halvings[6] = {0x1p-1, 0x1p-2, 0x1p-4, 0x1p-8, 0x1p-16, 0x1p-32};
    y = y > -40.0 ? y : -40.0; /* max(y, -40.0) */
    double k = floor(y * 1.4426950408889634 + 0.5);
    double r = (y - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    double p = 0.0;
    for (int i = 0; i < 14; i++)
        p = p * r + inv_factorials[i];
    int n = -(int)k; /* 0 <= n <= 58: int32 as np.int64 (int32 vectorises) */
    for (int i = 0; i < 6; i++)
        if ((n >> i) & 1)
            p *= halvings[i];
    return p;
}

/* pointwise._tanh: np.tanh(z); in float32 through float64 exp_neg, rounded once by the
 * caller; in float64 the C library's tanh, which numba calls too. */
static inline double tanh_(real z)
{
#if SINGLE
    double x = (double)z;
    if (fabs(x) < 4e-4)
        return x - x * x * x / 3;
    if (x != x)
        return x;
    double e = exp_neg(-2 * fabs(x));
    double t = (1 - e) / (1 + e);
    return x < 0 ? -t : t;
#else
    return tanh(z);
#endif
}

/* pointwise._clip */
static inline real clip(real p, real lo, real hi) { return p < lo ? lo : (p > hi ? hi : p); }

/* pointwise._add_log: total + log(product) gains log(p), with one log per ~40 samples. */
static inline void add_log(double *total, double *product, real p)
{
    *product *= (double)p;
    if (*product < 1e-200) {
        *total += log(*product);
        *product = 1.0;
    }
}

/* kernels._weighted_sums for one unit (w_unit 1): out[r] = b + sum_i in[i][r] * w[i * w_in],
 * the bias first, then the inputs in order (_weighted_sums's passes of up to four terms
 * add left to right, so one term a pass is the same sum). */
static inline void weighted_sum(real *restrict out, real b, const real *restrict in, int64_t m,
                                const real *w, int64_t w_in, int64_t ld, int64_t n)
{
    for (int64_t r = 0; r < n; r++)
        out[r] = b;
    for (int64_t i = 0; i < m; i++) {
        real wi = w[i * w_in];
        const real *x = in + i * ld;
        for (int64_t r = 0; r < n; r++)
            out[r] += x[r] * wi;
    }
}

/* pointwise.activate, rows c..c+u, for every code but SOFTMAX (native.py refuses it). */
static void activate(int64_t act, real s, const real *restrict Z, real *restrict A, int64_t c,
                     int64_t u, int64_t ld, int64_t n)
{
    for (int64_t j = c; j < c + u; j++) {
        const real *z = Z + j * ld;
        real *a = A + j * ld;
        if (act == LINEAR) {
            for (int64_t r = 0; r < n; r++)
                a[r] = z[r];
        } else if (act == RELU) {
            for (int64_t r = 0; r < n; r++)
                a[r] = z[r] < 0 ? R(0) : z[r]; /* NaN passes through, as np.maximum */
        } else if (act == LEAKY_RELU) {
            for (int64_t r = 0; r < n; r++)
                a[r] = z[r] > 0 ? z[r] : z[r] * s;
        } else if (act == TANH) {
            for (int64_t r = 0; r < n; r++)
                a[r] = (real)tanh_(R(1) * z[r]);
        } else { /* SIGMOID, as 1 / (1 + exp(-z)) written through tanh */
            for (int64_t r = 0; r < n; r++)
                a[r] = R(0.5) * (R(1) + (real)tanh_(R(0.5) * z[r]));
        }
    }
}

/* pointwise.activation_backward, rows c..c+u: G holds dL/dA in, dL/dZ out. */
static void activation_backward(int64_t act, real s, const real *restrict Z,
                                const real *restrict A, real *restrict G, int64_t c, int64_t u,
                                int64_t ld, int64_t n)
{
    for (int64_t j = c; j < c + u; j++) {
        const real *z = Z + j * ld, *a = A + j * ld;
        real *g = G + j * ld;
        if (act == RELU) {
            for (int64_t r = 0; r < n; r++)
                g[r] = z[r] > 0 ? g[r] : g[r] * R(0);
        } else if (act == LEAKY_RELU) {
            for (int64_t r = 0; r < n; r++)
                g[r] = z[r] > 0 ? g[r] : g[r] * s;
        } else if (act == TANH) {
            for (int64_t r = 0; r < n; r++)
                g[r] = g[r] * (R(1) - a[r] * a[r]);
        } else if (act == SIGMOID) {
            for (int64_t r = 0; r < n; r++)
                g[r] = g[r] * a[r] * (R(1) - a[r]);
        }
    }
}

/* kernels._lane_sum: sum(a[:n] * g[:n]) (a NULL: sum(g[:n])) in 8 lanes, sample r into
 * lane r % 8, then ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)).  The eight running
 * sums are independent, so gcc keeps them in vector registers without reordering. */
static inline real lane_sum(const real *restrict a, const real *restrict g, int64_t n)
{
    real s[8] = {R(0), R(0), R(0), R(0), R(0), R(0), R(0), R(0)};
    int64_t full = n - n % 8;
    if (a) {
        for (int64_t r = 0; r < full; r += 8)
            for (int k = 0; k < 8; k++)
                s[k] += a[r + k] * g[r + k];
        for (int64_t k = 0; k < n - full; k++)
            s[k] += a[full + k] * g[full + k];
    } else {
        for (int64_t r = 0; r < full; r += 8)
            for (int k = 0; k < 8; k++)
                s[k] += g[r + k];
        for (int64_t k = 0; k < n - full; k++)
            s[k] += g[full + k];
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* kernels._layer_grads: db = dZ.sum(axis=0), dW = X.T @ dZ of one layer, as lane sums. */
static void layer_grads(const real *A, int64_t ci, int64_t fan_in, const real *G, int64_t co,
                        real *grad, int64_t wo, int64_t u, int64_t bo, int64_t ld, int64_t n)
{
    for (int64_t j = 0; j < u; j++) {
        const real *g = G + (co + j) * ld;
        grad[bo + j] = lane_sum(0, g, n);
        for (int64_t i = 0; i < fan_in; i++)
            grad[wo + i * u + j] = lane_sum(A + (ci + i) * ld, g, n);
    }
}

/* The model: sizes, the hidden activation and the work buffers. */
typedef struct {
    int64_t nf, H, ld; /* features, hidden units, columns of the work buffers */
    int64_t act;
    real slope;
    real *A, *Z, *G, *T, *S;
    int *later; /* if set, step8 may leave its loss to batches (loss8 sets *later = 1) */
} model;

/* An epoch's samples: sample i is row order[i] (order NULL: row i) of X, whose rows are
 * xs reals apart, and of Y, whose entries are ys apart (X as given: xs = n_features,
 * ys = 1; fit_shuffled's shuffled records: both the record's size). */
typedef struct {
    const real *X, *Y;
    int64_t xs, ys;
    const int64_t *order;
} samples;

static inline int64_t sample_row(const samples *d, int64_t i) { return d->order ? d->order[i] : i; }

/* kernels._forward for this family: samples 0..n of A[:nf] through both layers. */
static void forward_pass(const model *m, const real *theta, int64_t n)
{
    const int64_t nf = m->nf, H = m->H, ld = m->ld, o = nf + H;
    const int64_t w1 = 0, b1 = nf * H, w2 = b1 + H, b2 = b1 + 2 * H;
    real *A = m->A, *Z = m->Z;
    /* Z1 = X @ W1 + b1 (W1[i, j] at w1 + i * H + j), A1 = act(Z1) */
    for (int64_t j = 0; j < H; j++)
        weighted_sum(Z + (nf + j) * ld, theta[b1 + j], A, nf, theta + w1 + j, H, ld, n);
    activate(m->act, m->slope, Z, A, nf, H, ld, n);
    /* Z2 = A1 @ W2 + b2, P = sigmoid(Z2), as pointwise.activate's SIGMOID */
    weighted_sum(Z + o * ld, theta[b2], A + nf * ld, H, theta + w2, 1, ld, n);
    activate(SIGMOID, R(0), Z, A, o, 1, ld, n);
}

/* whole_fit._step (train_steps's loop body for this family): one mini-batch of the n samples
 * start..start + n of d; forward, loss, backward, SGD.  Returns the batch loss. */
static double step(const model *m, const samples *d, int64_t start, int64_t n, real *theta,
                   real *grad, real lr, int64_t *correct)
{
    const int64_t nf = m->nf, H = m->H, ld = m->ld, o = nf + H;
    const int64_t w1 = 0, b1 = nf * H, w2 = b1 + H, b2 = b1 + 2 * H;
    const int64_t n_params = b2 + 1;
    real *A = m->A, *G = m->G, *T = m->T, *S = m->S;
    const real *Z = m->Z;
    for (int64_t r = 0; r < n; r++) { /* gather the batch, so no shuffled copy of X is made */
        int64_t i = sample_row(d, start + r);
        for (int64_t k = 0; k < nf; k++)
            A[k * ld + r] = d->X[i * d->xs + k];
        T[r] = d->Y[i * d->ys];
    }
    forward_pass(m, theta, n);
    /* Loss (pointwise.loss_and_output_grad, BCE fused with the sigmoid):
     * dZ2 = (P - Y) * inside / n, the loss through _add_log. */
    const real eps = R(EPSILON), hi = R(1) - eps, size = (real)n;
    const real *p_ = A + o * ld;
    real *g_ = G + o * ld;
    double total = 0.0, product = 1.0;
    for (int64_t r = 0; r < n; r++) {
        real p = p_[r], y = T[r];
        real pc = clip(p, eps, hi);
        S[r] = y == 1 ? pc : R(1) - pc;
        real g = p - y;
        g_[r] = (p >= eps && p <= hi ? g : g * R(0)) / size;
    }
    for (int64_t r = 0; r < n; r++) {
        real y = T[r];
        if (y == 1 || y == 0) {
            add_log(&total, &product, S[r]);
        } else { /* a soft label */
            real pc = clip(p_[r], eps, hi);
            total += (double)(y * LOG(pc) + (R(1) - y) * LOG(R(1) - pc));
        }
    }
    double loss = -(total + log(product)) / (double)n;
    int64_t right = 0;
    for (int64_t r = 0; r < n; r++) /* pointwise.count_correct with one output */
        right += ((double)p_[r] > 0.5) == ((double)T[r] > 0.5);
    *correct += right;
    /* Backward (kernels._backward): the output layer's grads, dA1 = dZ2 @ W2.T (as
     * _weighted_sums without a bias: 0 + term), act', then layer 1's grads. */
    layer_grads(A, nf, H, G, o, grad, w2, 1, b2, ld, n);
    for (int64_t j = 0; j < H; j++) {
        real w = theta[w2 + j];
        real *g = G + (nf + j) * ld;
        for (int64_t r = 0; r < n; r++)
            g[r] = R(0) + g_[r] * w;
    }
    activation_backward(m->act, m->slope, Z, A, G, nf, H, ld, n);
    layer_grads(A, 0, nf, G, nf, grad, w1, H, b1, ld, n);
    for (int64_t p = 0; p < n_params; p++) /* kernels._update: SGD without momentum */
        theta[p] -= lr * grad[p];
    return loss;
}

/* ------------------------------------------------ step8: step, 8 samples per register
 * In float32 with AVX2, a batch whose size is a multiple of 8 (every full batch of the
 * article's run) takes step8: the same math as step, each sample's values computed by the
 * same operations in the same order and type, 8 samples (a chunk) in one __m256, and each
 * chunk carried through a layer in registers (z = b; z = z + x_i * w_i ... is one register,
 * not a pass over a row of Z per input).  Products and sums are separate _mm256_mul and
 * _mm256_add (no FMA, as -ffp-contract=off).  The batch sums are lane sums by construction:
 * an accumulator's lane l adds element l of the chunks in chunk order, which is lane_sum's
 * s[l], and sum8 adds the lanes in lane_sum's tree.  Every other batch (float64, a last
 * batch of n % 8 samples, no AVX2, more than MAX_PARAMS8 parameters) takes step. */
#if SINGLE && defined(__AVX2__)
#if defined(__GNUC__) && !defined(__clang__) && !defined(_IMMINTRIN_H_INCLUDED)
/* gcc parses immintrin.h (every ISA's header under -march=native) in ~0.5 s, a third of the
 * build: include only SSE4.1's, AVX's and AVX2's, as immintrin.h includes them. */
#include <smmintrin.h>
#define _IMMINTRIN_H_INCLUDED
#include <avxintrin.h>
#include <avx2intrin.h>
#undef _IMMINTRIN_H_INCLUDED
#else
#include <immintrin.h>
#endif
#define HAVE_STEP8 1

typedef __m256 v8;
#define LOAD(p) _mm256_loadu_ps(p)
#define STORE(p, v) _mm256_storeu_ps(p, v)
#define SET1(x) _mm256_set1_ps(x)
#define ADD(a, b) _mm256_add_ps(a, b)
#define MUL(a, b) _mm256_mul_ps(a, b)
#define SUB(a, b) _mm256_sub_ps(a, b)
#define LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ) /* all-ones where a < b (false for NaN) */
#define GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define IF(mask, a, b) _mm256_blendv_ps(b, a, mask) /* mask ? a : b, by lane */
#define FORCE_INLINE static inline __attribute__((always_inline))

/* tanh_ (float32) of K vectors of 4 doubles (K <= 4), x[i] -> t[i]: exp_neg's steps, then
 * tanh_'s, every branch computed and one kept per lane (the series only if a lane needs
 * it).  The K vectors go in lock-step: exp's Horner chain is 26 dependent operations, and K
 * independent chains keep more of the CPU busy.  max_pd(y, -40) is y > -40 ? y : -40. */
FORCE_INLINE void tanh4s(__m256d *t, const __m256d *x, const int K)
{
    static const double inv_factorials[14] = {
        1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
        1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
        1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        1.0 / 2.0,
        1.0 / 1.0,          1.0 / 1.0,
    };
    const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0);
    __m256d r[4], p[4], scale[4];
    for (int i = 0; i < K; i++) {
        __m256d ax = _mm256_andnot_pd(sign, x[i]); /* fabs(x) */
        __m256d y = _mm256_mul_pd(_mm256_set1_pd(-2.0), ax);
        y = _mm256_max_pd(y, _mm256_set1_pd(-40.0));
        __m256d k = _mm256_floor_pd(_mm256_add_pd(
            _mm256_mul_pd(y, _mm256_set1_pd(1.4426950408889634)), _mm256_set1_pd(0.5)));
        r[i] = _mm256_sub_pd(
            _mm256_sub_pd(y, _mm256_mul_pd(k, _mm256_set1_pd(6.93147180369123816490e-01))),
            _mm256_mul_pd(k, _mm256_set1_pd(1.90821492927058770002e-10)));
        p[i] = _mm256_set1_pd(inv_factorials[0]); /* 0.0 * r + c[0], r finite */
        /* The halvings of p by 2**-(2**i) for the set bits of n = -k (0 <= n <= 58) are
         * exact (p is in [0.7, 1.5], so every product is a normal number): they equal one
         * product by 2**k, whose bits are (1023 + k) << 52, and k + 2**52 + 1023 holds
         * 1023 + k in its low bits. */
        __m256i bits = _mm256_castpd_si256(_mm256_add_pd(k, _mm256_set1_pd(0x1p52 + 1023.0)));
        scale[i] = _mm256_castsi256_pd(_mm256_slli_epi64(bits, 52));
    }
    for (int c = 1; c < 14; c++)
        for (int i = 0; i < K; i++)
            p[i] = _mm256_add_pd(_mm256_mul_pd(p[i], r[i]), _mm256_set1_pd(inv_factorials[c]));
    for (int i = 0; i < K; i++) {
        __m256d e = _mm256_mul_pd(p[i], scale[i]);
        __m256d ti = _mm256_div_pd(_mm256_sub_pd(one, e), _mm256_add_pd(one, e));
        __m256d negative = _mm256_cmp_pd(x[i], _mm256_setzero_pd(), _CMP_LT_OQ);
        ti = _mm256_blendv_pd(ti, _mm256_xor_pd(ti, sign), negative);          /* x < 0: -t */
        ti = _mm256_blendv_pd(ti, x[i], _mm256_cmp_pd(x[i], x[i], _CMP_UNORD_Q)); /* NaN: x */
        __m256d ax = _mm256_andnot_pd(sign, x[i]);
        __m256d small = _mm256_cmp_pd(ax, _mm256_set1_pd(4e-4), _CMP_LT_OQ);
        if (_mm256_movemask_pd(small)) { /* fabs(x) < 4e-4: x - x * x * x / 3 */
            __m256d cube = _mm256_mul_pd(_mm256_mul_pd(x[i], x[i]), x[i]);
            __m256d series = _mm256_sub_pd(x[i], _mm256_div_pd(cube, _mm256_set1_pd(3.0)));
            ti = _mm256_blendv_pd(ti, series, small);
        }
        t[i] = ti;
    }
}

/* (real)tanh_(z) of C chunks of 8 floats (C <= 2): 2 * C vectors of 4 doubles, each
 * rounded to float once. */
FORCE_INLINE void tanh8s(v8 *out, const v8 *z, const int C)
{
    __m256d x[4], t[4];
    for (int c = 0; c < C; c++) {
        x[2 * c] = _mm256_cvtps_pd(_mm256_castps256_ps128(z[c]));
        x[2 * c + 1] = _mm256_cvtps_pd(_mm256_extractf128_ps(z[c], 1));
    }
    tanh4s(t, x, 2 * C);
    for (int c = 0; c < C; c++)
        out[c] = _mm256_set_m128(_mm256_cvtpd_ps(t[2 * c + 1]), _mm256_cvtpd_ps(t[2 * c]));
}

/* (real)tanh_(z) of 8 floats; not inlined (one copy for the hidden layer's TANH and
 * SIGMOID and a last odd chunk of the output). */
static __attribute__((noinline)) v8 tanh8(v8 z)
{
    v8 t;
    tanh8s(&t, &z, 1);
    return t;
}

/* pointwise.activate's SIGMOID of 8 floats, 0.5 * (1 + tanh(0.5 * z)). */
static inline v8 sigmoid8(v8 z)
{
    return MUL(SET1(R(0.5)), ADD(SET1(R(1)), tanh8(MUL(SET1(R(0.5)), z))));
}

/* activate of one chunk. */
FORCE_INLINE v8 act8(int64_t act, real s, v8 z)
{
    const v8 zero = _mm256_setzero_ps();
    switch (act) {
    case LINEAR:
        return z;
    case RELU: /* z < 0 ? 0 : z; maxps(a, b) is a > b ? a : b, so NaN and -0 pass */
        return _mm256_max_ps(zero, z);
    case LEAKY_RELU:
        return IF(GT(z, zero), z, MUL(z, SET1(s)));
    case TANH:
        return tanh8(MUL(SET1(R(1)), z));
    default: /* SIGMOID */
        return sigmoid8(z);
    }
}

/* activation_backward of one chunk: g = dL/dA in, dL/dZ out.  For RELU, z > 0 is a > 0
 * (a = z where z >= 0 or NaN, else 0), so z is not kept. */
FORCE_INLINE v8 act8_backward(int64_t act, real s, const real *z, v8 a, v8 g)
{
    const v8 zero = _mm256_setzero_ps(), one = SET1(R(1));
    switch (act) {
    case RELU:
        return IF(GT(a, zero), g, MUL(g, zero));
    case LEAKY_RELU:
        return IF(GT(LOAD(z), zero), g, MUL(g, SET1(s)));
    case TANH:
        return MUL(g, SUB(one, MUL(a, a)));
    case SIGMOID:
        return MUL(MUL(g, a), SUB(one, a));
    default:
        return g;
    }
}

/* lane_sum's tree over an accumulator's lanes: ((s0 + s1) + (s2 + s3)) + ((s4 + s5) +
 * (s6 + s7)). */
static inline real sum8(v8 s)
{
    v8 pairs = ADD(s, _mm256_movehdup_ps(s)); /* lanes 0, 2, 4, 6: s0 + s1, s2 + s3, ... */
    v8 quads = ADD(pairs, _mm256_permute_ps(pairs, _MM_SHUFFLE(3, 2, 3, 2))); /* lanes 0, 4 */
    __m128 sum = _mm_add_ss(_mm256_castps256_ps128(quads), _mm256_extractf128_ps(quads, 1));
    return _mm_cvtss_f32(sum);
}

/* sum8 of v[0..8] at once: lane k of the result is sum8(v[k]), by the same tree.
 * hadd(a, b) = a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7. */
static inline v8 sum8x8(const v8 *v)
{
    v8 ab = _mm256_hadd_ps(v[0], v[1]), cd = _mm256_hadd_ps(v[2], v[3]);
    v8 ef = _mm256_hadd_ps(v[4], v[5]), gh = _mm256_hadd_ps(v[6], v[7]);
    v8 abcd = _mm256_hadd_ps(ab, cd), efgh = _mm256_hadd_ps(ef, gh);
    /* abcd: (s0+s1)+(s2+s3) of v0..v3 | (s4+s5)+(s6+s7) of v0..v3 */
    v8 low = _mm256_permute2f128_ps(abcd, efgh, 0x20);
    v8 high = _mm256_permute2f128_ps(abcd, efgh, 0x31);
    return ADD(low, high);
}

/* The 8 bytes of a two-feature row, as a double (memcpy: no aliasing of float as double;
 * it compiles to one load). */
static inline double row2(const real *row)
{
    double d;
    memcpy(&d, row, sizeof d);
    return d;
}

/* Chunk c of the batch that starts at sample `start` of d: A's feature rows and T. */
FORCE_INLINE void gather8(const samples *d, int64_t nf, real *A, real *T, int64_t ld,
                          int64_t start, int64_t c)
{
    int64_t o[8];
    for (int k = 0; k < 8; k++)
        o[k] = sample_row(d, start + c + k);
    const real *X = d->X, *Y = d->Y;
    const int64_t xs = d->xs, ys = d->ys;
    STORE(T + c, _mm256_setr_ps(Y[o[0] * ys], Y[o[1] * ys], Y[o[2] * ys], Y[o[3] * ys],
                                Y[o[4] * ys], Y[o[5] * ys], Y[o[6] * ys], Y[o[7] * ys]));
    if (nf == 2) { /* a row is 8 bytes: load the rows as doubles, then split the features */
        v8 r0 = _mm256_castpd_ps(_mm256_setr_pd(row2(X + o[0] * xs), row2(X + o[1] * xs),
                                                row2(X + o[2] * xs), row2(X + o[3] * xs)));
        v8 r1 = _mm256_castpd_ps(_mm256_setr_pd(row2(X + o[4] * xs), row2(X + o[5] * xs),
                                                row2(X + o[6] * xs), row2(X + o[7] * xs)));
        /* r0 = a0 b0 a1 b1 | a2 b2 a3 b3; f0 = a0 a1 a4 a5 | a2 a3 a6 a7 */
        v8 f0 = _mm256_shuffle_ps(r0, r1, _MM_SHUFFLE(2, 0, 2, 0));
        v8 f1 = _mm256_shuffle_ps(r0, r1, _MM_SHUFFLE(3, 1, 3, 1));
        const __m256i in_order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
        STORE(A + c, _mm256_permutevar8x32_ps(f0, in_order));
        STORE(A + ld + c, _mm256_permutevar8x32_ps(f1, in_order));
    } else {
        for (int64_t k = 0; k < nf; k++)
            for (int r = 0; r < 8; r++)
                A[k * ld + c + r] = X[o[r] * xs + k];
    }
}

#define MAX_PARAMS8 512 /* the parameters' accumulators: 16 KB of stack */

/* The forward pass of a batch of n (a multiple of 8) gathered samples, up to Z2; act, nf
 * and H are constants where the article's model calls this (so the loops over units
 * unroll), variables elsewhere. */
FORCE_INLINE void forward8(const model *m, const real *restrict theta, int64_t n,
                           const int64_t act, const int64_t nf, const int64_t H)
{
    const int64_t ld = m->ld, o = nf + H;
    const int64_t w1 = 0, b1 = nf * H, w2 = b1 + H, b2 = b1 + 2 * H;
    real *A = m->A, *Z = m->Z;
    for (int64_t c = 0; c < n; c += 8) {
        v8 x[4]; /* the features of the chunk, if nf <= 4 */
        for (int64_t i = 0; i < nf && i < 4; i++)
            x[i] = LOAD(A + i * ld + c);
        v8 z2 = SET1(theta[b2]);
        for (int64_t j = 0; j < H; j++) {
            v8 z = SET1(theta[b1 + j]);
            for (int64_t i = 0; i < nf; i++)
                z = ADD(z, MUL(i < 4 ? x[i] : LOAD(A + i * ld + c),
                               SET1(theta[w1 + i * H + j])));
            v8 a = act8(act, m->slope, z);
            if (act != RELU)
                STORE(Z + (nf + j) * ld + c, z);
            STORE(A + (nf + j) * ld + c, a);
            z2 = ADD(z2, MUL(a, SET1(theta[w2 + j])));
        }
        STORE(Z + o * ld + c, z2);
    }
}

/* P = sigmoid(Z2), as pointwise.activate's SIGMOID, two chunks at a time. */
static void output8(const model *m, int64_t n)
{
    const int64_t o = m->nf + m->H, ld = m->ld;
    const v8 half = SET1(R(0.5)), one = SET1(R(1));
    const real *z_ = m->Z + o * ld;
    real *p_ = m->A + o * ld;
    int64_t c = 0;
    for (; c + 16 <= n; c += 16) {
        v8 z[2] = {MUL(half, LOAD(z_ + c)), MUL(half, LOAD(z_ + c + 8))}, t[2];
        tanh8s(t, z, 2);
        STORE(p_ + c, MUL(half, ADD(one, t[0])));
        STORE(p_ + c + 8, MUL(half, ADD(one, t[1])));
    }
    if (c < n)
        STORE(p_ + c, sigmoid8(LOAD(z_ + c)));
}

/* acc[p] = parameter p's lane sums; G's output row holds dZ2.  With U = 2, two units at a
 * time and layer 1's weight sums in registers (nf <= 4); with U = 1, one unit at a time
 * through G's rows. */
FORCE_INLINE void backward8(const model *m, const real *restrict theta, int64_t n, v8 *acc,
                            const int64_t act, const int64_t nf, const int64_t H,
                            const int64_t U)
{
    const int64_t ld = m->ld, o = nf + H;
    const int64_t w1 = 0, b1 = nf * H, w2 = b1 + H, b2 = b1 + 2 * H;
    const real *A = m->A, *Z = m->Z, *g_ = m->G + o * ld;
    const v8 zero = _mm256_setzero_ps();
    v8 db2 = zero;
    for (int64_t c = 0; c < n; c += 8)
        db2 = ADD(db2, LOAD(g_ + c));
    acc[b2] = db2;
    for (int64_t j0 = 0; j0 < H; j0 += U) {
        v8 dw2[2] = {zero, zero}, db1[2] = {zero, zero}, dw1[2][4];
        for (int64_t u = 0; u < U; u++)
            for (int64_t i = 0; i < 4; i++)
                dw1[u][i] = zero;
        for (int64_t c = 0; c < n; c += 8) {
            v8 g = LOAD(g_ + c);
            for (int64_t u = 0; u < U; u++) {
                const int64_t j = j0 + u;
                v8 a = LOAD(A + (nf + j) * ld + c);
                dw2[u] = ADD(dw2[u], MUL(a, g));
                /* dA1 = 0 + dZ2 * W2[j] (_weighted_sums without a bias), then act' */
                v8 d = act8_backward(act, m->slope, Z + (nf + j) * ld + c, a,
                                     ADD(zero, MUL(g, SET1(theta[w2 + j]))));
                db1[u] = ADD(db1[u], d);
                if (U == 2) {
                    for (int64_t i = 0; i < nf; i++)
                        dw1[u][i] = ADD(dw1[u][i], MUL(LOAD(A + i * ld + c), d));
                } else {
                    STORE(m->G + (nf + j) * ld + c, d);
                }
            }
        }
        for (int64_t u = 0; u < U; u++) {
            const int64_t j = j0 + u;
            acc[w2 + j] = dw2[u];
            acc[b1 + j] = db1[u];
            for (int64_t i = 0; i < nf; i++) {
                if (U == 2) {
                    acc[w1 + i * H + j] = dw1[u][i];
                } else {
                    const real *d_ = m->G + (nf + j) * ld;
                    v8 s = zero;
                    for (int64_t c = 0; c < n; c += 8)
                        s = ADD(s, MUL(LOAD(A + i * ld + c), LOAD(d_ + c)));
                    acc[w1 + i * H + j] = s;
                }
            }
        }
    }
}

/* step's loss chain over one chunk of 8 samples (not inlined: rarely run). */
static __attribute__((noinline)) void loss_chain(const real *p_, const real *T, const real *S,
                                                 double *total, double *product)
{
    const real eps = R(EPSILON), hi = R(1) - eps;
    for (int r = 0; r < 8; r++) {
        real y = T[r];
        if (y == 1 || y == 0) {
            add_log(total, product, S[r]);
        } else { /* a soft label */
            real pc = clip(p_[r], eps, hi);
            *total += (double)(y * LOG(pc) + (R(1) - y) * LOG(R(1) - pc));
        }
    }
}

/* The loss part of step for the chunks: S, dZ2 into G's output row, the correct count;
 * returns the batch loss.  If m->later is set and every label is 0 or 1, the loss chain is
 * left to batches (later_losses): *m->later = 1, and the return value means nothing. */
static __attribute__((noinline)) double loss8(const model *m, int64_t n, int64_t *correct)
{
    const int64_t o = m->nf + m->H, ld = m->ld;
    const real *p_ = m->A + o * ld, *T = m->T;
    real *g_ = m->G + o * ld, *S = m->S;
    const real eps = R(EPSILON), hi = R(1) - eps;
    const v8 zero = _mm256_setzero_ps(), one = SET1(R(1)), half = SET1(R(0.5));
    const v8 lo_ = SET1(eps), hi_ = SET1(hi), size = SET1((real)n);
    __m256i wrong = _mm256_setzero_si256();
    v8 all_hard = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    for (int64_t c = 0; c < n; c += 8) {
        v8 p = LOAD(p_ + c), y = LOAD(T + c);
        v8 pc = IF(LT(p, lo_), lo_, IF(GT(p, hi_), hi_, p)); /* clip */
        v8 y1 = _mm256_cmp_ps(y, one, _CMP_EQ_OQ);
        v8 s = IF(y1, pc, SUB(one, pc));
        STORE(S + c, s);
        v8 g = SUB(p, y);
        v8 inside = _mm256_and_ps(_mm256_cmp_ps(p, lo_, _CMP_GE_OQ),
                                  _mm256_cmp_ps(p, hi_, _CMP_LE_OQ));
        STORE(g_ + c, _mm256_div_ps(IF(inside, g, MUL(g, zero)), size));
        /* (double)p > 0.5 is p > 0.5f: a lane of -1 where they disagree */
        v8 differ = _mm256_xor_ps(GT(p, half), GT(y, half));
        wrong = _mm256_sub_epi32(wrong, _mm256_castps_si256(differ));
        all_hard = _mm256_and_ps(all_hard, _mm256_or_ps(y1, _mm256_cmp_ps(y, zero, _CMP_EQ_OQ)));
    }
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, wrong);
    int64_t right = n;
    for (int k = 0; k < 8; k++)
        right -= lanes[k];
    *correct += right;
    int hard = _mm256_movemask_ps(all_hard) == 0xFF;
    if (hard && m->later) {
        *m->later = 1;
        return 0.0;
    }
    /* The loss chain in sample order.  With 0/1 labels S is in [eps, 1 - eps] or NaN, so the
     * product only falls: still >= 1e-200 after a chunk, add_log took no log inside it.
     * Otherwise the chunk again, as step. */
    double total = 0.0, product = 1.0;
    for (int64_t c = 0; c < n; c += 8) {
        if (hard) {
            double q = product;
            for (int k = 0; k < 8; k++)
                q *= (double)S[c + k];
            if (q >= 1e-200) {
                product = q;
                continue;
            }
        }
        loss_chain(p_ + c, T + c, S + c, &total, &product);
    }
    return -(total + log(product)) / (double)n;
}

/* step for n % 8 == 0 (float32, AVX2), its shape constant where the article's model calls
 * it (so the loops over units and parameters unroll; U as backward8): the same results
 * (A, T, S and G's output row as step; the other rows of Z and G are not kept). */
FORCE_INLINE double step8_of(const model *m, const samples *d, int64_t start, int64_t n,
                             real *theta, real *grad, real lr, int64_t *correct,
                             const int64_t act, const int64_t nf, const int64_t H,
                             const int64_t U)
{
    const int64_t n_params = nf * H + 2 * H + 1;
    v8 acc[MAX_PARAMS8 + 7];
    for (int64_t c = 0; c < n; c += 8)
        gather8(d, nf, m->A, m->T, m->ld, start, c);
    forward8(m, theta, n, act, nf, H);
    output8(m, n);
    double loss = loss8(m, n, correct);
    backward8(m, theta, n, acc, act, nf, H, U);
    /* The grads, 8 at a time, and kernels._update (SGD without momentum) on them. */
    int64_t p = 0;
    for (; p + 8 <= n_params; p += 8) {
        v8 g = sum8x8(acc + p);
        STORE(grad + p, g);
        STORE(theta + p, SUB(LOAD(theta + p), MUL(SET1(lr), g)));
    }
    for (; p < n_params; p++) {
        grad[p] = sum8(acc[p]);
        theta[p] -= lr * grad[p];
    }
    return loss;
}

static double step8(const model *m, const samples *d, int64_t start, int64_t n, real *theta,
                    real *grad, real lr, int64_t *correct)
{
    if (m->act == RELU && m->nf == 2 && m->H == 8) /* the article's model */
        return step8_of(m, d, start, n, theta, grad, lr, correct, RELU, 2, 8, 2);
    return step8_of(m, d, start, n, theta, grad, lr, correct, m->act, m->nf, m->H, 1);
}

/* forward_pass for n % 8 == 0 (float32, AVX2): forward8 then output8, the article's shape
 * constant as in step8.  The same P (A's output row) as forward_pass. */
static void forward_pass8(const model *m, const real *theta, int64_t n)
{
    if (m->act == RELU && m->nf == 2 && m->H == 8)
        forward8(m, theta, n, RELU, 2, 8);
    else
        forward8(m, theta, n, m->act, m->nf, m->H);
    output8(m, n);
}
#endif

/* One mini-batch: step8 where it applies, else step. */
static inline double train_step(const model *m, const samples *d, int64_t start, int64_t n,
                                real *theta, real *grad, real lr, int64_t *correct)
{
#ifdef HAVE_STEP8
    if (n % 8 == 0 && m->nf * m->H + 2 * m->H + 1 <= MAX_PARAMS8)
        return step8(m, d, start, n, theta, grad, lr, correct);
#endif
    return step(m, d, start, n, theta, grad, lr, correct);
}

/* The rows of a shuffled batch are scattered over X: once X outgrows the caches, each is a
 * trip to memory, about half the time of an epoch of 10^7 samples.  The loops below ask for
 * the rows of the batch AHEAD_BATCHES ahead while they train this one, so those trips
 * overlap the arithmetic.  A prefetch is only a hint: no result changes. */
#define AHEAD_BATCHES 2

static inline int beyond_cache(int64_t n_samples, int64_t nf)
{
    return (double)n_samples * (double)nf * sizeof(real) > 1 << 20;
}

static inline void prefetch_batch(const samples *d, int64_t from, int64_t size,
                                  int64_t n_samples)
{
    int64_t to = from + size < n_samples ? from + size : n_samples;
    for (int64_t r = from; r < to; r++) {
        __builtin_prefetch(d->X + d->order[r] * d->xs);
        __builtin_prefetch(d->Y + d->order[r] * d->ys);
    }
}

/* Whether every sample index of rows[0..n_rows] is in 0..n_samples (numba does not check;
 * a wrong index here would read outside X). */
static int orders_ok(const int64_t *orders, int64_t n_entries, int64_t n_samples)
{
    int bad = 0;
    for (int64_t i = 0; i < n_entries; i++)
        bad |= (uint64_t)orders[i] >= (uint64_t)n_samples;
    return !bad;
}

/* ------------------------------------------------------------ losses computed later
 * A batch's loss with 0/1 labels is the chain add_log(S[0]), add_log(S[1]), ... then
 * -(total + log(product)) / n: n dependent multiplications, which hold back the CPU's
 * in-order retirement in the middle of a step although nothing else needs them.  The
 * chains of different batches are independent, so step8 leaves them (loss8, m->later) and
 * batches runs LATER_GROUP of them side by side once their steps are trained; each is
 * still the same sequence of operations, so the losses are the same bit for bit. */
#define LATER_GROUP 8
#define LATER_MAX_BATCH 4096 /* larger batches compute their losses at once */

/* The losses of the steps k < g that left them (later[k]): S's row k (ld apart) holds
 * their n[k] values of S.  The products run side by side without add_log's test: S is in
 * [eps, 1 - eps] or NaN, so a product only falls, and one that ends >= 1e-200 never
 * crossed it (add_log took no log); any other step takes the chain again, as step. */
static void later_losses(real *S, int64_t ld, const int64_t *n, const int *later, int g,
                         double *loss)
{
    int64_t most = 0;
    for (int k = 0; k < g; k++)
        most = later[k] && n[k] > most ? n[k] : most;
    for (int k = 0; k < LATER_GROUP; k++) /* padding: times 1 is exact */
        for (int64_t r = k < g && later[k] ? n[k] : 0; r < most; r++)
            S[k * ld + r] = R(1);
    double q[LATER_GROUP];
    for (int k = 0; k < LATER_GROUP; k++)
        q[k] = 1.0;
    for (int64_t r = 0; r < most; r++)
        for (int k = 0; k < LATER_GROUP; k++)
            q[k] *= (double)S[k * ld + r];
    for (int k = 0; k < g; k++) {
        if (!later[k])
            continue;
        double total = 0.0, product = q[k];
        if (!(product >= 1e-200)) {
            product = 1.0;
            for (int64_t r = 0; r < n[k]; r++)
                add_log(&total, &product, S[k * ld + r]);
        }
        loss[k] = -(total + log(product)) / (double)n[k];
    }
}

/* Batches first..stop of an epoch of d's n_samples (batch b is samples b * batch_size ...),
 * each train_step'ed; *loss_sum and *correct are the epoch's running totals (the sum of
 * batch loss times batch size, the correct count), updated in batch order. */
static void batches(const model *m, const samples *d, int64_t n_samples, int64_t batch_size,
                    int64_t first, int64_t stop, real *theta, real *grad, real lr,
                    double *loss_sum, int64_t *correct)
{
    const int far = d->order && beyond_cache(n_samples, m->nf);
    double sum = *loss_sum;
    int64_t right = *correct;
    /* S of the steps whose loss waits (none if the allocation fails) */
    real *waiting = batch_size <= LATER_MAX_BATCH && stop - first > 1
                        ? malloc(LATER_GROUP * batch_size * sizeof(real))
                        : 0;
    int later[LATER_GROUP];
    int64_t sizes[LATER_GROUP];
    double losses[LATER_GROUP];
    int g = 0;
    for (int64_t b = first; b < stop; b++) {
        int64_t start = b * batch_size;
        int64_t n = batch_size < n_samples - start ? batch_size : n_samples - start;
        if (far)
            prefetch_batch(d, start + AHEAD_BATCHES * batch_size, batch_size, n_samples);
        model step_m = *m;
        later[g] = 0;
        step_m.later = waiting ? &later[g] : 0;
        sizes[g] = n;
        losses[g] = train_step(&step_m, d, start, n, theta, grad, lr, &right);
        if (later[g])
            memcpy(waiting + g * batch_size, m->S, n * sizeof(real));
        if (++g == LATER_GROUP || b == stop - 1) { /* the group's losses, in batch order */
            if (waiting)
                later_losses(waiting, batch_size, sizes, later, g, losses);
            for (int k = 0; k < g; k++)
                sum += losses[k] * (double)sizes[k];
            g = 0;
        }
    }
    free(waiting);
    *loss_sum = sum;
    *correct = right;
}

/* whole_fit.fit_epochs: epochs first..stop, epoch e in the order orders[e % n_rows];
 * loss[e] = the epoch's sum of batch loss times batch size, correct[e] its correct count.
 * Returns 0, or -1 (nothing trained) if an order holds an index outside 0..n_samples. */
int64_t fit_epochs(const real *X, const real *Y, int64_t n_samples, int64_t nf,
                   const int64_t *orders, int64_t n_rows, int64_t first, int64_t stop,
                   int64_t batch_size, int64_t act, double slope, real *theta, real *grad, real lr,
                   double *loss, int64_t *correct, real *A, real *Z, real *G, real *T, real *S,
                   int64_t H, int64_t ld)
{
    int64_t used = stop - first < n_rows ? stop - first : n_rows;
    if (used > 0 && !orders_ok(orders, n_rows * n_samples, n_samples))
        return -1;
    model m = {nf, H, ld, act, (real)slope, A, Z, G, T, S, 0};
    const int64_t steps = (n_samples + batch_size - 1) / batch_size;
    for (int64_t e = first; e < stop; e++) {
        loss[e] = 0.0;
        correct[e] = 0;
        samples d = {X, Y, nf, 1, orders + (e % n_rows) * n_samples};
        batches(&m, &d, n_samples, batch_size, 0, steps, theta, grad, lr, &loss[e], &correct[e]);
    }
    return 0;
}

/* kernels.train_steps for this family: batches first..stop of the epoch in sample order
 * `order`, batch b being order[b * batch_size ...]; *loss_sum and *correct come in as the
 * epoch's running totals and go out updated.  Returns 0, or -1 as fit_epochs. */
int64_t train_range(const real *X, const real *Y, int64_t n_samples, int64_t nf,
                    const int64_t *order, int64_t batch_size, int64_t first, int64_t stop,
                    int64_t act, double slope, real *theta, real *grad, real lr,
                    double *loss_sum, int64_t *correct, real *A, real *Z, real *G, real *T,
                    real *S, int64_t H, int64_t ld)
{
    if (first < stop && !orders_ok(order, n_samples, n_samples))
        return -1;
    model m = {nf, H, ld, act, (real)slope, A, Z, G, T, S, 0};
    samples d = {X, Y, nf, 1, order};
    batches(&m, &d, n_samples, batch_size, first, stop, theta, grad, lr, loss_sum, correct);
    return 0;
}

/* kernels.forward_rows for this family: P[r] = model.forward(X)[r, 0], ld samples at a time
 * (A and Z have ld columns; forward_rows's block is min(256, n_samples)). */
void forward(const real *X, int64_t n_samples, int64_t nf, const real *theta, int64_t H,
             int64_t act, double slope, real *P, real *A, real *Z, int64_t ld)
{
    model m = {nf, H, ld, act, (real)slope, A, Z, 0, 0, 0, 0};
    const int64_t o = nf + H;
    for (int64_t start = 0; start < n_samples; start += ld) {
        int64_t n = ld < n_samples - start ? ld : n_samples - start;
        for (int64_t r = 0; r < n; r++)
            for (int64_t k = 0; k < nf; k++)
                A[k * ld + r] = X[(start + r) * nf + k];
        int64_t head = 0; /* the samples forward_pass8 takes, a multiple of 8 */
#ifdef HAVE_STEP8
        head = n - n % 8;
        forward_pass8(&m, theta, head);
#endif
        if (head < n) { /* the rest, columns head..n of the buffers */
            model tail = {nf, H, ld, act, (real)slope, A + head, Z + head, 0, 0, 0, 0};
            forward_pass(&tail, theta, n - head);
        }
        for (int64_t r = 0; r < n; r++)
            P[start + r] = A[o * ld + r];
    }
}

/* ---------------------------------------------------------------- the epochs' orders */
/* pcg64.permutations: out[e % rows] = rng.permutation(n) for e = first..stop, in sequence,
 * as NumPy's PCG64 draws it; st = {state high, state low, increment high, increment low,
 * has_uint32, uinteger} (orders.pack), advanced in place.  C has the 128-bit integers that
 * pcg64.py builds with an LLVM intrinsic. */
typedef unsigned __int128 u128;
#define PCG_MULTIPLIER (((u128)0x2360ED051FC65DA4ULL << 64) | 0x4385DF649FCCF645ULL)

/* NumPy's _shuffle_raw: for i = n-1 .. 1, j = random_interval(i), swap order[i] and order[j].
 * random_interval(i) (0 < i < 2**32) takes 32-bit draws masked to the next power of two minus
 * one, rejecting those above i; a 32-bit draw (pcg64_next32) is the buffered high half of the
 * last 64-bit draw if there is one (has_uint32, uinteger), else the low half of a new 64-bit
 * draw, its high half buffered.  So the 32-bit values consumed are a fixed stream (the
 * buffered uinteger if has_uint32, then lo, hi of each 64-bit draw in turn), whatever consumes
 * them: draw_swaps generates the 64-bit draws in blocks and runs the rejection on the stream
 * without a branch per value; swap_entries then applies the swaps, in NumPy's sequence. */

/* pcg64_random_r: step the LCG, then XSL-RR (xor the halves, rotate by the top 6 bits). */
static inline uint64_t xsl_rr(u128 state)
{
    uint64_t hi = (uint64_t)(state >> 64), x = hi ^ (uint64_t)state;
    unsigned rot = (unsigned)(hi >> 58);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

/* At most this many 64-bit draws generated at a time (their 32-bit halves: 4 KB). */
#define DRAW_BLOCK 512

/* The LCG's h steps at once: state -> state * mult + inc * sum, where mult = MULTIPLIER**h and
 * sum = 1 + MULTIPLIER + .. + MULTIPLIER**(h-1) (modulo 2**128), by squaring: the jump
 * pcg64_advance makes. */
static void lcg_jump(uint64_t h, u128 *mult, u128 *sum)
{
    u128 m = 1, s = 0, step_m = PCG_MULTIPLIER, step_s = 1; /* (m, s): the steps so far */
    for (; h > 0; h >>= 1) {
        if (h & 1) {
            s = s * step_m + step_s;
            m = m * step_m;
        }
        step_s = (step_m + 1) * step_s;
        step_m = step_m * step_m;
    }
    *mult = m;
    *sum = s;
}

static inline void put_draw(uint32_t *words, uint64_t d, u128 state)
{
    uint64_t x = xsl_rr(state);
    words[2 * d] = (uint32_t)x; /* pcg64_next32 hands out the low half first */
    words[2 * d + 1] = (uint32_t)(x >> 32);
}

/* count pcg64_random_r draws from *state (advanced past them), their 32-bit halves in order
 * into words.  A step's 128-bit multiply is a chain of about 6 cycles: a long block is drawn
 * as two halves at once, the second from the state count/2 steps on (lcg_jump). */
static __attribute__((noinline)) void pcg_block(u128 *state, u128 inc, uint32_t *words,
                                                uint64_t count)
{
    u128 a = *state, b = a;
    uint64_t h = 0;
    if (count >= 64) {
        u128 mult, sum;
        h = count / 2;
        lcg_jump(h, &mult, &sum);
        b = a * mult + inc * sum;
        for (uint64_t d = 0; d < h; d++) {
            a = a * PCG_MULTIPLIER + inc;
            b = b * PCG_MULTIPLIER + inc;
            put_draw(words, d, a);
            put_draw(words, h + d, b);
        }
    }
    for (uint64_t d = 2 * h; d < count; d++) {
        b = b * PCG_MULTIPLIER + inc;
        put_draw(words, d, b);
    }
    *state = b;
}

/* random_interval(i) for the swaps i = hi, hi-1, .., lo (hi >= lo >= 1, hi < 2**32), as
 * NumPy draws them in sequence: js[hi - i] = j of swap i.  st (orders.pack's layout) is
 * advanced exactly as NumPy leaves it: the LCG state after the last 64-bit draw used,
 * has_uint32 and uinteger as pcg64_next32 sets them.
 *
 * No 64-bit draw is generated that is not used: with r swaps still to draw, at least r
 * 32-bit values are needed, so a block of min(DRAW_BLOCK, ceil(r/2)) draws is used at least
 * up to its last draw's low half (2 * block - 1 <= r values).  The state after the block is
 * therefore the state NumPy leaves, and a block that ends the swaps ends either after its
 * last draw's low half (its high half buffered: has_uint32 = 1) or after both halves. */
static void draw_swaps(uint64_t *st, uint64_t hi, uint64_t lo, uint32_t *js)
{
    uint64_t top = hi; /* the swap whose j is being drawn: random_interval(top) */
    if (top < lo)
        return;
    if (st[4] != 0) { /* pcg64_next32: the buffered high half comes first */
        st[4] = 0;
        uint64_t mask = (2ULL << (63 - __builtin_clzll(top))) - 1;
        uint64_t v = st[5] & mask;
        if (v <= top) {
            js[hi - top] = (uint32_t)v;
            top--;
        }
    }
    u128 state = ((u128)st[0] << 64) | st[1];
    const u128 inc = ((u128)st[2] << 64) | st[3];
    uint32_t words[2 * DRAW_BLOCK]; /* lo0, hi0, lo1, hi1, ..: the 32-bit values in order */
    uint64_t used = 0, block = 0;   /* values used of the block's 2 * block */
    while (top >= lo) {
        if (used == 2 * block) { /* a new block of 64-bit draws (pcg64_random_r each) */
            uint64_t r = top - lo + 1;
            block = r / 2 + (r & 1);
            if (block > DRAW_BLOCK)
                block = DRAW_BLOCK;
            pcg_block(&state, inc, words, block);
            used = 0;
        }
        /* random_interval's mask is the same for every top in [2**b, 2**(b+1)): run the
         * rejection with it until top leaves that range or the block runs out.  Each value
         * is stored as j of swap top; it stays there (top moves on) only if accepted. */
        int b = 63 - __builtin_clzll(top);
        uint64_t mask = (2ULL << b) - 1, floor = 1ULL << b;
        if (floor < lo)
            floor = lo;
        const uint64_t end = 2 * block;
        while (used < end && top >= floor) {
            uint64_t v = words[used++] & mask;
            js[hi - top] = (uint32_t)v;
            top -= v <= top;
        }
    }
    st[0] = (uint64_t)(state >> 64);
    st[1] = (uint64_t)state;
    if (block > 0) { /* pcg64_next32: the last draw's high half buffered unless it was used */
        st[4] = used & 1;
        st[5] = words[2 * block - 1];
    }
}

/* How many swaps ahead swap_entries fetches order[j], so that for n beyond the caches the
 * random entry is on its way while the swaps before it run. */
#define AHEAD_SWAPS 48
/* .. once order[0..i] is this many entries (512 KB: beyond L2) */
#define PREFETCH_FROM (1 << 16)

/* _shuffle_raw's swaps i = hi, hi-1, .., lo (hi >= lo): order[i] <-> order[js[hi - i]].
 * js has `more` valid entries past the hi - lo + 1 used (the next swaps' j), for fetching. */
static void swap_entries(int64_t *order, int64_t hi, int64_t lo, const uint32_t *js,
                         int64_t more)
{
    const int64_t count = hi - lo + 1;
    int64_t reach = count + more;
    if (hi < PREFETCH_FROM) /* order[0..hi] is in the caches: nothing to fetch */
        reach = 0;
    int64_t k = 0;
    for (; k + AHEAD_SWAPS < reach && k < count; k++) {
        __builtin_prefetch(order + js[k + AHEAD_SWAPS], 1);
        int64_t i = hi - k, j = js[k];
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (; k < count; k++) {
        int64_t i = hi - k, j = js[k];
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Swaps drawn, then applied, this many at a time (16 KB of js, kept in L1). */
#define SWAP_BLOCK 4096

void permutations(uint64_t *st, int64_t n, int64_t first, int64_t stop, int64_t *out,
                  int64_t rows)
{
    uint32_t js[SWAP_BLOCK + AHEAD_SWAPS]; /* j of the swaps i, i-1, .. (have of them) */
    for (int64_t e = first; e < stop; e++) {
        int64_t *order = out + (e % rows) * n;
        for (int64_t i = 0; i < n; i++) /* permutation(n) shuffles arange(n) */
            order[i] = i;
        int64_t i = n - 1, have = 0; /* swaps n-1 .. i+1 done; js[0..have) are i, i-1, .. */
        while (i > 0) {
            /* draw the swaps after those in js, until js is full or the swaps end at 1 */
            int64_t top = i - have, low = top - (SWAP_BLOCK + AHEAD_SWAPS - have) + 1;
            if (low < 1)
                low = 1;
            if (top >= low) {
                draw_swaps(st, (uint64_t)top, (uint64_t)low, js + have);
                have += top - low + 1;
            }
            /* apply a block of them; the AHEAD_SWAPS after it stay, moved to the front */
            int64_t count = have < SWAP_BLOCK ? have : SWAP_BLOCK;
            swap_entries(order, i, i - count + 1, js, have - count);
            memmove(js, js + count, (size_t)(have - count) * sizeof *js);
            have -= count;
            i -= count;
        }
    }
}

/* ------------------------------------------------------- drawing while training
 * fit_shuffled: permutations then fit_epochs, in one call, the drawing on a second thread
 * (threads >= 2) while the caller trains.  The orders, the generator's state and the
 * training are those of permutations then fit_epochs, bit for bit: the same samples in the
 * same order, and the same arithmetic on them.  Two ways, by the data's size:
 *
 * - Data in the caches: the second thread draws the epochs' orders ahead (a row of `out`
 *   each, so it never waits), and the caller trains each epoch through its order.  Drawing
 *   takes about a third of the training's time; whichever thread finds the next order
 *   undrawn draws it, so the caller never waits for the second thread to start.
 * - Data beyond the caches: a batch's rows, scattered over X, would each cost a trip to
 *   memory (for 10^7 samples, more than the arithmetic).  The samples are packed as records
 *   (features, label), and the second thread copies each epoch's records, in its order, into
 *   a slot that the caller then reads straight through, batch by batch as soon as the
 *   batch's records are there. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A count one thread raises and one other thread waits for. */
typedef struct {
    _Atomic int64_t value;
    _Atomic int sleeping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} gate;

static void gate_init(gate *g)
{
    atomic_init(&g->value, 0);
    atomic_init(&g->sleeping, 0);
    pthread_mutex_init(&g->lock, 0);
    pthread_cond_init(&g->cond, 0);
}

static void gate_destroy(gate *g)
{
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
}

static void gate_raise(gate *g, int64_t value)
{
    atomic_store(&g->value, value);
    if (atomic_load(&g->sleeping)) {
        pthread_mutex_lock(&g->lock);
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->lock);
    }
}

/* Until the count reaches value: spin a little (the other thread is usually about to
 * raise it), then sleep, so a thread that lost its core costs no spinning.  Returns it. */
static int64_t gate_wait(gate *g, int64_t value)
{
    int64_t now = atomic_load_explicit(&g->value, memory_order_acquire);
    for (int spin = 0; now < value && spin < 4096; spin++) {
        cpu_relax();
        now = atomic_load_explicit(&g->value, memory_order_acquire);
    }
    if (now < value) {
        pthread_mutex_lock(&g->lock);
        atomic_store(&g->sleeping, 1); /* seq_cst, as gate_raise's store and load */
        while ((now = atomic_load(&g->value)) < value)
            pthread_cond_wait(&g->cond, &g->lock);
        atomic_store(&g->sleeping, 0);
        pthread_mutex_unlock(&g->lock);
    }
    return now;
}

#define SLOTS_BYTES (8 << 20) /* shuffled epochs held at once, at most (at least two) */
#define RECORDS_MAX_BYTES (1LL << 29) /* the records and slots of larger data: no copies */
#define SHUFFLE_CHUNK 4096    /* records copied between two raises of `ready` */
#define AHEAD_ROWS 64         /* records fetched ahead while copying */

typedef struct {
    uint64_t *st; /* permutations' arguments */
    int64_t n, first, stop, rows;
    int64_t *out;
    pthread_mutex_t lock; /* the generator's: held while an order is drawn */
    int64_t next;         /* the next epoch to draw (under lock) */
    gate drawn;           /* epochs drawn, first + count */
    const real *packed;   /* records: record i = X[i, :], Y[i], padding (rs reals) */
    int64_t rs;
    real *slots; /* epoch e's records in its order: slot e % n_slots */
    int64_t n_slots;
    gate is_packed, ready, trained; /* records packed (1); records copied, (e - first) * n + i;
                                     * epochs trained */
} shuffler;

/* Draw the next epoch's order, if any is left (sh->lock held); returns whether one was. */
static int draw_locked(shuffler *sh)
{
    int64_t e = sh->next;
    if (e < sh->stop) {
        permutations(sh->st, sh->n, e, e + 1, sh->out, sh->rows);
        sh->next = e + 1;
        gate_raise(&sh->drawn, e + 1 - sh->first);
    }
    return e < sh->stop;
}

static int draw_next(shuffler *sh)
{
    pthread_mutex_lock(&sh->lock);
    int drew = draw_locked(sh);
    pthread_mutex_unlock(&sh->lock);
    return drew;
}

/* The caller's side: until epoch e is drawn, draw the next order itself whenever the other
 * thread is not drawing; while it is, spin a little, then sleep on the lock (a drawing
 * thread that lost its core costs no spinning). */
static void wait_drawn(shuffler *sh, int64_t e)
{
    for (int spin = 0; atomic_load(&sh->drawn.value) <= e - sh->first; spin++) {
        if ((spin < 4096 ? pthread_mutex_trylock(&sh->lock) : pthread_mutex_lock(&sh->lock)) == 0) {
            if (atomic_load(&sh->drawn.value) <= e - sh->first)
                draw_locked(sh);
            pthread_mutex_unlock(&sh->lock);
        } else {
            cpu_relax();
        }
    }
}

static void *draw_epochs(void *arg)
{
    while (draw_next(arg))
        ;
    return 0;
}

/* One record of rs reals (4: a fixed-size copy, one instruction). */
static inline void copy_record(real *to, const real *from, int64_t rs)
{
    if (rs == 4)
        memcpy(to, from, 4 * sizeof(real));
    else
        for (int64_t k = 0; k < rs; k++)
            to[k] = from[k];
}

/* The records' thread: each epoch's order, then its records in that order into its slot,
 * raising `ready` every SHUFFLE_CHUNK records. */
static void *shuffle_epochs(void *arg)
{
    shuffler *sh = arg;
    const int64_t n = sh->n, rs = sh->rs;
    for (int64_t e = sh->first; e < sh->stop; e++) {
        draw_next(sh); /* epoch e's: only this thread draws */
        const int64_t *order = sh->out + (e % sh->rows) * n;
        gate_wait(&sh->is_packed, 1);
        if (e - sh->first >= sh->n_slots) /* the slot's last epoch must be trained */
            gate_wait(&sh->trained, e - sh->first - sh->n_slots + 1);
        real *slot = sh->slots + (e % sh->n_slots) * n * rs;
        for (int64_t i = 0; i < n; i += SHUFFLE_CHUNK) {
            int64_t to = i + SHUFFLE_CHUNK < n ? i + SHUFFLE_CHUNK : n;
            for (int64_t r = i; r < to; r++) {
                if (r + AHEAD_ROWS < n)
                    __builtin_prefetch(sh->packed + order[r + AHEAD_ROWS] * rs);
                copy_record(slot + r * rs, sh->packed + order[r] * rs, rs);
            }
            gate_raise(&sh->ready, (e - sh->first) * n + to);
        }
    }
    return 0;
}

/* bytes of memory, aligned to cache lines; a large block on huge pages where the system
 * has them (as NumPy asks for its large arrays): copying records in a shuffled order touches
 * random places, and with 4 KB pages nearly every touch would miss the TLB. */
static void *aligned(int64_t bytes)
{
    const int64_t huge = 1 << 21;
    if (bytes < 2 * huge)
        return aligned_alloc(64, (size_t)((bytes + 63) / 64 * 64));
    size_t size = (size_t)((bytes + huge - 1) / huge * huge);
    void *p = aligned_alloc(huge, size);
#ifdef MADV_HUGEPAGE
    if (p)
        madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

/* Set up the records (packing X and Y) and train the epochs from the slots, the other
 * thread copying; returns 0, or -1 (nothing done) if the copies would take more than
 * RECORDS_MAX_BYTES (10^7 samples of 2 float32 features: 320 MB), or there is no memory
 * or no thread for them. */
static int records_fit(shuffler *sh, const model *m, const real *X, const real *Y,
                       int64_t batch_size, real *theta, real *grad, real lr, double *loss,
                       int64_t *correct)
{
    const int64_t n = sh->n, nf = m->nf, first = sh->first, stop = sh->stop;
    const int64_t align = 16 / (int64_t)sizeof(real), rs = (nf + 1 + align - 1) / align * align;
    const int64_t epoch_bytes = n * rs * (int64_t)sizeof(real);
    int64_t n_slots = SLOTS_BYTES / epoch_bytes;
    n_slots = n_slots < 2 ? 2 : n_slots;
    n_slots = n_slots > stop - first ? stop - first : n_slots;
    if ((1 + n_slots) * epoch_bytes > RECORDS_MAX_BYTES)
        return -1;
    real *packed = aligned(epoch_bytes), *slots = aligned(n_slots * epoch_bytes);
    pthread_t thread;
    sh->packed = packed, sh->rs = rs, sh->slots = slots, sh->n_slots = n_slots;
    if (!packed || !slots || pthread_create(&thread, 0, shuffle_epochs, sh) != 0) {
        free(packed);
        free(slots);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) { /* while the other thread draws the first order */
        real *record = packed + i * rs;
        for (int64_t k = 0; k < nf; k++)
            record[k] = X[i * nf + k];
        record[nf] = Y[i];
        for (int64_t k = nf + 1; k < rs; k++)
            record[k] = R(0);
    }
    gate_raise(&sh->is_packed, 1);
    const int64_t steps = (n + batch_size - 1) / batch_size;
    for (int64_t e = first; e < stop; e++) {
        const real *slot = slots + (e % n_slots) * n * rs;
        samples d = {slot, slot + nf, rs, rs, 0};
        loss[e] = 0.0;
        correct[e] = 0;
        for (int64_t b = 0; b < steps;) { /* the batches whose records are copied */
            int64_t need = (b + 1) * batch_size < n ? (b + 1) * batch_size : n;
            int64_t ready = gate_wait(&sh->ready, (e - first) * n + need) - (e - first) * n;
            int64_t until = ready >= n ? steps : ready / batch_size;
            batches(m, &d, n, batch_size, b, until, theta, grad, lr, &loss[e], &correct[e]);
            b = until;
        }
        gate_raise(&sh->trained, e - first + 1);
    }
    pthread_join(thread, 0);
    free(packed);
    free(slots);
    return 0;
}

/* pcg64.permutations for epochs first..stop into out (rows >= stop - first rows, epoch e
 * in row e % rows, st advanced), and whole_fit.fit_epochs on them; other arguments as
 * fit_epochs.  Returns 0, or -1 (nothing drawn or trained) if rows is too small. */
int64_t fit_shuffled(const real *X, const real *Y, int64_t n_samples, int64_t nf, uint64_t *st,
                     int64_t *out, int64_t rows, int64_t first, int64_t stop,
                     int64_t batch_size, int64_t act, double slope, real *theta, real *grad,
                     real lr, double *loss, int64_t *correct, real *A, real *Z, real *G,
                     real *T, real *S, int64_t H, int64_t ld, int64_t threads)
{
    if (stop - first > rows)
        return -1;
    if (stop <= first)
        return 0;
    model m = {nf, H, ld, act, (real)slope, A, Z, G, T, S, 0};
    const int64_t n = n_samples, steps = (n + batch_size - 1) / batch_size;
    shuffler sh = {.st = st, .n = n, .first = first, .stop = stop, .rows = rows, .out = out,
                   .next = first};
    pthread_mutex_init(&sh.lock, 0);
    gate *gates[4] = {&sh.drawn, &sh.is_packed, &sh.ready, &sh.trained};
    for (int k = 0; k < 4; k++)
        gate_init(gates[k]);
    int done = threads >= 2 && beyond_cache(n, nf) &&
               records_fit(&sh, &m, X, Y, batch_size, theta, grad, lr, loss, correct) == 0;
    if (!done) { /* through the orders, drawn ahead by the other thread if there is one */
        pthread_t thread;
        int parallel = threads >= 2 && stop - first >= 2 &&
                       pthread_create(&thread, 0, draw_epochs, &sh) == 0;
        for (int64_t e = first; e < stop; e++) {
            wait_drawn(&sh, e);
            loss[e] = 0.0;
            correct[e] = 0;
            samples d = {X, Y, nf, 1, out + (e % rows) * n};
            batches(&m, &d, n, batch_size, 0, steps, theta, grad, lr, &loss[e], &correct[e]);
        }
        if (parallel)
            pthread_join(thread, 0);
    }
    for (int k = 0; k < 4; k++)
        gate_destroy(gates[k]);
    pthread_mutex_destroy(&sh.lock);
    return 0;
}
