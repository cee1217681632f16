"""tinytorch.random: torch's CPU streams. The MT19937 engine against NumPy's legacy MT19937, the
single-rounding fma against exact rational arithmetic, and every draw against real torch after
the same seed: same numbers, exactly, except where a float64 result goes through a transcendental
function (torch calls glibc's log, log1p, sin, cos, NumPy has its own: equal to 1 ulp there).

Each torch comparison also compares the draws that follow (a normal of one element, which reads
torch's cached second Box-Muller sample, and a uniform), so the generators must end in the same
state.

torch runs its AVX2 kernels on this machine (AVX-512 ones use the same normal kernel); a torch
built without AVX2 rounds float32 normals and uniforms differently, which these tests would show.
"""
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import torch

import tinytorch
from harness import assert_same
from tinytorch.data import read_text
from tinytorch.random import cpu_state
from tinytorch.random.cpu_generator import CPUGenerator
from tinytorch.kernels.numpy.fused_multiply_add import fma
from tinytorch.random.mt19937 import MT19937

pytestmark = pytest.mark.torch

FLOAT64_ULP = 4e-16  # relative: one ulp of NumPy's log / sin / cos / log1p against glibc's


def same_draws(fn, seed=0, rtol=0.0, where=None):
    """fn(m) after m.manual_seed(seed), then the next normal and uniform, for m = tinytorch
    and m = torch: equal (exactly, or within rtol for floats)."""
    def seeded(m):
        m.manual_seed(seed)
        out = fn(m)
        return [out, m.randn(1), m.rand(1)]
    assert_same(seeded(tinytorch), seeded(torch), where or "draws", atol=0.0, rtol=rtol)


# ---- the engine ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 5489, 2147483647, 2 ** 32 + 7])
def test_engine_gives_mt19937_words_across_twists_and_calls(seed):
    """NumPy's RandomState seeds MT19937 as torch does (init_genrand of seed mod 2^32)."""
    reference = np.random.RandomState(seed % 2 ** 32)._bit_generator.random_raw(2000)
    engine = MT19937(seed)
    words = np.concatenate([engine.words(k) for k in (0, 3, 620, 1, 700, 676)])
    np.testing.assert_array_equal(words, reference)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_engine_words_and_masks_with_either_kernel(kernels, kernels_used):
    """The engine's words and Bernoulli masks, read from every parity of position across twists,
    are NumPy's MT19937 words (the mask: its pairs' low 53 bits below the threshold), from the
    kernel the setting picks."""
    import tinytorch.backends as backends
    reference = np.random.RandomState(77)._bit_generator.random_raw(12000)
    engine, drawn = MT19937(77), []
    with backends.using(kernels=kernels):
        for k in (1, 311, 1, 312, 0, 623, 3, 625, 1):
            drawn.append(("words", engine.words(k)))
            drawn.append(("mask", engine.bernoulli(k, 2 ** 52 + 12345)))
    at = 0
    for kind, got in drawn:
        if kind == "words":
            np.testing.assert_array_equal(got, reference[at:at + got.size])
            at += got.size
        else:
            pairs = reference[at:at + 2 * got.size].reshape(-1, 2)
            k53 = ((pairs[:, 0] & np.uint64(2 ** 21 - 1)) << np.uint64(32)) | pairs[:, 1]
            np.testing.assert_array_equal(got, k53 < 2 ** 52 + 12345)
            at += 2 * got.size
    package = "cpu" if kernels == "numba" else "numpy"
    expected = {f"tinytorch.kernels.{package}.mt19937"}
    assert kernels_used["mt19937_words"] == kernels_used["mt19937_bernoulli"] == expected


def test_a_64_bit_draw_is_two_words_the_first_one_high():
    ours = MT19937(11).words64(700)
    theirs = torch.empty(700, dtype=torch.int64).random_(generator=torch.Generator().manual_seed(11))
    np.testing.assert_array_equal((ours % np.uint64(2 ** 63)).astype(np.int64), theirs.numpy())  # random64 % 2^63


# ---- fused multiply-add -------------------------------------------------------------------------

def _nearest_float32(x):
    """The float32 nearest to the Fraction x (ties to even)."""
    f = np.float32(float(x))
    candidates = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - x), int(np.array(c).view(np.int32)) & 1))


def test_float32_fma_rounds_once_where_two_roundings_differ():
    """a * b + 1 just off a float32 tie: rounding to float64 first lands on the tie."""
    hard = []
    for k in range(1, 3000):
        a = np.float32(1 + k * 2.0 ** -23)
        b = np.float32(2.0 ** -24 / float(a))
        for b in (np.nextafter(b, np.float32(0)), b, np.nextafter(b, np.float32(1))):
            exact = Fraction(float(a)) * Fraction(float(b)) + 1
            if np.float32(float(a) * float(b) + 1.0) != _nearest_float32(exact):
                hard.append((a, b, _nearest_float32(exact)))
    assert len(hard) > 20
    a, b, expected = (np.array(column, np.float32) for column in zip(*hard))
    np.testing.assert_array_equal(fma(a, b, np.float32(1), np.float32), expected)


def test_float64_fma_is_the_exact_result_rounded_once():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(3000), rng.standard_normal(3000)
    c = -(a * b) * (1 + rng.standard_normal(3000) * 1e-9)  # heavy cancellation
    expected = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(fma(a, b, c, np.float64), expected)


# ---- the lecture ---------------------------------------------------------------------------------

def _bigram_counts():
    """Lecture 2's 27 x 27 counts of names.txt: N[ix1, ix2] += 1 over '.' + name + '.'."""
    words = read_text("names.txt").splitlines()
    stoi = {s: i + 1 for i, s in enumerate(sorted(set("".join(words))))}
    stoi["."] = 0
    counts = Counter((stoi[a], stoi[b]) for w in words for a, b in zip("." + w, w + "."))
    table = [[counts[i, j] for j in range(27)] for i in range(27)]
    return table, {i: s for s, i in stoi.items()}


def _lecture2_names(m, table, itos):
    N = m.tensor(table, dtype=m.int32)
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    g = m.Generator().manual_seed(2147483647)
    names = []
    for _ in range(5):
        out, ix = [], 0
        while True:
            ix = m.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            out.append(itos[ix])
            if ix == 0:
                break
        names.append("".join(out))
    return names


def test_lecture2_samples_the_lectures_names():
    table, itos = _bigram_counts()
    expected = ["cexze.", "momasurailezitynn.", "konimittain.", "llayn.", "ka."]
    assert _lecture2_names(torch, table, itos) == expected
    assert _lecture2_names(tinytorch, table, itos) == expected


def _lecture3_first_loss(m):
    """Lecture 3's first loss, printed as the notebook prints it: the MLP on the 32 examples of the
    first five names, every parameter drawn from Generator().manual_seed(2147483647)."""
    words = read_text("names.txt").splitlines()[:5]
    stoi = {s: i + 1 for i, s in enumerate(sorted(set("".join(read_text("names.txt").splitlines()))))}
    stoi["."] = 0
    X, Y = [], []
    for w in words:
        context = [0] * 3
        for ch in w + ".":
            X.append(context)
            Y.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    X, Y = m.tensor(X), m.tensor(Y)
    g = m.Generator().manual_seed(2147483647)
    C = m.randn((27, 2), generator=g)
    W1 = m.randn((6, 100), generator=g)
    b1 = m.randn(100, generator=g)
    W2 = m.randn((100, 27), generator=g)
    b2 = m.randn(27, generator=g)
    h = m.tanh(C[X].view(-1, 6) @ W1 + b1)
    counts = (h @ W2 + b2).exp()
    prob = counts / counts.sum(1, keepdims=True)
    return repr(-prob[m.arange(32), Y].log().mean())


def test_lecture3_prints_the_lectures_first_loss():
    assert _lecture3_first_loss(torch) == "tensor(17.7697)"
    assert _lecture3_first_loss(tinytorch) == "tensor(17.7697)"


# ---- normal ------------------------------------------------------------------------------------

def test_manual_seed_0_randn_3():
    tinytorch.manual_seed(0)
    assert tinytorch.randn(3).tolist() == pytest.approx([1.5410, -0.2934, -2.1788], abs=1e-4)
    same_draws(lambda m: m.randn(3))


SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 47, 100, 257, 1000, 4099]


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize("n", SIZES)
def test_randn_takes_torchs_path_on_each_side_of_16(n, dtype):
    """< 16: per element, Box-Muller in double with the cached sine; >= 16: blocks of 16 and a
    redone last block (float32 and float16 exactly; float64 to an ulp: libm vs NumPy)."""
    rtol = FLOAT64_ULP if dtype == "float64" else 0.0
    same_draws(lambda m: m.randn(n, dtype=getattr(m, dtype)), seed=n, rtol=rtol)


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (2, 3, 7), (1, 17), (5, 1, 3)])
def test_randn_of_shapes_and_the_cache_between_calls(shape):
    same_draws(lambda m: [m.randn(*shape), m.randn(3), m.randn(shape), m.randn(1), m.randn(5)], seed=7)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_large_float32_normals_are_torchs_bits_with_either_kernel(kernels, kernels_used):
    """The Box-Muller kernel (kernels/numpy/normal.py, or its Numba twin) over many blocks and chunks,
    with and without mean and std, and an embedding's N(0, 1) init: torch's float32 bits."""
    import tinytorch.backends as backends

    def draws(m):
        return [m.randn(70_001), m.empty(3, 50_000).normal_(0.02, 1.5), m.nn.Embedding(500, 96).weight.detach()]
    with backends.using(kernels=kernels):
        same_draws(draws, seed=21)
    package = "cpu" if kernels == "numba" else "numpy"
    assert kernels_used["box_muller_blocks"] == {f"tinytorch.kernels.{package}.normal"}


@pytest.mark.parametrize("n", [5, 40])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_with_mean_and_std(n, dtype):
    """mean + z * std: one rounding (fma) in both paths."""
    same_draws(lambda m: [m.empty(n, dtype=getattr(m, dtype)).normal_(0.3, 2.7),
                          m.normal(-1.5, 0.02, size=(n,), dtype=getattr(m, dtype))], seed=3, rtol=FLOAT64_ULP)


def test_normal_with_tensor_mean_and_std():
    """normal(0, 1) of the broadcast shape, times std, plus mean; a number std scales the draw."""
    same_draws(lambda m: [m.normal(m.arange(20.0), 2.0), m.normal(1.5, m.arange(1.0, 21.0)),
                          m.normal(m.arange(20.0).reshape(4, 5), m.arange(1.0, 6.0)), m.normal(m.arange(3.0))])


@pytest.mark.parametrize("make", [lambda m: m.empty(20, 30).t(), lambda m: m.empty(6, 10)[:, ::2],
                                  lambda m: m.empty(4, 5, 6).permute(2, 0, 1)])
def test_strided_tensors_are_filled_in_memory_order(make):
    """Not contiguous: normal_ takes the per-element path; every draw walks memory in order."""
    same_draws(lambda m: [make(m).normal_(), make(m).uniform_(-2, 3), make(m).exponential_(),
                          make(m).bernoulli_(0.3), make(m).random_(7)], seed=5)


# ---- uniform -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_rand_and_uniform(dtype):
    """x = (word & (2^d - 1)) / 2^d, then fma(x, to - from, from) in float or double."""
    d = lambda m: getattr(m, dtype)  # noqa: E731
    same_draws(lambda m: [m.rand(1000, dtype=d(m)), m.rand(3, 4, dtype=d(m)),
                          m.empty(5000, dtype=d(m)).uniform_(-0.0361, 0.0361), m.empty(7, dtype=d(m)).uniform_(2.5, 17.3),
                          m.rand_like(m.ones(2, 3, dtype=d(m)))], seed=2)


def test_uniform_rejects_an_empty_range():
    for m in (torch, tinytorch):
        with pytest.raises(RuntimeError, match="uniform_ expects to return a \\[from, to\\) range"):
            m.empty(3).uniform_(2, 1)


# ---- integers ----------------------------------------------------------------------------------

RANGES = [(0, 10), (-5, 7), (0, 2 ** 28 - 1), (0, 2 ** 28), (-5, 2 ** 28 - 5), (0, 2 ** 32), (3, 2 ** 40),
          (-2 ** 62, 2 ** 62)]


@pytest.mark.parametrize("low, high", RANGES)
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch: float ranges beyond 2^24 / 2^53
def test_randint_on_both_sides_of_the_64_bit_threshold(low, high):
    """A range of 2^28 or more takes 64-bit words (torch's threshold outside fbcode); float
    dtypes move out-of-precision bounds as torch's update_from / update_to do."""
    def draws(m):
        out = [m.randint(low, high, (50,)), m.randint(low, high, (7,), dtype=m.float32),
               m.randint(low, high, (7,), dtype=m.float64)]
        if high - low < 2 ** 31:
            out.append(m.randint(low, high, (7,), dtype=m.int32))
        return out
    same_draws(draws, seed=4)


def test_randint_of_small_dtypes():
    same_draws(lambda m: [m.randint(0, 2, (9,), dtype=m.bool), m.randint(-3, 3, (9,), dtype=m.int16),
                          m.randint(250, (9,), dtype=m.uint8), m.randint(0, 1000, (9,), dtype=m.float16),
                          m.randint_like(m.ones(3, 4), 3, 9)])


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "bool", "float32", "float64", "float16"])
def test_random_in_all_its_forms(dtype):
    """random_(): [0, max] (floats: [0, 2^digits]); random_(to); random_(from, to); random_(from, None)."""
    def draws(m):
        d = getattr(m, dtype)
        out = [m.empty(20, dtype=d).random_(), m.empty(9, dtype=d).random_(2), m.empty(9, dtype=d).random_(0, 2)]
        if dtype != "bool":
            out += [m.empty(9, dtype=d).random_(3, None), m.empty(9, dtype=d).random_(1, 100)]
        return out
    same_draws(draws, seed=5)


def test_random_over_all_64_bit_integers():
    same_draws(lambda m: m.empty(20, dtype=m.int64).random_(-2 ** 63, None))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000, 50_000])
def test_randperm_is_torchs_fisher_yates(n):
    same_draws(lambda m: [m.randperm(n), m.randperm(n, dtype=m.float32)], seed=6)


def test_randperm_of_2_to_the_28_takes_the_inside_out_shuffle(monkeypatch):
    """n >= (2^32 - 1) / 20 (214748364, far too large to compare with torch here): torch's
    inside-out shuffle with 64-bit words, r[i] = r[z]; r[z] = i for z = word % (i + 1). Shown on a
    small n by lowering the threshold; the expected values replay torch's algorithm on the
    engine's words (which the tests above compare with torch)."""
    monkeypatch.setattr("tinytorch.random.cpu_generator._SMALL_PERMUTATION", 0)
    got = CPUGenerator(9).permutation(500, np.int64)
    words = MT19937(9).words64(500)
    expected = [0] * 500
    for i in range(500):
        z = int(words[i] % np.uint64(i + 1))
        expected[i] = expected[z]
        expected[z] = i
    assert got.tolist() == expected and sorted(expected) == list(range(500))


# ---- bernoulli, exponential, multinomial -----------------------------------------------------------

def test_bernoulli_with_a_number_or_a_tensor_of_probabilities():
    """[u < p]: a double u for a number p (torch's MKL path is off in its public builds) and for a
    float64 p tensor, a float u for a float32 one."""
    same_draws(lambda m: [m.empty(100).bernoulli_(0.3), m.empty(50, dtype=m.int64).bernoulli_(0.7),
                          m.bernoulli(m.rand(5, 7)), m.bernoulli(m.rand(5, 7, dtype=m.float64)),
                          m.bernoulli(m.rand(5, 7), 0.25), m.empty(3, 4).bernoulli_(m.rand(4))])


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
@pytest.mark.parametrize("seed", [0, 11, 2 ** 40 + 3])
def test_bernoulli_of_a_number_across_twists_and_a_restored_state(seed, kernels):
    """bernoulli_(p) of sizes whose 2 words each end before, at and after the 624-word twists, from
    odd and even positions (a float32 rand(k) reads k words), with the state saved and restored in
    the middle: torch's masks, with either kernel."""
    import tinytorch.backends as backends

    def draws(m):
        out = []
        for n, odd, p in ((1, 0, 0.8), (311, 1, 0.5), (312, 0, 0.2), (313, 1, 0.999), (623, 1, 0.8),
                          (625, 0, 0.0), (5000, 1, 1.0), (140_000, 1, 0.8)):
            out += [m.rand(odd), m.empty(n).bernoulli_(p)]
        state = m.get_rng_state()
        first = m.empty(777).bernoulli_(0.3)
        m.set_rng_state(state)
        return out + [first, m.empty(777).bernoulli_(0.3), m.get_rng_state()]
    with backends.using(kernels=kernels):
        same_draws(draws, seed=seed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exponential(dtype):
    """-log1p(-u) / lambda with a double u (float32 exactly; float64 to an ulp: NumPy's log1p)."""
    same_draws(lambda m: [m.empty(1000, dtype=getattr(m, dtype)).exponential_(),
                          m.empty(9, dtype=getattr(m, dtype)).exponential_(2.5)], rtol=FLOAT64_ULP)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("num_samples", [1, 4, 30])
def test_multinomial(num_samples, replacement, dtype):
    """One sample or no replacement: argmax / topk of p / Exp(1); else the cumulative search.
    (Zero weights only where fewer samples than positive weights are drawn without replacement:
    torch leaves the order of the tied zeros to its topk.)"""
    def draws(m):
        p = m.rand(6, 30, dtype=getattr(m, dtype))
        if num_samples < 20 or replacement:
            p = p * (m.rand(6, 30, dtype=getattr(m, dtype)) > 0.2)
        return [m.multinomial(p, num_samples, replacement), m.multinomial(p[0], num_samples, replacement),
                p.multinomial(num_samples, replacement, generator=m.Generator().manual_seed(3))]
    same_draws(draws, seed=num_samples)


# ---- the generator and its state ----------------------------------------------------------------

def test_seeds_as_torch_reads_them():
    def seeds(m):
        return [m.Generator().initial_seed(), m.manual_seed(-1).initial_seed(), m.initial_seed(),
                m.Generator().manual_seed(2 ** 64 - 1).initial_seed()]
    assert seeds(tinytorch) == seeds(torch)
    for m in (torch, tinytorch):
        with pytest.raises(ValueError, match="Overflow"):
            m.manual_seed(2 ** 64)
    g = tinytorch.Generator()
    assert g.seed() == g.initial_seed() < 2 ** 64


def test_a_generator_is_its_own_stream():
    same_draws(lambda m: [m.randn(5, generator=m.Generator().manual_seed(42)), m.randn(5)])


def _after_some_draws(m):
    m.manual_seed(9)
    m.randn(3)  # leaves a cached double normal
    m.rand(700)  # crosses a twist
    return m.get_rng_state()


def test_the_state_is_torchs_5056_bytes():
    ours, theirs = _after_some_draws(tinytorch), _after_some_draws(torch)
    assert ours.dtype == tinytorch.uint8 and tuple(ours.shape) == (5056,)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("source, target", [(tinytorch, tinytorch), (torch, tinytorch), (tinytorch, torch)])
def test_a_state_restores_the_stream_in_either_framework(source, target):
    state = _after_some_draws(source)
    expected = [source.randn(5), source.randn(20), source.randint(0, 9, (4,))]
    target.set_rng_state(state if source is target else target.tensor(state.numpy()))
    got = [target.randn(5), target.randn(20), target.randint(0, 9, (4,))]
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_generator_get_and_set_state():
    g = tinytorch.Generator().manual_seed(3)
    tinytorch.randn(3, generator=g)
    state = g.get_state()
    first = tinytorch.randn(7, generator=g).tolist()
    assert g.set_state(state) is g and tinytorch.randn(7, generator=g).tolist() == first
    theirs = torch.Generator().manual_seed(3)
    torch.randn(3, generator=theirs)
    np.testing.assert_array_equal(np.asarray(state), theirs.get_state().numpy())


def test_a_bad_state_is_refused():
    for bad in (np.zeros(100, np.uint8), np.zeros(5056, np.int64), cpu_state.pack(1, 0, 0, np.zeros(624), None, None)):
        with pytest.raises(RuntimeError, match="set_rng_state"):
            tinytorch.Generator().set_state(bad)


def test_the_default_seed_is_torchs():
    assert tinytorch.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    a = tinytorch.randn(4, generator=tinytorch.Generator())
    b = torch.randn(4, generator=torch.Generator())
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert math.isfinite(a.sum().item())
