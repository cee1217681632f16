"""Data-parallel training in build-nanogpt's style (its train_gpt2.py loop), on CPUs with gloo. A plain PyTorch script.

    torchrun --standalone --nproc_per_node=2 examples/ddp_nanogpt.py                          # real PyTorch
    python -m tinytorch.run_as_torch -m torch.distributed.run --nproc_per_node=2 examples/ddp_nanogpt.py
    python examples/ddp_nanogpt.py                                                           # one process

The model is char_transformer.py's, the text tinyshakespeare.txt in $TINYTORCH_DATA (or --input).
As in build-nanogpt: the launcher's RANK / LOCAL_RANK / WORLD_SIZE say whether this is a DDP run;
DataLoaderLite gives each rank its B*T slice of every global micro-batch; the global batch stays
--total-batch tokens, so the gradient accumulation steps shrink with the world size; gradients are
averaged once per step, by setting `require_backward_grad_sync` before the last micro-step's
forward (DDP decides in the forward, build-nanogpt's fix #30); the loss is all-reduced with
ReduceOp.AVG and printed by rank 0, which also saves the plain module's state_dict.
"""
import argparse
import math
import os
import time

import torch
import torch.distributed as dist
from torch.distributed import destroy_process_group, init_process_group
from torch.nn.parallel import DistributedDataParallel as DDP

from char_transformer import CharTransformer, configure_optimizer


class DataLoaderLite:
    def __init__(self, tokens, B, T, process_rank, num_processes):
        self.tokens, self.B, self.T = tokens, B, T
        self.process_rank, self.num_processes = process_rank, num_processes
        self.current_position = B * T * process_rank

    def next_batch(self):
        B, T = self.B, self.T
        buf = self.tokens[self.current_position:self.current_position + B * T + 1]
        x, y = buf[:-1].view(B, T), buf[1:].view(B, T)
        self.current_position += B * T * self.num_processes
        if self.current_position + B * T * self.num_processes + 1 > len(self.tokens):
            self.current_position = B * T * self.process_rank
        return x, y


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", help="text file (default: $TINYTORCH_DATA/tinyshakespeare.txt)")
    p.add_argument("--out", default=os.path.join("out", "ddp-nanogpt"), help="folder for model.pt")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--micro-batch", type=int, default=8, help="B: sequences per micro-batch and process")
    p.add_argument("--block-size", type=int, default=32, help="T")
    p.add_argument("--total-batch", type=int, default=1024, help="tokens per optimizer step, over all processes")
    p.add_argument("--n-embd", type=int, default=64)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--max-lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=5)
    args = p.parse_args()
    args.input = args.input or os.path.join(os.environ.get("TINYTORCH_DATA", "."), "tinyshakespeare.txt")
    return args


def main():
    args = parse_args()
    ddp = int(os.environ.get("RANK", -1)) != -1  # is this a ddp run?
    if ddp:
        init_process_group(backend="gloo")  # "nccl" on GPUs, with DDP(model, device_ids=[ddp_local_rank])
        ddp_rank, ddp_world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        master_process = ddp_rank == 0
    else:
        ddp_rank, ddp_world_size, master_process = 0, 1, True

    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    tokens = torch.tensor([stoi[c] for c in text], dtype=torch.long)

    B, T = args.micro_batch, args.block_size
    assert args.total_batch % (B * T * ddp_world_size) == 0, "make sure total_batch is divisible by B * T * world"
    grad_accum_steps = args.total_batch // (B * T * ddp_world_size)
    if master_process:
        print(f"total desired batch size: {args.total_batch}")
        print(f"=> calculated gradient accumulation steps: {grad_accum_steps}")
    train_loader = DataLoaderLite(tokens, B, T, ddp_rank, ddp_world_size)

    torch.manual_seed(1337)
    cfg = argparse.Namespace(vocab_size=len(chars), block_size=T, n_embd=args.n_embd, n_head=args.n_head,
                             n_layer=args.n_layer, dropout=0.0, bias=True, attention="fused", activation="gelu")
    model = CharTransformer(cfg)
    if ddp:
        model = DDP(model)
    raw_model = model.module if ddp else model  # always contains the "raw" unwrapped model
    optimizer = configure_optimizer(raw_model, args.max_lr, weight_decay=0.1)

    def get_lr(it):
        if it < args.warmup:
            return args.max_lr * (it + 1) / args.warmup
        ratio = (it - args.warmup) / max(1, args.steps - args.warmup)
        return args.max_lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * ratio)))

    for step in range(args.steps):
        t0 = time.time()
        optimizer.zero_grad()
        loss_accum = 0.0
        for micro_step in range(grad_accum_steps):
            x, y = train_loader.next_batch()
            if ddp:
                model.require_backward_grad_sync = (micro_step == grad_accum_steps - 1)
            logits, loss = model(x, y)
            loss = loss / grad_accum_steps
            loss_accum += loss.detach()
            loss.backward()
        if ddp:
            dist.all_reduce(loss_accum, op=dist.ReduceOp.AVG)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        lr = get_lr(step)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        optimizer.step()
        dt = time.time() - t0
        tokens_per_sec = B * T * grad_accum_steps * ddp_world_size / dt
        if master_process:
            print(f"step {step:4d} | loss: {loss_accum.item():.6f} | lr {lr:.4e} | norm: {norm:.4f} | "
                  f"dt: {dt * 1000:.2f}ms | tok/sec: {tokens_per_sec:.2f}")
    if master_process:
        os.makedirs(args.out, exist_ok=True)
        torch.save(raw_model.state_dict(), os.path.join(args.out, "model.pt"))
    if ddp:
        destroy_process_group()


if __name__ == "__main__":
    main()
