"""The layer rule of DESIGN.md, read from the source with `ast` (nothing is imported):

- no import cycle among the package's modules, counting imports inside functions as well as at the top;
- no module global assigned from another module (`other.name = value`, `setattr(other, ...)`);
- the array layer (autograd, ops/, the nn/fused_* Functions, kernels/) never reaches the Tensor layer
  (tensor*.py, creation, functions, the nn modules, optim, the package itself), directly or through
  another module;
- kernels/ imports nothing from the framework; engine (micrograd) and tokenizers need no tensors.

A module's imports are its `import` and `from ... import` statements; `from pkg import name` is an edge
to the submodule `pkg.name` when there is one, else to `pkg` (whose __init__ defines the name).
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the installed layout (setup.py): kernels/ is tinytorch.kernels, models/ is tinytorch.models
PACKAGES = {"tinytorch": ROOT / "tinytorch", "tinytorch.kernels": ROOT / "kernels",
            "tinytorch.models": ROOT / "models"}


def module_files():
    """{dotted module name: path} for every .py file of the package."""
    files = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join([package, *parts])] = path
    return files


MODULES = module_files()


def is_package(name):
    return MODULES[name].name == "__init__.py"


def absolute(name, node):
    """The absolute module named by an ImportFrom inside module `name`."""
    if not node.level:
        return node.module
    base = name.split(".") if is_package(name) else name.split(".")[:-1]
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name):
    """[(imported module, local name, what the local name is bound to, line)] for every import
    statement of module `name` (`import a.b` imports a.b and binds `a` to a)."""
    found = []
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                found.append((alias.name, local, alias.name if alias.asname else local, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source = absolute(name, node)
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                target = sub if sub in MODULES else source
                found.append((target, alias.asname or alias.name, sub, node.lineno))
    return found


def graph():
    """{module: {imported package module: first line}} over the package's own modules."""
    edges = {}
    for name in MODULES:
        targets = {}
        for target, _, _, line in imports(name):
            while target and target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]  # `import a.b.c` of a name defined in a.b
            if target in MODULES and target != name:
                targets.setdefault(target, line)
        edges[name] = targets
    return edges


EDGES = graph()


def find_cycle(edges):
    """One import cycle as a list of modules (first == last), or None; an iterative depth-first search."""
    state = {}  # absent: unseen, 1: on the current path, 2: done
    for start in sorted(edges):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges[nxt])))
    return None


def reachable(start, edges):
    seen, todo = set(), [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def describe_cycle(cycle):
    return " -> ".join(f"{a} (line {EDGES[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_the_graph_sees_the_package():
    assert {"tinytorch.autograd", "tinytorch.tensor", "tinytorch.kernels.reference",
            "tinytorch.models.gpt.model"} <= MODULES.keys()
    assert "tinytorch.autograd" in EDGES["tinytorch.tensor"]


def test_no_import_cycle():
    cycle = find_cycle(EDGES)
    assert cycle is None, "import cycle: " + describe_cycle(cycle)


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"a": 1, "b": 1}}) is None


def assignments_to_other_modules(name):
    """[(line, text)] where module `name` assigns an attribute of another of the package's modules."""
    bound = {local: value for _, local, value, _ in imports(name)}
    found = []
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            targets = [t for group in targets for t in (group.elts if isinstance(group, ast.Tuple) else [group])]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
        for t in targets:
            owner = isinstance(t, ast.Attribute) and module_named(t.value, bound)
            if owner and owner != name:
                found.append((node.lineno, f"{owner}.{t.attr}"))
    return found


def module_named(node, bound):
    """The package module that an expression like `backends` or `tinytorch.backends` names, or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bound:
        return None
    dotted = ".".join([bound[node.id], *reversed(parts)])
    return dotted if dotted in MODULES else None


def test_no_module_global_is_assigned_from_another_module():
    offenders = {name: hits for name in MODULES if (hits := assignments_to_other_modules(name))}
    assert not offenders, f"module globals assigned from outside: {offenders}"


ARRAY_LAYER = sorted(name for name in MODULES if name == "tinytorch.autograd" or name.startswith(
    ("tinytorch.ops", "tinytorch.kernels", "tinytorch.nn.fused_")))
TENSOR_LAYER = {name for name in MODULES if name.startswith(("tinytorch.tensor", "tinytorch.nn", "tinytorch.optim"))
                and not name.startswith("tinytorch.nn.fused_") and name != "tinytorch.nn.special"}
TENSOR_LAYER |= {"tinytorch", "tinytorch.creation", "tinytorch.functions"}


@pytest.mark.parametrize("name", ARRAY_LAYER)
def test_the_array_layer_never_reaches_the_tensor_layer(name):
    reached = sorted(reachable(name, EDGES) & TENSOR_LAYER)
    assert not reached, f"{name} imports (directly or through another module) the Tensor layer: {reached}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("tinytorch.kernels")))
def test_kernels_import_nothing_from_the_framework(name):
    outside = sorted(t for t in EDGES[name] if not t.startswith("tinytorch.kernels"))
    assert not outside, f"{name} imports {outside}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n == "tinytorch.engine" or n.startswith("tinytorch.tokenizers")))
def test_engine_and_tokenizers_need_no_tensors(name):
    reached = sorted(reachable(name, EDGES) & (TENSOR_LAYER | {"tinytorch.autograd"}))
    assert not reached, f"{name} reaches {reached}"
