"""Scripts that import torch.jit, torch.onnx, torch.compiler or torch.distributions run under
run_as_torch: TorchScript's compilers hand back what they are given (with a warning), its markers
pass through silently, and exporting (torch.onnx.export, torch.jit.save/load) raises
NotSupportedError. Each check runs in a fresh interpreter (scripts.under_compat)."""
from scripts import under_compat


def test_torch_jit_passes_functions_and_modules_through():
    got = under_compat("""
        import json, warnings
        import torch
        import torch.jit
        from torch.jit import Final
        model = torch.nn.Linear(2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scripted = torch.jit.script(model)
            traced = torch.jit.trace(model, torch.zeros(1, 2))

            @torch.jit.script
            def double(x):
                return 2 * x

            @torch.jit.ignore(drop=True)
            def helper(x):
                return x + 1

            @torch.jit.unused
            def unused(x):
                return x
        print(json.dumps([scripted is model, traced is model, double(3), helper(3), unused(4),
                          torch.jit.is_scripting(), torch.jit.is_tracing(), torch.jit.annotate(int, 5),
                          isinstance(model, torch.jit.ScriptModule), Final is __import__("typing").Final,
                          [str(w.message) for w in caught]]))
    """)
    skipped = "tinytorch does not support torch.jit.{}; the function or module runs unchanged as Python"
    assert got == [True, True, 6, 4, 4, False, False, 5, False, True,
                   [skipped.format("script"), skipped.format("trace"), skipped.format("script")]]


def test_exporting_raises_not_supported():
    got = under_compat("""
        import json
        import torch
        import torch.onnx
        from tinytorch.compat import NotSupportedError
        model = torch.nn.Linear(2, 2)
        errors = []
        for call in (lambda: torch.onnx.export(model, torch.zeros(1, 2), "model.onnx"),
                     lambda: torch.jit.save(model, "model.pt"), lambda: torch.jit.load("model.pt")):
            try:
                call()
            except NotSupportedError as e:
                errors.append(str(e))
        print(json.dumps([torch.onnx.is_in_onnx_export(), errors]))
    """)
    assert got == [False, ["tinytorch does not support 'torch.onnx.export' yet",
                           "tinytorch does not support 'torch.jit.save' yet",
                           "tinytorch does not support 'torch.jit.load' yet"]]


def test_compiler_and_distributions_import():
    got = under_compat("""
        import json
        import torch
        import torch.compiler
        import torch.distributions as D
        from torch.distributions import Categorical

        @torch.compiler.disable
        def f(x):
            return x * 3
        torch.manual_seed(0)
        sample = Categorical(probs=torch.tensor([0.0, 1.0])).sample((3,))
        print(json.dumps([torch.compiler.is_compiling(), f(2), sample.tolist(), D.Normal is torch.distributions.Normal,
                          type(D.Normal(0.0, 1.0)).__module__]))
    """)
    assert got == [False, 6, [1, 1, 1], True, "tinytorch.distributions.normal"]
