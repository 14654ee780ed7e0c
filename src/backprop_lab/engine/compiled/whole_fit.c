/* The article's kernels in C: a translation of the numba kernels for one model family.
 *
 * The family is whole_fit.py's: Dense(H, act) -> Dense(1, "sigmoid"), trained on binary
 * cross-entropy (the fused rule) by plain SGD without regularizers.  Four entry points:
 *
 *   fit_epochs    whole_fit.fit_epochs    epochs first..stop, each in its own sample order
 *   train_range   kernels.train_steps     steps first..stop of one epoch (this family only)
 *   forward       kernels.forward_rows    predictions for rows of X (this family only)
 *   permutations  pcg64.permutations     the epochs' sample orders, as NumPy's PCG64 draws them
 *
 * Every function below names the Python function it mirrors; each is the same math in the
 * same order, so the results are equal bit for bit (tests/test_native.py).  native.py builds
 * this file once per dtype, with -DREAL=float -DSINGLE=1 or -DREAL=double -DSINGLE=0, and
 * -O3 -march=native -ffp-contract=off: no FMA contraction and no -ffast-math, because the
 * numba kernels round every product and sum on its own, in the model's dtype.  Float32
 * arithmetic stays float32 here too (C evaluates float operands in float on x86-64 and
 * arm64: FLT_EVAL_METHOD 0, checked below), and constants are written (real)c.
 *
 * Arrays are those of the numba kernels, C-contiguous (native.py checks): X (n_samples,
 * n_features), Y (n_samples, 1), theta = W1 [n_features, H], b1 [H], W2 [H, 1], b2 [1], and
 * the feature-major work buffers A, Z, G (rows [x | hidden | output], ld columns), T (1, ld)
 * and S (2, ld) of whole_fit.work_buffers.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>

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
} model;

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
 * order[start..start + n]; forward, loss, backward, SGD.  Returns the batch loss. */
static double step(const model *m, const real *X, const real *Y, const int64_t *order,
                   int64_t start, int64_t n, real *theta, real *grad, real lr, int64_t *correct)
{
    const int64_t nf = m->nf, H = m->H, ld = m->ld, o = nf + H;
    const int64_t w1 = 0, b1 = nf * H, w2 = b1 + H, b2 = b1 + 2 * H;
    const int64_t n_params = b2 + 1;
    real *A = m->A, *G = m->G, *T = m->T, *S = m->S;
    const real *Z = m->Z;
    for (int64_t k = 0; k < nf; k++) /* gather the batch, so no shuffled copy of X is made */
        for (int64_t r = 0; r < n; r++)
            A[k * ld + r] = X[order[start + r] * nf + k];
    for (int64_t r = 0; r < n; r++)
        T[r] = Y[order[start + r]];
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

/* The rows of a shuffled batch are scattered over X: once X outgrows the caches, each is a
 * trip to memory, about half the time of an epoch of 10^7 samples.  The loops below ask for
 * the rows of the batch AHEAD_BATCHES ahead while they train this one, so those trips
 * overlap the arithmetic.  A prefetch is only a hint: no result changes. */
#define AHEAD_BATCHES 2

static inline int beyond_cache(int64_t n_samples, int64_t nf)
{
    return (double)n_samples * (double)nf * sizeof(real) > 1 << 20;
}

static inline void prefetch_batch(const real *X, const real *Y, int64_t nf, const int64_t *order,
                                  int64_t from, int64_t size, int64_t n_samples)
{
    int64_t to = from + size < n_samples ? from + size : n_samples;
    for (int64_t r = from; r < to; r++) {
        __builtin_prefetch(X + order[r] * nf);
        __builtin_prefetch(Y + order[r]);
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
    model m = {nf, H, ld, act, (real)slope, A, Z, G, T, S};
    const int far = beyond_cache(n_samples, nf);
    for (int64_t e = first; e < stop; e++) {
        double loss_sum = 0.0;
        int64_t right = 0;
        const int64_t *order = orders + (e % n_rows) * n_samples;
        for (int64_t start = 0; start < n_samples; start += batch_size) {
            int64_t n = batch_size < n_samples - start ? batch_size : n_samples - start;
            if (far)
                prefetch_batch(X, Y, nf, order, start + AHEAD_BATCHES * batch_size, batch_size,
                               n_samples);
            double batch_loss = step(&m, X, Y, order, start, n, theta, grad, lr, &right);
            loss_sum += batch_loss * (double)n;
        }
        loss[e] = loss_sum;
        correct[e] = right;
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
    model m = {nf, H, ld, act, (real)slope, A, Z, G, T, S};
    double sum = *loss_sum;
    int64_t right = *correct;
    const int far = beyond_cache(n_samples, nf);
    for (int64_t b = first; b < stop; b++) {
        int64_t start = b * batch_size;
        int64_t n = batch_size < n_samples - start ? batch_size : n_samples - start;
        if (far)
            prefetch_batch(X, Y, nf, order, start + AHEAD_BATCHES * batch_size, batch_size,
                           n_samples);
        double batch_loss = step(&m, X, Y, order, start, n, theta, grad, lr, &right);
        sum += batch_loss * (double)n;
    }
    *loss_sum = sum;
    *correct = right;
    return 0;
}

/* kernels.forward_rows for this family: P[r] = model.forward(X)[r, 0], ld samples at a time
 * (A and Z have ld columns; forward_rows's block is min(256, n_samples)). */
void forward(const real *X, int64_t n_samples, int64_t nf, const real *theta, int64_t H,
             int64_t act, double slope, real *P, real *A, real *Z, int64_t ld)
{
    model m = {nf, H, ld, act, (real)slope, A, Z, 0, 0, 0};
    const int64_t o = nf + H;
    for (int64_t start = 0; start < n_samples; start += ld) {
        int64_t n = ld < n_samples - start ? ld : n_samples - start;
        for (int64_t r = 0; r < n; r++)
            for (int64_t k = 0; k < nf; k++)
                A[k * ld + r] = X[(start + r) * nf + k];
        forward_pass(&m, theta, n);
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

/* pcg64._next64: step the LCG, then XSL-RR (xor the halves, rotate by the top 6 bits). */
static inline uint64_t next64(uint64_t *st)
{
    u128 state = ((u128)st[0] << 64) | st[1];
    u128 inc = ((u128)st[2] << 64) | st[3];
    state = state * PCG_MULTIPLIER + inc;
    uint64_t hi = (uint64_t)(state >> 64), lo = (uint64_t)state;
    st[0] = hi;
    st[1] = lo;
    uint64_t x = hi ^ lo;
    unsigned rot = (unsigned)(hi >> 58);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

/* pcg64._next32: the buffered high half if there is one, else the low half of a new draw. */
static inline uint64_t next32(uint64_t *st)
{
    if (st[4] != 0) {
        st[4] = 0;
        return st[5];
    }
    uint64_t value = next64(st);
    st[4] = 1;
    st[5] = value >> 32;
    return value & 0xFFFFFFFFULL;
}

/* pcg64._interval: random_interval(top), 0 < top < 2**32, by masked rejection. */
static inline int64_t interval(uint64_t *st, uint64_t top)
{
    uint64_t mask = top;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint64_t value = next32(st) & mask;
    while (value > top)
        value = next32(st) & mask;
    return (int64_t)value;
}

#define AHEAD_SWAPS 16

void permutations(uint64_t *st, int64_t n, int64_t first, int64_t stop, int64_t *out,
                  int64_t rows)
{
    for (int64_t e = first; e < stop; e++) {
        int64_t *order = out + (e % rows) * n;
        for (int64_t i = 0; i < n; i++)
            order[i] = i;
        /* Swap i takes j = interval(i), drawn in the same sequence as NumPy (i = n-1 .. 1)
         * but AHEAD_SWAPS swaps early, so the entry order[j] (a random place in a large
         * array) is fetched while the swaps before it run. */
        int64_t js[AHEAD_SWAPS];
        int64_t next = n - 1; /* the next swap to draw j for */
        for (; next > 0 && next > n - 1 - AHEAD_SWAPS; next--) {
            js[next % AHEAD_SWAPS] = interval(st, (uint64_t)next);
            __builtin_prefetch(order + js[next % AHEAD_SWAPS]);
        }
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = js[i % AHEAD_SWAPS];
            if (next > 0) { /* draw for swap i - AHEAD_SWAPS, into the slot just read */
                js[next % AHEAD_SWAPS] = interval(st, (uint64_t)next);
                __builtin_prefetch(order + js[next % AHEAD_SWAPS]);
                next--;
            }
            int64_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
