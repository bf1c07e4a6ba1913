"""Kernel profiles (engine/kernels.py): the config key, the state image, the
branches each profile takes (docs/kernels.md)."""
import typing

import pytest

from engine import ConfigError, Simulator
from engine.kernels import DEFAULT_KERNEL, KERNELS


def test_kernel_profile_defaults_to_the_newest_and_rejects_unknown_ones():
    assert Simulator({"ram_pages": 256}).config["kernel"] == DEFAULT_KERNEL == "7.3"
    with pytest.raises(ConfigError, match=r"^kernel: unknown kernel profile '5\.10'"):
        Simulator({"ram_pages": 256, "kernel": "5.10"})


def test_state_image_refuses_to_load_into_another_kernel_profile():
    a = Simulator({"ram_pages": 256, "kernel": "6.1"})
    b = Simulator({"ram_pages": 256, "kernel": "7.3"})
    with pytest.raises(ValueError, match="different configuration"):
        b.load_state(a.state_bytes())


def test_recipe_kernel_choices_are_the_engine_profiles():
    from backend.recipes import PolicySpec
    assert typing.get_args(PolicySpec.model_fields["kernel"].annotation) == tuple(KERNELS)
