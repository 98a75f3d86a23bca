"""Property-based tests (issue 9): generated Params overrides, YAML files, actions and
PettingZoo agent dicts either work with finite outputs or raise ValueError/TypeError naming
what is wrong (see ``agents.fuzz`` for the generators and the exact property).

Bounded (``max_examples`` small, no deadline) so that this folder runs in well under 30 s;
``isac fuzz --budget-s N`` runs the same generators for longer.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import fuzz
from isac_envs import SYSTEMS

PZ_SYSTEMS = [s for s, (_, _, pz) in SYSTEMS.items() if pz is not None]

# derandomized: the suite is the same every run (CI cannot flake); `isac fuzz --budget-s N` explores
BOUNDED = settings(max_examples=20, deadline=None, database=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _assert_property(case: fuzz.Case) -> None:
    out = fuzz.run_case(case, timeout_s=20.0)
    assert out.status != "defect", f"[{out.error}] {out.message}\n  {case.describe()}"


@pytest.mark.parametrize("system", list(SYSTEMS))
@BOUNDED
@given(data=st.data())
def test_params_overrides(system, data):
    _assert_property(fuzz.gen_params(fuzz.DrawChooser(data), system))


@pytest.mark.parametrize("system", list(SYSTEMS))
@BOUNDED
@given(data=st.data())
def test_yaml_configs(system, data):
    _assert_property(fuzz.gen_yaml(fuzz.DrawChooser(data), system))


@pytest.mark.parametrize("system", list(SYSTEMS))
@BOUNDED
@given(data=st.data())
def test_actions(system, data):
    _assert_property(fuzz.gen_action(fuzz.DrawChooser(data), system, fuzz.action_shape(system)))


@pytest.mark.parametrize("system", PZ_SYSTEMS)
@BOUNDED
@given(data=st.data())
def test_agent_dicts(system, data):
    _assert_property(fuzz.gen_agents(fuzz.DrawChooser(data), system, fuzz.agent_names(system)))
