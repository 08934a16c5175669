"""Workflow effects as data: every named effect is registered, and the code that applies a
transition names no action of the workflow (the mapping is configuration)."""

from __future__ import annotations

import ast
import inspect

from hayu import transitions
from hayu.effects import EFFECTS
from hayu.workflow import DEFAULT_ACTION_EFFECTS, DEFAULT_PERMIT_WORKFLOW, EFFECT_NAMES


def test_every_effect_name_has_one_registered_effect():
    assert set(EFFECTS) == EFFECT_NAMES
    for name, effect in EFFECTS.items():
        assert (effect.check is None) != (effect.apply is None), name
    named = {e for effects in DEFAULT_ACTION_EFFECTS.values() for e in effects}
    assert named <= EFFECT_NAMES


def test_applying_a_transition_names_no_action():
    actions = {a.name for a in DEFAULT_PERMIT_WORKFLOW.actions}
    literals = {
        node.value
        for node in ast.walk(ast.parse(inspect.getsource(transitions)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not (actions & literals), sorted(actions & literals)
