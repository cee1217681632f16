"""Input draws for the convolution and pooling rows of functional_cases.FUSED_OPS: small batches of
(N, C, *S) inputs in any layout, kernels, strides, paddings, dilations and groups drawn so that
every output has at least one position."""
from hypothesis import strategies as st

from strategies import arrays


def _per_dim(data, d, values):
    """One value of `values` for every dim, given as an int or as a d-tuple (both torch forms)."""
    drawn = tuple(data.draw(values) for _ in range(d))
    as_int = d == 1 or (len(set(drawn)) == 1 and data.draw(st.booleans()))
    return drawn[0] if as_int else drawn


def _sides(value, d):
    return list(value) if isinstance(value, tuple) else [value] * d


def conv_inputs(d, transposed=False):
    """x (N, C, *S), weight ((O, C/g) or (C, O/g), *K), bias (O,) or None, and stride, padding
    (ints, tuples, 'valid' or 'same' for a convolution), dilation, groups (and output_padding)."""
    def draw(data):
        groups = data.draw(st.sampled_from([1, 1, 2]))
        c, o = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
        kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
        stride = _per_dim(data, d, st.integers(1, 2))
        dilation = _per_dim(data, d, st.integers(1, 2))
        strides, dilations = _sides(stride, d), _sides(dilation, d)
        params = {"stride": stride, "dilation": dilation, "groups": groups}
        if transposed:
            pads = [data.draw(st.integers(0, dl * (k - 1) // 2)) for k, dl in zip(kernel, dilations)]
            params["padding"] = pads[0] if d == 1 else tuple(pads)
            params["output_padding"] = tuple(data.draw(st.integers(0, max(s, dl) - 1))
                                             for s, dl in zip(strides, dilations))
            sizes = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
            weight_shape = (c, o // groups) + kernel
        else:
            options = ["valid", 0, 1, 2] + (["same"] if all(s == 1 for s in strides) else [])
            params["padding"] = data.draw(st.sampled_from(options))
            pads = [0 if isinstance(p, str) else p for p in _sides(params["padding"], d)]
            if params["padding"] == "same":
                pads = [dl * (k - 1) // 2 for k, dl in zip(kernel, dilations)]
            sizes = tuple(max(1, dl * (k - 1) + 1 - 2 * p) + data.draw(st.integers(0, 2))
                          for k, dl, p in zip(kernel, dilations, pads))
            weight_shape = (o, c // groups) + kernel
        n = data.draw(st.integers(1, 2))
        bias = data.draw(st.one_of(st.none(), arrays((weight_shape[1] * groups if transposed else o,),
                                                     layout="contiguous")))
        return [data.draw(arrays((n, c) + sizes)), data.draw(arrays(weight_shape)), bias], params
    return draw


def pool_inputs(d, kind):
    """x (N, C, *S) (distinct values for max) and kernel_size, stride (None: the kernel), padding,
    ceil_mode; max: dilation and return_indices; avg: count_include_pad (and divisor_override in 2-d);
    adaptive: output_size (an int, a tuple, None entries keeping a side)."""
    def draw(data):
        n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
        if kind == "adaptive":
            sizes = tuple(data.draw(st.integers(1, 6)) for _ in range(d))
            out = tuple(data.draw(st.one_of(st.integers(1, 7), st.none()) if d == 2 else st.integers(1, 7))
                        for _ in range(d))
            return [data.draw(arrays((n, c) + sizes))], {"output_size": out[0] if d == 1 else out}
        kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
        dilations = tuple(data.draw(st.integers(1, 2)) if kind == "max" else 1 for _ in range(d))
        pads = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
        shrink = kind == "avg"  # a dilated window can miss a short input (torch's max_pool then reads out of bounds)
        sizes = tuple(max(1, dl * (k - 1) + 1 - 2 * p * shrink) + data.draw(st.integers(0, 3))
                      for k, dl, p in zip(kernel, dilations, pads))
        params = {"kernel_size": kernel[0] if d == 1 else kernel,
                  "stride": data.draw(st.one_of(st.none(), st.integers(1, 3))),
                  "padding": pads[0] if d == 1 else pads, "ceil_mode": data.draw(st.booleans())}
        if kind == "max":
            params.update(dilation=dilations[0] if d == 1 else dilations,
                          return_indices=data.draw(st.booleans()))
        else:
            params["count_include_pad"] = data.draw(st.booleans())
            if d == 2:
                params["divisor_override"] = data.draw(st.sampled_from([None, 3]))
        domain = "distinct" if kind == "max" else "real"
        return [data.draw(arrays((n, c) + sizes, domain))], params
    return draw
