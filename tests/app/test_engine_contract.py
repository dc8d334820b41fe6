"""``Project`` and the app tests' fake both implement ``LabelingEngine``, member by member, and
the app uses nothing of a project beyond it (no attribute probes, no store)."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from activelab.core.project.engine import LabelingEngine
from activelab.core.project.project import Project
from tests.app.fake_engine import FakeProject

APP = Path(__file__).resolve().parents[2] / "app"


def _members() -> dict[str, object]:
    names = set(LabelingEngine.__annotations__) | {
        n for n, v in vars(LabelingEngine).items()
        if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return {n: getattr(LabelingEngine, n, None) for n in sorted(names)}


def _compatible(wanted: inspect.Signature, got: inspect.Signature) -> list[str]:
    """What keeps ``got`` from being called the way ``wanted`` is: every parameter of
    ``wanted`` must be accepted under its name and kind (with a default where it has one);
    parameters ``got`` has beyond it must be optional."""
    problems = []
    params = dict(got.parameters)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for name, p in wanted.parameters.items():
        if name == "self":
            continue
        q = params.pop(name, None)
        if q is None:
            if not (p.kind is p.VAR_KEYWORD and takes_kwargs):
                problems.append(f"no parameter {name!r}")
            continue
        if q.kind != p.kind:
            problems.append(f"{name!r} is {q.kind.description}, the protocol's is {p.kind.description}")
        if p.default is not p.empty and q.default is q.empty:
            problems.append(f"{name!r} has no default (the protocol's: {p.default!r})")
    for name, q in params.items():
        if name != "self" and q.default is q.empty and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD):
            problems.append(f"extra required parameter {name!r}")
    return problems


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    from tests.core.helpers import write_text_csv

    tmp = tmp_path_factory.mktemp("engines")
    project = Project.create(tmp / "p", data=write_text_csv(tmp / "d.csv", n=20),
                             text_columns=["text"], tasks=["topic=topic"])
    yield {"Project": project, "FakeProject": FakeProject(tmp / "fake", n=20)}
    project.close()


@pytest.mark.parametrize("engine", ["Project", "FakeProject"])
def test_implements_every_member_with_a_compatible_signature(engines, engine):
    impl = engines[engine]
    assert isinstance(impl, LabelingEngine)
    problems = []
    for name, member in _members().items():
        if not hasattr(impl, name):
            problems.append(f"{name}: missing")
            continue
        if isinstance(member, property):
            if callable(getattr(type(impl), name, None)) and not isinstance(getattr(type(impl), name), property):
                problems.append(f"{name}: a method, the protocol's is a property")
            continue
        if member is None:             # a plain attribute (path, spec, ids, decisions)
            continue
        got = getattr(type(impl), name)
        if not callable(got):
            problems.append(f"{name}: not callable")
            continue
        problems += [f"{name}: {p}" for p in _compatible(inspect.signature(member), inspect.signature(got))]
    assert problems == []


def test_the_check_can_fail():
    """A signature that renames, drops or adds a required parameter is caught."""
    def label_sample(self, sample_id, vals, *, seconds=None): ...
    def skip(self, sample_id, annotator): ...

    assert _compatible(inspect.signature(LabelingEngine.label_sample), inspect.signature(label_sample))
    assert _compatible(inspect.signature(LabelingEngine.skip), inspect.signature(skip))


def _probes(source: str) -> list[str]:
    """``x.store`` anywhere, and getattr/hasattr on a project, record or result, in ``source``."""
    found = []
    probed = {"project", "result", "point", "item", "ev", "event", "p", "cur", "current", "snapshot"}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            found.append(f"line {node.lineno}: .store")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr") and node.args):
            target = node.args[0]
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in probed:
                found.append(f"line {node.lineno}: {node.func.id}({name}, ...)")
    return found


def test_the_app_probes_no_project_and_never_reaches_into_its_store():
    """Typed against the protocol: no getattr/hasattr on a project, its records or results,
    and no ``.store``."""
    offenders = [f"{path.relative_to(APP)} {hit}" for path in sorted(APP.rglob("*.py"))
                 for hit in _probes(path.read_text())]
    assert offenders == []
    assert _probes("x = getattr(self.project, 'path', None)\ny = project.store.last_seq()") == [
        "line 1: getattr(project, ...)", "line 2: .store"], "the scan finds what it looks for"
