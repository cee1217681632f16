"""pass@k on held-out problems: k samples per problem from the engine, each scored by the task's reward.

With c correct samples out of n for a problem, pass@j is estimated without bias as
1 - C(n - c, j) / C(n, j) (Chen et al., 2021), so pass@1 = c / n: the chance that one sample at this
temperature is right. The reported pass@1 and pass@k are their means over the problems.
"""
from math import comb

from .engine import Engine
from .tasks import problems, reward


def pass_at(n, c, j):
    return 1.0 - comb(n - c, j) / comb(n, j)


def sample_problem(engine, problem, cfg, seed):
    """(tokens, masks, rewards, replies) of cfg.samples samples for one problem."""
    prompt = engine.tokenizer.render_for_completion(problem.prompt())
    sequences, masks = engine.generate_batch(prompt, cfg.samples, max_tokens=cfg.max_tokens,
                                             temperature=cfg.temperature, top_k=cfg.top_k, seed=seed)
    replies = [engine.reply_text(s, len(prompt)) for s in sequences]
    return sequences, masks, [reward(problem, r) for r in replies], replies


def pass_at_k(model, tokenizer, tasks, cfg, task_names=None):
    """{task: {"pass@1", "pass@k", "problems", "example"}} on cfg.problems test problems per task."""
    engine = Engine(model, tokenizer)
    results = {}
    for name in task_names or cfg.tasks:
        counts, example = [], None
        for i, problem in enumerate(problems(tasks[name], "test", cfg.problems, seed=0)):
            _, _, rewards, replies = sample_problem(engine, problem, cfg, seed=cfg.seed + i)
            counts.append(int(sum(rewards)))
            example = example or {"question": problem.question, "reply": replies[0], "reward": rewards[0]}
        n = cfg.samples
        results[name] = {"pass@1": sum(pass_at(n, c, 1) for c in counts) / len(counts),
                         f"pass@{n}": sum(pass_at(n, c, n) for c in counts) / len(counts),
                         "problems": len(counts), "samples": n, "example": example}
    return results
