"""The layering of docs/architecture.md, enforced: each layer imports only layers before it, no import
cycles between modules, no `try/except ImportError` around perovscreen's own modules."""
import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "perovscreen"
# layer index of each top-level package; science packages share a layer but must not form cycles
LAYERS = {"core": 0, "structures": 1, "store": 1, "data": 1, "jobs": 2,
          "bvse": 3, "features": 3, "potentials": 3, "ml": 3, "md": 3, "mesoscale": 3, "dft": 3, "neb": 3,
          "pipeline": 4, "learn": 4, "report": 5, "cli": 6, "dashboard": 6, "__main__": 6}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "core"  # perovscreen/__init__ holds only the version


def import_graph() -> dict:
    """module -> set of perovscreen modules it imports (anywhere in the file, functions included)."""
    graph = defaultdict(set)
    for f in ROOT.rglob("*.py"):
        mod = _module(f)
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("perovscreen"):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("perovscreen")]
            graph[mod].update(names)
    return graph


def upward_imports(graph) -> list:
    return sorted((a, b) for a, bs in graph.items() for b in bs
                  if LAYERS[_package(b)] > LAYERS[_package(a)])


def cycles(graph) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    nodes = set(graph) | {b for bs in graph.values() for b in bs}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w == v:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def test_every_package_has_a_layer():
    packages = {_package(_module(f)) for f in ROOT.rglob("*.py")}
    assert packages <= set(LAYERS), packages - set(LAYERS)


def test_no_upward_imports():
    assert upward_imports(import_graph()) == []


def test_no_import_cycles():
    # a package __init__ that re-exports its own submodules lazily is not a cycle; real ones are
    graph = {a: {b for b in bs if not a.startswith(b + ".")} for a, bs in import_graph().items()}
    assert cycles(graph) == []


def test_no_import_error_guards_around_own_modules():
    bad = []
    for f in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.Try):
                continue
            catches = any(isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                          for h in node.handlers)
            own = any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("perovscreen")
                      for stmt in node.body for n in ast.walk(stmt))
            if catches and own:
                bad.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


def test_the_layer_checker_catches_violations():
    g = {"perovscreen.bvse.core": {"perovscreen.pipeline.funnel"}, "perovscreen.a.x": {"perovscreen.a.y"},
         "perovscreen.a.y": {"perovscreen.a.x"}}
    assert upward_imports({"perovscreen.bvse.core": g["perovscreen.bvse.core"]}) == [
        ("perovscreen.bvse.core", "perovscreen.pipeline.funnel")]
    assert cycles(g) == [["perovscreen.a.x", "perovscreen.a.y"]]
