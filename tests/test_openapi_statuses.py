"""Every status an /api/ handler can answer is in the OpenAPI document (defect 7).

What a handler can raise is read from its source: every ``ApiError(<status>, ...)`` and every
domain error (``Invalid``, ``NotFound``, ...) raised in the view or in any eduops function it calls,
followed through the call graph; ``require`` adds 401 and 403. Schemathesis (tests/reliability)
checks the same from the outside, with real requests.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
import types

from eduops import auth, errors, openapi
from eduops import config as configmod
from eduops.app import create_app

DOMAIN = {cls.__name__: cls.status for cls in (errors.Invalid, errors.Forbidden, errors.NotFound, errors.Conflict)}


def _callee(func: types.FunctionType, node: ast.expr):
    """The eduops function a call's name refers to, through the caller's globals and closure."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id in func.__code__.co_varnames:
        return None  # a parameter or local (say, a function passed in) is not the global of that name
    scope = {**func.__globals__, **dict(zip(func.__code__.co_freevars,
                                            (c.cell_contents for c in func.__closure__ or ())))}
    target = scope.get(node.id)
    for name in reversed(names):
        try:
            target = getattr(target, name, None)
        except RuntimeError:  # request, g and current_app are proxies that need a request
            return None
    target = inspect.unwrap(target) if callable(target) else None
    if isinstance(target, types.MethodType):
        target = target.__func__
    module = getattr(target, "__module__", "") or ""
    return target if isinstance(target, types.FunctionType) and module.startswith("eduops") else None


def raisable(func: types.FunctionType, seen: set | None = None) -> set[int]:
    """Statuses ``func`` or anything it calls in eduops can raise."""
    seen = set() if seen is None else seen
    if func in seen:
        return set()
    seen.add(func)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError):
        return set()
    found: set[int] = set()
    body = tree.body[0].body  # not the decorators: require() is accounted for by the caller
    for node in (n for statement in body for n in ast.walk(statement)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "ApiError" and node.args and isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
        elif name in DOMAIN:
            found.add(DOMAIN[name])
        elif (callee := _callee(func, node.func)) is not None:
            found |= raisable(callee, seen)
    return found


def test_every_status_a_handler_can_raise_is_documented():
    app = create_app(configmod.load(env={}, overrides={"secret_key": "collection-only"}))
    doc = openapi.document(app)
    missing = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        roles = auth.required_roles(view)
        # require() answers 401 to strangers, and 403 to roles it does not admit, if there are any
        can = raisable(inspect.unwrap(view)) | ({401} if roles else set()) | \
            ({403} if roles and roles != set(auth.ROLES) else set())
        path = openapi.PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            documented = {int(s) for s in doc["paths"][path][method.lower()]["responses"]}
            if can - documented:
                missing[f"{method} {rule.rule}"] = sorted(can - documented)
    assert missing == {}, missing


def test_the_analysis_follows_calls_into_other_modules():
    from eduops.fleet import api

    # ack raises nothing itself: 404 and 409 come from commands.acknowledge, 401 from _identity
    assert raisable(inspect.unwrap(api.ack)) >= {400, 401, 404, 409}
