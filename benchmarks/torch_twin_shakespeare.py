"""The PyTorch twin of tinytorch's GPT (tests/twins/gpt.py) trained on a preset, nanoGPT-style.

The rival in the shakespeare-char-cpu race: the same preset, the same initial weights (copied from
tinytorch's GPT built with the same seed), the same batches (tinytorch.models.gpt's NumPy samplers) and the
same evaluation protocol, so the two val-loss curves differ only by floating-point rounding. Run it right
after tinytorch's run:

    python -m tinytorch.models.gpt train --preset shakespeare-char-cpu --out runs/sc-cpu
    python benchmarks/torch_twin_shakespeare.py --preset shakespeare-char-cpu --out runs/sc-cpu-torch \\
        --compare runs/sc-cpu

It writes metrics.json (same keys as tinytorch's) and loss.png to --out and, with --compare, a
side-by-side table there too, as <preset>.{json,md,png} (shakespeare_char_cpu.*); with
--update-results that table goes to benchmarks/results/ instead. Other --key=value arguments
override the preset's settings, as for tinytorch's training CLI.
"""
import json
import time
from pathlib import Path

import torch

import harness
from twins.gpt import TorchGPT, copy_weights

KEEP = ("steps", "final_val_loss", "best_val_loss", "seconds", "ms_per_step", "tokens_per_second", "eval_steps",
        "val_loss_curve")
COLUMNS = [("framework", "{framework}"), ("steps", "{steps}"), ("final val loss", "{final_val_loss:.4f}"),
           ("best val loss", "{best_val_loss:.4f}"), ("wall time (s)", "{seconds:.1f}"),
           ("ms/step (median)", "{ms_per_step:.1f}"), ("tokens/s", "{tokens_per_second:,.0f}")]


def train_twin(settings, out, progress=True):
    """The twin's run of a preset: nanoGPT's loop with tinytorch's schedule, batches and eval protocol."""
    from tinytorch.models.gpt.train import EVAL_SEED_OFFSET, RunLog, build, grad_accum_steps, plot_losses
    started = time.perf_counter()
    cfg = settings["train"]
    data, model, _ = build(settings)  # the same dataset and the same initial weights
    twin = copy_weights(TorchGPT(model.config), model)
    torch.manual_seed(cfg.seed)
    T = model.config.block_size
    accum = grad_accum_steps(cfg, T)
    optimizer = twin.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    stream = data.batches("train", cfg.batch_size, T, seed=cfg.seed)
    log = RunLog()

    @torch.no_grad()
    def evaluate(step):
        twin.eval()
        losses = {}
        for split in ("train", "val"):
            batches = data.batches(split, cfg.batch_size, T, seed=cfg.seed + EVAL_SEED_OFFSET)
            losses[split] = sum(twin(*map(torch.from_numpy, batches.next_batch()))[1].item()
                                for _ in range(cfg.eval_iters)) / cfg.eval_iters
        twin.train()
        log.record_eval(step, losses, None)
        if progress:
            print(f"torch twin step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")

    evaluate(0)
    for step in range(cfg.max_iters):
        t0 = time.perf_counter()
        lr = cfg.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        step_loss = 0.0
        for _ in range(accum):
            x, y = map(torch.from_numpy, stream.next_batch())
            _, loss = twin(x, y)
            (loss / accum if accum > 1 else loss).backward()
            step_loss += loss.item() / accum
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(twin.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        log.record_step(step_loss, lr, time.perf_counter() - t0, accum * cfg.batch_size * T)
        if (step + 1) % cfg.eval_interval == 0 or step + 1 == cfg.max_iters:
            evaluate(step + 1)
    log.state["seconds"] = time.perf_counter() - started
    meta = {"model_config": model.config.to_dict(), "train_config": cfg.to_dict()}
    metrics = log.summary(sum(p.numel() for p in twin.parameters()), meta)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    plot_losses(metrics, out / "loss.png")
    return metrics


def write_comparison(results, ours, theirs):
    """The side-by-side table of tinytorch's run (its metrics.json) and the twin's."""
    kernels, matmul = ours.get("kernels", "numpy"), ours.get("cpu_matmul", "numpy")
    results.record(tinytorch_kernels=kernels, tinytorch_cpu_matmul=matmul).table("rows", COLUMNS)
    results.row(framework=f"tinytorch (kernels={kernels}, matmul={matmul})", **{k: ours[k] for k in KEEP})
    results.row(framework="PyTorch twin", **{k: theirs[k] for k in KEEP})
    results.plot(harness.curves({r["framework"]: (r["eval_steps"], r["val_loss_curve"]) for r in results.rows("rows")},
                                "step", "val loss"))
    results.write()


def main():
    from tinytorch.models.gpt.presets import resolve
    parser = harness.cli(__doc__, out=Path("runs/torch-twin"))
    parser.add_argument("--preset", default="shakespeare-char-cpu")
    parser.add_argument("--compare", help="a tinytorch run folder of the same preset, for the side-by-side table")
    args = harness.start(parser, overrides=True)
    results = None
    if args.compare:
        results = harness.Results(args.preset.replace("-", "_"), args, f"{args.preset}: tinytorch vs its PyTorch twin",
                                  torch=torch.__version__, torch_threads=torch.get_num_threads())
        results.record(preset=args.preset)
    metrics = train_twin(resolve(args.preset, args.overrides), Path(args.out))
    print(f"torch twin: val loss {metrics['final_val_loss']:.4f} in {metrics['seconds']:.1f} s "
          f"({metrics['ms_per_step']:.1f} ms/step)")
    if results is not None:
        write_comparison(results, json.loads((Path(args.compare) / "metrics.json").read_text()), metrics)


if __name__ == "__main__":
    main()
