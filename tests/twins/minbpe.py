"""minbpe's BPE, in its straightforward form: the oracle of tinytorch.tokenizers (tests/test_tokenizers.py)
and the baseline of benchmarks/bench_tokenizer.py.

Training recounts every pair of the text for each merge and takes `max(stats, key=stats.get)` (the
first of the most frequent pairs in order of appearance); encoding merges, in each chunk, the pair
that was learned first, until no learned pair is left.
"""
import regex


def chunks_of(text, pattern):
    """The UTF-8 bytes of each chunk the split pattern cuts (the whole text for "")."""
    return [list(c.encode("utf-8")) for c in (regex.findall(pattern, text) if pattern else [text])]


def pair_counts(chunks):
    stats = {}
    for ids in chunks:
        for pair in zip(ids, ids[1:]):
            stats[pair] = stats.get(pair, 0) + 1
    return stats


def merge(ids, pair, new):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train(text, pattern, max_merges):
    """[(pair, count)] as minbpe learns them (pair i becomes token 256 + i), stopping early when no
    pair is left."""
    chunks = chunks_of(text, pattern)
    learned = []
    for t in range(max_merges):
        stats = pair_counts(chunks)
        if not stats:
            break
        pair = max(stats, key=stats.get)
        learned.append((pair, stats[pair]))
        chunks = [merge(ids, pair, 256 + t) for ids in chunks]
    return learned


def encode(text, pattern, merges):
    out = []
    for ids in chunks_of(text, pattern):
        while len(ids) >= 2:
            stats = pair_counts([ids])
            pair = min(stats, key=lambda p: merges.get(p, float("inf")))
            if pair not in merges:
                break
            ids = merge(ids, pair, merges[pair])
        out += ids
    return out
