"""The error-code registry is the one definition of every code: documented, never shrunk, used everywhere."""
from __future__ import annotations

import ast
import importlib
import pathlib
import pkgutil
import re

import pytest

from protocol.codes import ErrorCode, markdown
from protocol.errors import HealthSyncError

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "edge", "sync_server", "exporters", "models")
CODE_SHAPE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
# The codes published so far. A code may be added to the registry, never taken away or renamed: devices in the
# field and scripts match on them. Extend this list when you add a code; never delete from it.
PUBLISHED = """
HEALTHSYNC_ERROR INTERNAL_ERROR VALIDATION_FAILED NOT_FOUND METHOD_NOT_ALLOWED BAD_INPUT PAYLOAD_TOO_LARGE
RATE_LIMITED MISSING_DEPENDENCY MODEL_ERROR DUPLICATE AUTH_FAILED AUTH_MISSING AUTH_EXPIRED AUTH_BAD_SIGNATURE
AUTH_INVALID FORBIDDEN STORE_LOCKED STORE_CORRUPT SCHEMA_TOO_NEW BACKUP_FAILED DATABASE_UNAVAILABLE MIGRATION_FAILED
SYNC_UNAVAILABLE CHANGESET_INVALID CHANGESET_MALFORMED CHANGESET_TOO_LARGE CHANGESET_EMPTY CHANGESET_TAMPERED
CHANGESET_BAD_SIGNATURE CHANGESET_FORMAT_TOO_NEW CHANGESET_SCHEMA_TOO_NEW CHANGESET_WRONG_USER DEVICE_UNKNOWN
DEVICE_REVOKED DEVICE_EXISTS SYNC_REJECTED_RLS SYNC_REJECTED_DB CLOCK_SKEW UNKNOWN_TABLE UNKNOWN_COLUMN
READ_ONLY_TABLE APPEND_ONLY ILLEGAL_TRANSITION DEVICE_PROOF_INVALID DEVICE_PROOF_MISSING DEVICE_PROOF_STALE
DEVICE_BAD_SIGNATURE STORE_SHREDDED
""".split()


def _sources():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def test_docs_list_is_generated_from_the_registry():
    assert (ROOT / "docs" / "errors.md").read_text() == markdown(), "run: python -m protocol.codes > docs/errors.md"


def test_every_code_has_a_sentence_and_its_own_name():
    for code in ErrorCode:
        assert code.value == code.name and CODE_SHAPE.match(code.value)
        assert len(code.sentence) > 15 and code.sentence.endswith(".")


def test_published_codes_are_never_removed():
    assert set(PUBLISHED) <= {c.value for c in ErrorCode}


def _all_error_classes():
    for package in PACKAGES:
        mod = importlib.import_module(package)
        for info in pkgutil.walk_packages(mod.__path__, package + "."):
            try:
                importlib.import_module(info.name)
            except ImportError as exc:  # an optional extra that is not installed
                pytest.skip(f"{info.name}: {exc}")
    seen, todo = set(), [HealthSyncError]
    while todo:
        cls = todo.pop()
        seen.add(cls)
        todo.extend(c for c in cls.__subclasses__() if c not in seen)
    return seen


def test_every_error_class_carries_a_registered_code():
    for cls in _all_error_classes():
        code = cls.__dict__.get("code", cls.code)
        if isinstance(code, property):
            continue  # RemoteError: the server's code, translated at the client's boundary
        assert isinstance(code, ErrorCode), f"{cls.__qualname__}.code = {code!r} is not from protocol.codes"


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _literal_codes(tree: ast.AST):
    """String literals used as codes: `code=` keywords, `{"code": …}` values, the code argument of rejections."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code" and _is_str(node.value):
            yield node.value
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "code" and _is_str(value):
                    yield value
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in {"Rejected", "reject", "_forbidden", "_reject"}:
                yield from (a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                            and CODE_SHAPE.match(a.value))


def test_code_literals_in_the_source_are_registered():
    registered = {c.value for c in ErrorCode}
    unknown = {f"{p.relative_to(ROOT)}:{c.lineno} {c.value}" for p in _sources()
               for c in _literal_codes(ast.parse(p.read_text())) if c.value not in registered}
    assert unknown == set()


def _is_registry_lookup(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ErrorCode"


def test_an_instance_code_is_only_ever_a_registry_lookup():
    """A class has one code; where an error carries a code chosen at run time (a changeset refusal, a receipt's
    rejection) it is looked up in the registry, so an unregistered code raises instead of reaching the wire."""
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else []
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(isinstance(t, ast.Attribute) and t.attr == "code" for t in flat) and \
                    not _is_registry_lookup(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
