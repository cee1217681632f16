"""Fast BPE training with exactly minbpe's merges.

minbpe recounts every adjacent pair of the whole text for each merge and takes
`max(stats, key=stats.get)`: the most frequent pair, and among equally frequent pairs the one
seen first when scanning the text left to right (dict insertion order). That is
O(merges x text). Here the pairs are counted once and then updated incrementally:

* The text is cut into words (regex chunks; the whole text for BasicTokenizer). Each distinct
  word is stored once, with its frequency as a weight, and the distinct words are laid end to
  end in the order they first appear. Position order in that array is then minbpe's scan order:
  the first occurrence of a pair anywhere in the text lies in the first-appearing word that
  contains it, at the same offset.
* Every pair keeps a list of the positions where it starts, in increasing order. A list is only
  ever appended to while the pair is new (all pairs created by a merge contain the new token),
  and entries that a later merge destroyed are skipped lazily, so "first occurrence" is the first
  still-valid entry (amortised O(1)).
* Merging a pair visits only its own occurrences, through a linked list over the positions,
  and adjusts the counts of the neighbouring pairs it destroys and creates.
* A heap ordered by (count descending, first occurrence ascending) picks the next pair. A pair's
  first occurrence can only move when the pair loses an occurrence, i.e. when its count changes,
  so one fresh heap entry per changed pair per merge keeps the heap exact.
"""
import numba
import numpy as np

from .heap import heap_pop, heap_push

# columns of the position table (int32) and of the pair table (int64)
TOKEN, NEXT, PREV, PAIR, WEIGHT = range(5)
LEFT, RIGHT, COUNT, HEAD, TAIL, KEY, TOUCHED = range(7)
MAX_COUNT = (1 << 31) - 1
POSITION_MASK = (1 << 32) - 1


@numba.njit(cache=True)
def _reserve(table, rows):
    """`table` (1-D or 2-D), or a copy with twice `rows` rows when it has fewer than `rows`."""
    if rows <= table.shape[0]:
        return table
    bigger = np.empty((2 * rows,) + table.shape[1:], table.dtype)
    bigger[:table.shape[0]] = table
    return bigger


@numba.njit(cache=True)
def _pair_with_new(pairs, num_pairs, table, other, left, right):
    """Id of the pair `(left, right)` containing the newest token, creating it if needed.

    `table[other]` remembers it during one merge, `other` being the pair's older token.
    Returns `(id, num_pairs)`; `pairs` must have a free row.
    """
    if table[other] == -1:
        pairs[num_pairs] = -1
        pairs[num_pairs, LEFT] = left
        pairs[num_pairs, RIGHT] = right
        pairs[num_pairs, COUNT] = 0
        pairs[num_pairs, TOUCHED] = 0
        table[other] = num_pairs
        num_pairs += 1
    return table[other], num_pairs


@numba.njit(cache=True)
def _add_occurrence(occurrences, num_occurrences, pairs, pair, position, weight):
    """Append `position` to the occurrence list of `pair` and add `weight` to its count.

    `occurrences[e] = (position, next entry of the same pair or -1)`; lists run HEAD -> TAIL.
    Returns the new number of entries; `occurrences` must have a free row.
    """
    occurrences[num_occurrences, 0] = position
    occurrences[num_occurrences, 1] = -1
    if pairs[pair, HEAD] == -1:
        pairs[pair, HEAD] = num_occurrences
    else:
        occurrences[pairs[pair, TAIL], 1] = num_occurrences
    pairs[pair, TAIL] = num_occurrences
    pairs[pair, COUNT] += weight
    return num_occurrences + 1


@numba.njit(cache=True)
def _touch(pairs, touched, num_touched, pair):
    """Remember, once, that `pair`'s count changed during this merge; returns the new number."""
    if pairs[pair, TOUCHED] == 0:
        pairs[pair, TOUCHED] = 1
        touched[num_touched] = pair
        num_touched += 1
    return num_touched


@numba.njit(cache=True)
def _priority(pairs, occurrences, at, pair):
    """Heap key of `pair`: count descending, then first valid occurrence ascending.

    Advances the pair's list head past entries that merges have destroyed.
    """
    entry = pairs[pair, HEAD]
    while at[occurrences[entry, 0], PAIR] != pair:
        entry = occurrences[entry, 1]
    pairs[pair, HEAD] = entry
    return ((MAX_COUNT - pairs[pair, COUNT]) << 32) | occurrences[entry, 0]


@numba.njit(cache=True)
def learn_merges(tokens, word_end, weight, num_merges):
    """Learn up to `num_merges` BPE merges, choosing each exactly as minbpe does.

    tokens:   int32[n], the bytes of the distinct words laid end to end in first-seen order.
    word_end: bool[n], True at the last byte of each word (pairs never cross words).
    weight:   int32[n], the frequency of the word each position belongs to.
    Returns `(merges int64[k, 2], counts int64[k])`: merge t joins `merges[t]` into token
    256 + t, and `counts[t]` is the pair's count when it was chosen. k < num_merges only when
    no pair is left to merge.
    """
    n = tokens.shape[0]
    # one row per byte position, live or merged away: its token, the next and previous live
    # positions of its word (-1 at the ends), the id of the pair starting there, its weight
    at = np.full((n, 5), -1, np.int32)
    at[:, TOKEN] = tokens
    at[:, WEIGHT] = weight
    for i in range(n - 1):
        if not word_end[i]:
            at[i, NEXT] = i + 1
            at[i + 1, PREV] = i

    pairs = np.empty((256 * 256 + 1024, 7), np.int64)
    num_pairs = 0
    occurrences = np.empty((n + 1024, 2), np.int32)
    num_occurrences = 0
    byte_pairs = np.full(256 * 256, -1, np.int64)
    for i in range(n - 1):
        if not word_end[i]:
            at[i, PAIR], num_pairs = _pair_with_new(
                pairs, num_pairs, byte_pairs, tokens[i] * 256 + tokens[i + 1], tokens[i], tokens[i + 1])
            num_occurrences = _add_occurrence(occurrences, num_occurrences, pairs, at[i, PAIR], i, weight[i])

    heap = np.empty(num_pairs + 1024, np.int64)
    size = 0
    for pair in range(num_pairs):
        pairs[pair, KEY] = _priority(pairs, occurrences, at, pair)
        size = heap_push(heap, size, pairs[pair, KEY])

    vocab_size = 256 + num_merges
    pair_ending_with_new = np.full(vocab_size, -1, np.int64)    # (left, new) ids by left
    pair_starting_with_new = np.full(vocab_size, -1, np.int64)  # (new, right) ids by right
    touched = np.empty(1024, np.int64)
    merges = np.empty((num_merges, 2), np.int64)
    counts = np.empty(num_merges, np.int64)
    for t in range(num_merges):
        chosen = -1
        while size > 0 and chosen == -1:
            key, size = heap_pop(heap, size)
            pair = at[key & POSITION_MASK, PAIR]
            if pair != -1 and pairs[pair, KEY] == key:
                chosen = pair
        if chosen == -1:
            return merges[:t], counts[:t]
        new = 256 + t
        merges[t, 0] = pairs[chosen, LEFT]
        merges[t, 1] = pairs[chosen, RIGHT]
        counts[t] = pairs[chosen, COUNT]
        # each of the <= count occurrences creates <= 2 pairs and occurrences, touches <= 4 pairs
        pairs = _reserve(pairs, num_pairs + 2 * counts[t])
        occurrences = _reserve(occurrences, num_occurrences + 2 * counts[t])
        touched = _reserve(touched, 4 * counts[t])
        num_touched = 0
        entry = pairs[chosen, HEAD]
        while entry != -1:
            i = occurrences[entry, 0]
            entry = occurrences[entry, 1]
            if at[i, PAIR] != chosen:  # destroyed by an earlier merge, or by an overlap ("aaa")
                continue
            j, w = at[i, NEXT], at[i, WEIGHT]
            before, after = at[i, PREV], at[j, NEXT]
            pairs[chosen, COUNT] -= w
            if before != -1:
                pairs[at[before, PAIR], COUNT] -= w
                num_touched = _touch(pairs, touched, num_touched, at[before, PAIR])
            if after != -1:
                pairs[at[j, PAIR], COUNT] -= w
                num_touched = _touch(pairs, touched, num_touched, at[j, PAIR])
            at[i, TOKEN] = new
            at[i, NEXT] = after
            at[i, PAIR] = -1
            at[j, PAIR] = -1
            if before != -1:
                other = at[before, TOKEN]
                at[before, PAIR], num_pairs = _pair_with_new(
                    pairs, num_pairs, pair_ending_with_new, other, other, new)
                num_occurrences = _add_occurrence(
                    occurrences, num_occurrences, pairs, at[before, PAIR], before, w)
                num_touched = _touch(pairs, touched, num_touched, at[before, PAIR])
            if after != -1:
                at[after, PREV] = i
                other = at[after, TOKEN]
                at[i, PAIR], num_pairs = _pair_with_new(
                    pairs, num_pairs, pair_starting_with_new, other, new, other)
                num_occurrences = _add_occurrence(occurrences, num_occurrences, pairs, at[i, PAIR], i, w)
                num_touched = _touch(pairs, touched, num_touched, at[i, PAIR])
        pairs[chosen, KEY] = -1
        heap = _reserve(heap, size + num_touched)
        for k in range(num_touched):
            pair = touched[k]
            pairs[pair, TOUCHED] = 0
            if pairs[pair, RIGHT] == new:
                pair_ending_with_new[pairs[pair, LEFT]] = -1
            if pairs[pair, LEFT] == new:
                pair_starting_with_new[pairs[pair, RIGHT]] = -1
            if pairs[pair, COUNT] == 0:
                pairs[pair, KEY] = -1
            else:
                key = _priority(pairs, occurrences, at, pair)
                if key != pairs[pair, KEY]:
                    pairs[pair, KEY] = key
                    size = heap_push(heap, size, key)
    return merges, counts


def train_merges(word_counts, num_merges):
    """minbpe-identical merges for a text given as its words and their frequencies.

    word_counts: dict {word bytes: frequency} in the order the words first appear in the text
    (a `collections.Counter` over the regex chunks has exactly that order).
    Returns a list of `((left id, right id), count)`, merge t producing token 256 + t.
    """
    words = [w for w in word_counts if w]
    lengths = np.fromiter(map(len, words), np.int64, len(words))
    frequencies = np.fromiter((word_counts[w] for w in words), np.int64, len(words))
    if int(lengths @ frequencies) > MAX_COUNT:
        raise ValueError(f"train: the text has {int(lengths @ frequencies):,} bytes; "
                         f"at most {MAX_COUNT:,} are supported")
    tokens = np.frombuffer(b"".join(words), np.uint8).astype(np.int32)
    word_end = np.zeros(tokens.shape[0], np.bool_)
    word_end[np.cumsum(lengths) - 1] = True
    weight = np.repeat(frequencies.astype(np.int32), lengths)
    merges, counts = learn_merges(tokens, word_end, weight, num_merges)
    return [((int(a), int(b)), int(c)) for (a, b), c in zip(merges, counts)]
