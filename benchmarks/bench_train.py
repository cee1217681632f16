"""Training-step speed and memory: tinytorch with its defaults against PyTorch with its defaults,
each in its own process, taking turns.

    python benchmarks/bench_train.py                           # every CPU model, every core and one thread
    python benchmarks/bench_train.py --models mlp transformer --threads 1
    python benchmarks/bench_train.py --quick                   # fewer rounds
    python benchmarks/bench_train.py --models gpt2-124m --threads default --name train_gpu   # on a GPU machine

Models (a step is the lecture's: forward, backward, optimizer step and `loss.item()`):
  mlp                   makemore MLP (lecture 3): block 3, embedding 10, hidden 200, batch 32, SGD lr 0.1
  wavenet               WaveNet (lecture 6): block 8, embedding 24, hidden 128, batch 32, SGD lr 0.1
  wavenet-conv          the same WaveNet as dilated causal Conv1d (models/wavenet_conv.py): 32 whole names
                        per step (makemore's padded sequences of length 16, so 512 positions a step, of which
                        the ~7 per name that are not padding are targets), SGD lr 0.1
  shakespeare-char-cpu  the char GPT of `make demo`: 4 layers, 4 heads, 128 wide, block 64, batch 12,
                        AdamW with weight decay on matrices, clip_grad_norm_ 1.0
  transformer           makemore's transformer: 4 layers, 4 heads, 64 wide, block 16, batch 32, AdamW
                        lr 5e-4 (betas 0.9, 0.99, weight decay 0.01)
  lstm-lm               examples/lstm_word_lm.py: word-level LSTM LM on the first 200,000 characters of Tiny
                        Shakespeare, embedding 200, 2 layers of 200, dropout 0.2, batch 20, bptt 35,
                        clip_grad_norm_ 0.25, SGD lr 2.0; the hidden state carried across steps (detached), reset
                        at the first batch, as the example does
  cnn                   examples/cnn_classifier.py: Conv2d 1-8-16 with ReLU and max-pooling, Linear 64-32-3, on
                        generated 12x12 images of bars, batch 32, nll_loss, SGD lr 0.1 momentum 0.9
  transformer-classifier  examples/transformer_classifier.py: nn.TransformerEncoder, 2 layers, 4 heads, 64 wide,
                        feed-forward 128, dropout 0.1, on padded sequences of 24 tokens with a key padding mask,
                        batch 32, cross-entropy, AdamW lr 1e-3, clip_grad_norm_ 1.0
  gpt2-124m             GPT-2 124M, B=8, T=1024, AdamW, on a CUDA GPU only (TF32 off)

Each framework runs as a user runs it, with its default settings, in a worker process of its own:
tinytorch with nothing set (its Numba kernels, its matmul rule, every core), torch likewise. With
`--threads 1` each is set to one thread by its own call (tinytorch.set_num_threads(1),
torch.set_num_threads(1)); `default` sets nothing. The workers start from the same weights (the
tinytorch model's, copied into the PyTorch twin, tests/twins/) and see the same batches. The three
example scripts (lstm-lm, cnn, transformer-classifier) are their models' one source: each worker
imports the file (tinytorch's through its compat layer) and uses its model class, data helpers and
default arguments; their weights are torch's init, made in the parent, which has the real torch. After
warm-up steps (Numba compiles or loads its cache there; timed separately), the parent asks the
workers in turn for a round of `--steps-per-round` steps each, A B C D A B C D ..., the order
rotated each round, so that load from other jobs on a shared machine slows all of them alike;
a worker waits, blocked, while the others run. Before each turn the parent pauses SETTLE_S: a
parallel library's idle threads spin for a while after their last task (PyTorch's OpenMP pool,
OpenBLAS's), and without the pause they took a core from the next worker (tinytorch's GPT step on
2 cores measured 57 ms right after torch's turn, 42 ms alone or after the pause). A framework's
step time is the median over all its steps; "step / torch's" is the median over rounds of
(tinytorch's median step in the round / torch's in the same round, same thread setting), with its
interquartile spread. With both thread
settings, the scaling table compares each framework with itself: one thread against every core.

Memory: the rise of the worker's peak RSS (VmHWM, reset through /proc/self/clear_refs after freeing
what can be freed) during one training step: activations, gradients, temporaries (parameters and
optimizer state exist before it). RSS growth: a fresh tinytorch shakespeare-char-cpu GPT trains
--rss-steps steps (default 1000; 0 skips it); its RSS after step 100 and after the last step must
agree within 5%.

Writes OUT/<name>.{json,md,png} (default name: train; --update-results: benchmarks/results/) with
the machine's description.
"""
import harness

CPU_MODELS = ("mlp", "wavenet", "wavenet-conv", "shakespeare-char-cpu", "transformer", "lstm-lm", "cnn",
              "transformer-classifier")
MODELS = CPU_MODELS + ("gpt2-124m",)
FRAMEWORKS = ("tinytorch", "torch")


def parse_args():
    parser = harness.cli(__doc__)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(CPU_MODELS))
    parser.add_argument("--threads", nargs="+", default=["default", "1"], dest="thread_settings",
                        help="thread settings: 'default' (each framework's own) and/or a count (default: both)")
    parser.add_argument("--rounds", type=int, default=12, help="rounds of turns (default 12)")
    parser.add_argument("--steps-per-round", type=int, help="steps per worker per turn (default: per model)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per worker first (default 5)")
    parser.add_argument("--quick", action="store_true", help="4 rounds, a 300-step RSS check")
    parser.add_argument("--rss-steps", type=int, default=1000, help="steps of the RSS-growth check (0 skips it)")
    parser.add_argument("--name", default="train", help="output file stem (default train; e.g. train_gpu)")
    parser.add_argument("--worker", nargs=4, metavar=("FRAMEWORK", "MODEL", "THREADS", "FOLDER"),
                        help=argparse_suppress())
    args = harness.start(parser)
    if args.quick:
        args.rounds = 4
        args.rss_steps = min(args.rss_steps, 300)
    if args.rss_steps and args.rss_steps <= RSS_FIRST_STEP:
        parser.error(f"--rss-steps must exceed {RSS_FIRST_STEP} (or be 0)")
    for setting in args.thread_settings:
        if setting != "default" and not (setting.isdigit() and int(setting) > 0):
            parser.error(f"--threads takes 'default' or positive counts, got {setting!r}")
    return args


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


RSS_FIRST_STEP, RSS_TOLERANCE = 100, 0.05
SETTLE_S = 0.3
STEPS_PER_ROUND = {"mlp": 40, "wavenet": 20, "wavenet-conv": 10,
                   "shakespeare-char-cpu": 4, "transformer": 5, "lstm-lm": 5, "cnn": 20, "transformer-classifier": 10,
                   "gpt2-124m": 2}

ARGS = parse_args() if __name__ == "__main__" else None  # before NumPy, torch and Numba start their thread pools

import functools  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


# ---- the models: built once in the parent (weights, batches), rebuilt in each worker ------------

def makemore_data(block_size, sequences, count, batch_size=32, seed=0):
    """(vocabulary size, `count` minibatches (x, y) as NumPy arrays) of names.txt: context windows
    of `block_size` (lecture split), or padded whole-name sequences (makemore's split)."""
    import tinytorch
    from tinytorch.models.makemore_data import (CharVocab, context_examples, lecture_split, makemore_split,
                                                read_words, sequence_examples)
    words = read_words(tinytorch.data.get_path("names.txt"))
    vocab = CharVocab.from_words(words)
    if sequences:
        X, Y = sequence_examples(makemore_split(words).train, vocab, block_size)
    else:
        X, Y = context_examples(lecture_split(words).train, vocab, block_size)
    X, Y = X.numpy(), Y.numpy()
    picks = np.random.default_rng(seed).integers(0, X.shape[0], (count, batch_size))
    return len(vocab), [(X[ix], Y[ix]) for ix in picks]


def gpt_settings(preset):
    from tinytorch.models.gpt.presets import resolve
    if preset == "gpt2-124m":
        return resolve(preset, ["--batch_size=8", "--total_batch_tokens=0", "--dataset=tinyshakespeare"])
    return resolve(preset)


def spec(model):
    """What a worker needs to build `model` in either framework: a dict of plain values."""
    if model == "mlp":
        return dict(kind="mlp", config=dict(block_size=3, n_embd=10, n_hidden=200), lr=0.1, seed=42)
    if model == "wavenet":
        return dict(kind="wavenet", config=dict(block_size=8, n_embd=24, n_hidden=128), lr=0.1, seed=42)
    if model == "wavenet-conv":
        return dict(kind="wavenet-conv", config=dict(block_size=8, n_embd=24, n_hidden=128), lr=0.1, seed=42,
                    sequence_length=16)
    if model == "transformer":
        return dict(kind="transformer", config=dict(block_size=16, n_layer=4, n_head=4, n_embd=64), lr=5e-4,
                    betas=(0.9, 0.99), weight_decay=0.01, seed=3407)
    settings = gpt_settings(model)
    cfg = settings["train"]
    return dict(kind="gpt", preset=model, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                weight_decay=cfg.weight_decay, clip=cfg.grad_clip, seed=cfg.seed)


def batches_for(model, count):
    """(vocabulary size, batches, tokens per step). An example's come from torch: the parent's library."""
    if model in EXAMPLES:
        import torch
        return example(torch, model).batches(count)
    if model == "wavenet-conv":  # whole names: every position of every sequence counts as a token
        vocab_size, batches = makemore_data(spec(model)["sequence_length"], True, count)
        return vocab_size, batches, batches[0][0].size
    if model in ("mlp", "wavenet", "transformer"):
        block_size = {"mlp": 3, "wavenet": 8, "transformer": 16}[model]
        vocab_size, batches = makemore_data(block_size, model == "transformer", count)
        return vocab_size, batches, batches[0][0].shape[0] * (block_size if model == "transformer" else 1)
    from tinytorch.models.gpt.data import open_dataset
    settings = gpt_settings(model)
    cfg, block_size = settings["train"], settings["model"]["block_size"]
    stream = open_dataset("tinyshakespeare").batches("train", cfg.batch_size, block_size, seed=cfg.seed)
    return 65, [stream.next_batch() for _ in range(count)], cfg.batch_size * block_size


def build(lib, model, vocab_size):
    """`model` in `lib` (tinytorch or torch), with its default init."""
    if model in EXAMPLES:
        return example(lib, model).build(vocab_size)
    s = spec(model)
    lib.manual_seed(s["seed"])
    if s["kind"] in ("mlp", "wavenet", "wavenet-conv", "transformer"):
        if lib.__name__ == "torch":
            from twins.makemore import TorchMLP, TorchTransformer, TorchWaveNet, TorchWaveNetConv
            make = {"mlp": TorchMLP, "wavenet": TorchWaveNet, "wavenet-conv": TorchWaveNetConv,
                    "transformer": TorchTransformer}[s["kind"]]
        else:
            from tinytorch.models.mlp import MLP
            from tinytorch.models.transformer import Transformer
            from tinytorch.models.wavenet import WaveNet
            from tinytorch.models.wavenet_conv import WaveNetConv
            make = {"mlp": MLP, "wavenet": WaveNet, "wavenet-conv": WaveNetConv, "transformer": Transformer}[s["kind"]]
        return make(vocab_size, **s["config"])
    from tinytorch.models.gpt.presets import model_config
    config = model_config(gpt_settings(model)["model"], vocab_size)
    if lib.__name__ == "torch":
        from twins.gpt import TorchGPT
        return TorchGPT(config)
    from tinytorch.models.gpt import GPT
    return GPT(config)


def optimizer_for(lib, model, net):
    """(optimizer, gradient clipping norm or 0) of `model`'s recipe."""
    if model in EXAMPLES:
        return example(lib, model).optimizer(net)
    s = spec(model)
    if s["kind"] in ("mlp", "wavenet", "wavenet-conv"):
        return lib.optim.SGD(net.parameters(), lr=s["lr"]), 0.0
    if s["kind"] == "transformer":
        return lib.optim.AdamW(net.parameters(), lr=s["lr"], betas=s["betas"], weight_decay=s["weight_decay"]), 0.0
    return net.configure_optimizers(s["weight_decay"], s["lr"], s["betas"], s["eps"]), s["clip"]


def loss_function(lib, model, net):
    """`loss(index, *batch)`: the forward pass and the loss of `model`'s step on batch number `index`
    (its tensors in the order batches_for() gives them)."""
    if model in EXAMPLES:
        return functools.partial(example(lib, model).loss, net)
    return lambda index, x, y: net(x, y)[1]


# ---- the example scripts: each file of examples/ is its model's one source ---------------------

class Example:
    """A script of examples/ as a bench model. The file itself is imported by path, its `import
    torch` giving `lib` (tinytorch through the compat layer, installed first, or torch itself), and
    its model class, data helpers and default arguments (`parse_args([])`) are used as they are. A
    subclass restates only how the script's training loop wires them up: the batches, the model's
    constructor call, the optimizer and clipping, the loss."""

    file = ""

    def __init__(self, lib):
        if lib.__name__ == "tinytorch":
            from tinytorch import compat
            compat.install()
        spec = importlib.util.spec_from_file_location(Path(self.file).stem,
                                                      harness.BENCHMARKS.parent / "examples" / self.file)
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        self.torch, self.args = self.module.torch, self.module.parse_args([])

    def build(self, size):
        """The model, after seeding as the script does; `size` is batches()'s first answer."""
        self.torch.manual_seed(self.args.seed)
        return self.model(size)


class WordLM(Example):
    """The first `count` full bptt windows of the script's batchified training text, in order. The
    hidden state is carried from step to step, detached (repackage_hidden), and reset at the first
    window, as the script does on each pass over the text. The script writes plain SGD out by hand
    (p.data.add_(p.grad, alpha=-lr)); here it is torch.optim.SGD at that lr, the same update."""

    file = "lstm_word_lm.py"

    def __init__(self, lib):
        super().__init__(lib)
        self.criterion, self.hidden = self.module.nn.CrossEntropyLoss(), None

    def batches(self, count):
        m, a = self.module, self.args
        corpus = m.Corpus(a.data, a.chars)
        train = m.batchify(corpus.train, a.batch_size)
        starts = range(0, train.size(0) - a.bptt, a.bptt)[:count]
        return (len(corpus.dictionary), [tuple(t.numpy() for t in m.get_batch(train, i, a.bptt)) for i in starts],
                a.batch_size * a.bptt)

    def model(self, size):
        a = self.args
        return self.module.RNNModel(a.model, size, a.emsize, a.nhid, a.nlayers, a.dropout, a.tied)

    def optimizer(self, net):
        return self.torch.optim.SGD(net.parameters(), lr=self.args.lr), self.args.clip

    def loss(self, net, index, data, targets):
        if index == 0:
            self.hidden = net.init_hidden(self.args.batch_size)
        output, self.hidden = net(data, self.module.repackage_hidden(self.hidden))
        return self.criterion(output, targets)


class BarsCNN(Example):
    """The script's training images (make_bars after its seed), its batches in turn; one image
    counts as one token in tokens/s."""

    file = "cnn_classifier.py"

    def batches(self, count):
        m, a = self.module, self.args
        self.torch.manual_seed(a.seed)
        images, labels = m.make_bars(a.train_size, a.size, a.noise)
        starts = [k * a.batch_size % a.train_size for k in range(count)]
        return (len(m.CLASSES), [(images[s:s + a.batch_size].numpy(), labels[s:s + a.batch_size].numpy())
                                 for s in starts], a.batch_size)

    def model(self, size):
        return self.module.Net(self.args.size, size)

    def optimizer(self, net):
        return self.torch.optim.SGD(net.parameters(), lr=self.args.lr, momentum=self.args.momentum), 0.0

    def loss(self, net, index, images, labels):
        return self.module.F.nll_loss(net(images), labels)


class SequenceClassifier(Example):
    """The script's training set (make_dataset) and random picks from it drawn as it draws them;
    a batch is (tokens, padding mask, labels), its padded positions the tokens of tokens/s. Two
    classes and clip_grad_norm_ 1.0 are the script's constants."""

    file = "transformer_classifier.py"

    def __init__(self, lib):
        super().__init__(lib)
        self.criterion = self.module.nn.CrossEntropyLoss()

    def batches(self, count):
        m, a = self.module, self.args
        generator = self.torch.Generator().manual_seed(a.seed)
        train = m.make_dataset(a.train_size, a.seq_len, a.vocab_size, generator)
        picks = [self.torch.randint(0, a.train_size, (a.batch_size,), generator=generator) for _ in range(count)]
        return a.vocab_size, [tuple(t[idx].numpy() for t in train) for idx in picks], a.batch_size * a.seq_len

    def model(self, size):
        a = self.args
        return self.module.TransformerClassifier(size, 2, a.d_model, a.nhead, a.d_hid, a.nlayers, a.dropout)

    def optimizer(self, net):
        return self.torch.optim.AdamW(net.parameters(), lr=self.args.lr), 1.0

    def loss(self, net, index, tokens, padding, labels):
        return self.criterion(net(tokens, padding), labels)


EXAMPLES = {"lstm-lm": WordLM, "cnn": BarsCNN, "transformer-classifier": SequenceClassifier}


@functools.cache
def example(lib, model):
    """The one Example of `model` in this process on `lib`."""
    return EXAMPLES[model](lib)


# ---- a worker: one framework, one model, one thread setting ----------------------------------

def worker(framework, model, threads, folder):
    """Serve the parent over stdin/stdout (one JSON object a line): {"steps": n} runs n timed steps
    and answers their seconds, {"memory": true} the peak step memory, {"quit": true} ends."""
    if framework == "torch":
        import torch as lib
    else:
        import tinytorch as lib
    if threads != "default":
        lib.set_num_threads(int(threads))
    device = "cuda" if model == "gpt2-124m" else "cpu"
    if device == "cuda" and framework == "torch":
        lib.backends.cuda.matmul.allow_tf32 = False
        lib.backends.cudnn.allow_tf32 = False
    data = np.load(Path(folder) / "data.npz")
    batches = [tuple(data[f"b{i}_{j}"] for j in range(int(data["arity"]))) for i in range(int(data["count"]))]
    net = build(lib, model, int(data["vocab_size"]))
    weights, own = np.load(Path(folder) / "weights.npz"), net.state_dict()
    missing = sorted(set(own) - set(weights.files))
    if missing:
        raise KeyError(f"bench_train: the parent's {model} has no tensors named {missing}")
    net.load_state_dict({k: lib.from_numpy(weights[k].copy()).to(own[k].dtype) for k in own})
    net = net.to(device)
    optimizer, clip = optimizer_for(lib, model, net)
    loss_of, params = loss_function(lib, model, net), list(net.parameters())

    def step(i):
        index = i % len(batches)
        loss = loss_of(index, *(lib.from_numpy(a).to(device) for a in batches[index]))
        net.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            lib.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        return loss.item()
    runner, done = harness.Runner(framework, step), 0
    reply({"ready": True, "threads": lib.get_num_threads(), **backend_facts(lib)})
    for line in sys.stdin:
        request = json.loads(line)
        if "warmup" in request:
            start = time.perf_counter()
            for _ in range(request["warmup"]):
                runner.run(done)
                done += 1
            reply({"seconds": time.perf_counter() - start, "loss": runner.run(done)})
            done += 1
        elif "steps" in request:
            runner.times = []
            for _ in range(request["steps"]):
                runner.timed(done)
                done += 1
            reply({"times": runner.times})
        elif "memory" in request:
            reply({"peak_step_mb": runner.peak_memory_mb(done, repeats=3)[0] if device == "cpu" else None})
            done += 3
        else:
            return


def backend_facts(lib):
    if lib.__name__ == "torch":
        return {"version": lib.__version__}
    return {"version": lib.__version__, "kernels": lib.backends.kernels, "matmul": lib.backends.matmul_library()}


def reply(message):
    print(json.dumps(message), flush=True)


class Worker:
    """The parent's handle on a worker process."""

    def __init__(self, framework, model, threads, folder):
        self.framework, self.threads = framework, threads
        self.name = f"{framework}@{threads}"
        command = [sys.executable, __file__, "--worker", framework, model, threads, str(folder)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.facts = self.ask(None)
        self.round_medians, self.times = [], []

    def ask(self, request):
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bench_train: the {self.name} worker ended (exit status {self.process.wait()})")
        return json.loads(line)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"quit": True}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


# ---- the parent ------------------------------------------------------------------------------

def prepare(model, folder, n_batches):
    """The initial weights (the model's default init: tinytorch's model; an example's in torch, since
    the parent has imported the real torch and so cannot put the example on tinytorch) and the
    batches (tuples of arrays), for every worker."""
    import tinytorch
    import torch
    vocab_size, batches, tokens = batches_for(model, n_batches)
    net = build(torch if model in EXAMPLES else tinytorch, model, vocab_size)
    np.savez(folder / "weights.npz", **{k: v.numpy(force=True) for k, v in net.state_dict().items()})
    arrays = {f"b{i}_{j}": a for i, batch in enumerate(batches) for j, a in enumerate(batch)}
    np.savez(folder / "data.npz", count=len(batches), arity=len(batches[0]), vocab_size=vocab_size, **arrays)
    return tokens, sum(p.numel() for p in net.parameters())


def run_model(model, args, results):
    """Start the workers of one model, warm them up, time rounds of turns, add rows to `results`."""
    per_round = args.steps_per_round or STEPS_PER_ROUND[model]
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        tokens, params = prepare(model, Path(tmp), min(args.warmup + 1 + per_round * args.rounds + 3, 256))
        workers = [Worker(fw, model, threads, tmp) for threads in args.thread_settings for fw in FRAMEWORKS]
        try:
            print(f"{model}: {params:,} parameters; workers {', '.join(w.name for w in workers)}", flush=True)
            for w in workers:
                w.warmup_s = w.ask({"warmup": args.warmup})["seconds"]
            for k in range(args.rounds):
                turn = k % len(workers)
                for w in workers[turn:] + workers[:turn]:
                    time.sleep(SETTLE_S)
                    times = w.ask({"steps": per_round})["times"]
                    w.times += times
                    w.round_medians.append(float(np.median(times)))
            for w in workers:
                w.peak_step_mb = w.ask({"memory": True})["peak_step_mb"]
        finally:
            for w in workers:
                w.close()
    by_name = {w.name: w for w in workers}
    for w in workers:
        torch_worker = by_name[f"torch@{w.threads}"]
        ms = harness.spread([t * 1e3 for t in w.times])
        row = dict(model=model, params=params, threads=w.threads, framework=w.framework, ms=ms,
                   tokens_per_s=tokens / ms["median"] * 1e3, warmup_s=w.warmup_s, peak_step_mb=w.peak_step_mb,
                   ratio_to_torch=harness.spread([a / b for a, b in zip(w.round_medians, torch_worker.round_medians)]),
                   threads_used=w.facts["threads"], facts=w.facts)
        results.row(**row)
        print(f"  {w.name:14s} {ms['median']:8.2f} ms/step ({ms['q1']:.2f}-{ms['q3']:.2f}), "
              f"x{row['ratio_to_torch']['median']:.2f} of torch's, peak step {w.peak_step_mb or 0:.1f} MB, "
              f"warm-up {w.warmup_s:.1f} s", flush=True)
    counts = [t for t in args.thread_settings if t != "default"]
    if "default" in args.thread_settings and counts:
        for framework in FRAMEWORKS:
            one, every = by_name[f"{framework}@{counts[0]}"], by_name[f"{framework}@default"]
            results.scaling.append(dict(model=model, framework=framework, one=counts[0],
                                        cores=every.facts["threads"],
                                        ms_one=float(np.median(one.times)) * 1e3,
                                        ms_every=float(np.median(every.times)) * 1e3,
                                        speedup=harness.spread([a / b for a, b in zip(one.round_medians,
                                                                                      every.round_medians)])))


def rss_growth(steps):
    """RSS (MB) after step 100 and after step `steps` of a fresh tinytorch shakespeare-char-cpu run."""
    import tinytorch
    from machine_info import rss_kb
    model = "shakespeare-char-cpu"
    vocab_size, batches, _ = batches_for(model, 64)
    net = build(tinytorch, model, vocab_size)
    optimizer, clip = optimizer_for(tinytorch, model, net)
    params, rss = list(net.parameters()), {}
    for i in range(steps):
        x, y = batches[i % len(batches)]
        _, loss = net(tinytorch.from_numpy(x), tinytorch.from_numpy(y))
        net.zero_grad(set_to_none=True)
        loss.backward()
        tinytorch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        loss.item()
        if i + 1 in (RSS_FIRST_STEP, steps):
            rss[i + 1] = rss_kb()[1] / 1024
    growth = rss[steps] / rss[RSS_FIRST_STEP] - 1
    return {"steps": steps, "rss_mb_first": rss[RSS_FIRST_STEP], "rss_mb_last": rss[steps], "growth": growth,
            "within_5_percent": abs(growth) <= RSS_TOLERANCE}


LABELS = {"mlp": "makemore MLP (lecture 3)", "wavenet": "WaveNet (lecture 6)",
          "wavenet-conv": "WaveNet as dilated Conv1d, 32 names",
          "shakespeare-char-cpu": "GPT shakespeare-char-cpu (make demo)", "transformer": "makemore transformer",
          "lstm-lm": "word-level LSTM LM (examples/)", "cnn": "CNN on generated bars (examples/)",
          "transformer-classifier": "TransformerEncoder classifier (examples/)", "gpt2-124m": "GPT-2 124M (GPU)"}

COLUMNS = [("model", lambda r: f"{LABELS[r['model']]} ({r['params']:,} params)"),
           ("threads", lambda r: "every core" if r["threads"] == "default" else r["threads"]),
           ("framework", lambda r: r["framework"] + (f" ({r['facts']['kernels']}, {r['facts']['matmul']} matmul)"
                                                     if "kernels" in r["facts"] else "")),
           ("ms/step median (q1–q3)", lambda r: harness.with_spread(r["ms"])),
           ("tokens/s", "{tokens_per_s:,.0f}"),
           ("step / torch's (q1–q3)", lambda r: harness.with_spread(r["ratio_to_torch"])),
           ("peak step MB", "{peak_step_mb:.1f}"), ("warm-up s", "{warmup_s:.1f}")]

SCALING_COLUMNS = [("model", lambda r: LABELS[r["model"]]), ("framework", "{framework}"),
                   ("ms/step, 1 thread", "{ms_one:.2f}"), ("ms/step, every core", "{ms_every:.2f}"),
                   ("cores", "{cores}"),
                   ("1 thread / every core (q1–q3)", lambda r: harness.with_spread(r["speedup"]))]


def plot(results):
    rows = results.rows("rows")
    models = list(dict.fromkeys(r["model"] for r in rows))
    series = {}
    for r in rows:
        if r["framework"] == "tinytorch":
            label = "every core" if r["threads"] == "default" else f"{r['threads']} thread(s)"
            series.setdefault(label, {})[r["model"]] = r["ratio_to_torch"]["median"]
    results.plot(harness.bars([LABELS[m] for m in models], {k: [v.get(m) for m in models] for k, v in series.items()},
                              "tinytorch step / torch step (lower is faster)", rotate=15,
                              lines=((1.0, "-", "torch"), (0.8, "--", "target 0.8"))),
                 title="tinytorch vs PyTorch, each with its defaults, separate processes: one training step",
                 width=10)


def main(args):
    import torch
    import tinytorch
    results = harness.Results(args.name, args, "Training step: tinytorch vs PyTorch, each with its defaults",
                              torch=torch.__version__, tinytorch=tinytorch.__version__)
    results.scaling = []
    print(f"{results.machine['cpu']}, {results.machine['cores']} cores, load {results.machine['load_average']}",
          flush=True)
    results.table("rows", COLUMNS, labels=3)
    for model in args.models:
        if model == "gpt2-124m" and not torch.cuda.is_available():
            print("gpt2-124m: skipped (no CUDA GPU for torch here)", flush=True)
            continue
        run_model(model, args, results)
    if results.scaling:
        results.text("Thread scaling: each framework against itself, one thread against every core (the median "
                     "over rounds of the ratio of its step times in the same round; above 1 means more threads "
                     "help).")
        results.table("scaling", SCALING_COLUMNS, labels=2)
        for row in results.scaling:
            results.row(**row)
    if args.rss_steps and "shakespeare-char-cpu" in args.models:
        print(f"RSS growth: {args.rss_steps} steps of a fresh tinytorch shakespeare-char-cpu ...", flush=True)
        rss = rss_growth(args.rss_steps)
        results.record(rss_growth=rss)
        results.text(f"RSS growth (tinytorch, shakespeare-char-cpu, its defaults): {rss['rss_mb_first']:.1f} MB after "
                     f"step {RSS_FIRST_STEP}, {rss['rss_mb_last']:.1f} MB after step {rss['steps']}: "
                     f"{100 * rss['growth']:+.2f}% ({'within' if rss['within_5_percent'] else 'NOT within'} 5%).")
    results.text("Each framework with its defaults in its own process (tinytorch: Numba kernels, its matmul rule, "
                 "every core; torch: its own), workers taking turns round by round, "
                 f"{args.rounds} rounds; a thread count means each framework's own set_num_threads. Load from other "
                 "jobs shows in the load average below: the turns share it out, the ratios cancel most of it.")
    plot(results)
    results.write()


if __name__ == "__main__":
    if ARGS.worker:
        worker(*ARGS.worker)
    else:
        main(ARGS)
