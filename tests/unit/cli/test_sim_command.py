"""``lumagate sim``'s options: one per ``SimConfig`` field, with ``SimConfig``'s own defaults.

The command writes its defaults out (so building the CLI loads no simulator); this is what
keeps them from drifting.
"""

from __future__ import annotations

import inspect
import typing

import pytest
import typer

from lumagate.cli.sim_command import SERVER_OPTIONS, _sim_config, sim
from lumagate.sim.config import SimConfig


def _options() -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(sim).parameters)


def test_every_sim_config_field_is_an_option_and_nothing_else() -> None:
    assert set(_options()) - SERVER_OPTIONS == set(SimConfig.model_fields)


@pytest.mark.parametrize("field", sorted(SimConfig.model_fields))
def test_an_option_default_is_the_config_default(field: str) -> None:
    assert _options()[field].default == SimConfig.model_fields[field].default


def test_the_options_build_the_config_and_leave_out_the_server_ones() -> None:
    options = {name: p.default for name, p in _options().items()}
    options.update(port=1234, max_concurrency=3, seed=7)
    config = _sim_config(options)
    assert config.max_concurrency == 3 and config.seed == 7
    assert config == SimConfig(max_concurrency=3, seed=7)


def test_an_invalid_option_is_a_usage_error() -> None:
    options = {name: p.default for name, p in _options().items()}
    options["error_rate"] = 1.5
    with pytest.raises(typer.BadParameter, match="error_rate"):
        _sim_config(options)


def test_help_groups_every_sim_option_in_a_panel() -> None:
    hints = typing.get_type_hints(sim, include_extras=True)
    for name in set(_options()) - SERVER_OPTIONS:
        option = hints[name].__metadata__[0]
        assert option.rich_help_panel, f"--{name.replace('_', '-')} is in no panel"
