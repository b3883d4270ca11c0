"""Rules written in the config (the ``alerts`` and ``actions`` lists): each a mapping whose ``name`` picks a kind
of rule, checked and turned into a typed rule, with errors that name the rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["parse_rules"]


def parse_rules(rules: Sequence[Mapping[str, Any] | BaseModel], kinds: Mapping[str, type[BaseModel]],
                error: type[Exception], what: str, base: type[BaseModel]) -> tuple:
    """Each mapping of ``rules`` as the model of ``kinds[mapping["name"]]``; already parsed rules (instances of
    ``base``) pass through.

    Raises ``error`` naming the rule as ``<what> #<position> (<name>)``: not a mapping, unknown name, unknown
    field (with the allowed ones), or a value the kind refuses (missing ``severity`` / ``priority``, a share
    above 1 ...).
    """
    parsed = []
    required = sorted(n for n, f in base.model_fields.items() if f.is_required() and n != "name")
    for i, rule in enumerate(rules, start=1):
        if isinstance(rule, base):
            parsed.append(rule)
            continue
        if not isinstance(rule, Mapping):
            raise error(f"{what} #{i}: expected a mapping with 'name' and {', '.join(map(repr, required))}, "
                        f"got {rule!r}")
        name = rule.get("name")
        if name not in kinds:
            raise error(f"{what} #{i}: unknown rule name {name!r}; known: {', '.join(kinds)}")
        kind = kinds[name]
        allowed = {f.alias or n for n, f in kind.model_fields.items()}
        unknown = sorted(set(rule) - allowed)
        if unknown:
            raise error(f"{what} #{i} ({name}): unknown field(s) {unknown}; allowed: {sorted(allowed)}")
        try:
            parsed.append(kind.model_validate(dict(rule)))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}"
                                 for e in exc.errors(include_url=False))
            raise error(f"{what} #{i} ({name}): {problems}") from None
    return tuple(parsed)
