"""power.py: the exact binomial tail and the minimum detectable regression, with values worked
out by hand (the tail of Binomial(n, 1/2) is a sum of binomial coefficients over 2**n)."""

from fractions import Fraction
from math import comb

import pytest

from pytest_supportbot_evals.verdict._power import (
    Detectable,
    binomial_tail,
    flips_needed,
    min_flips,
    p_value,
)

# -- the exact binomial tail -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (0, 5, 1.0),  # P(X >= 0) is certain
        (6, 5, 0.0),  # more successes than trials
        (5, 5, 1 / 32),
        (4, 4, 1 / 16),
        (3, 3, 1 / 8),
        (4, 5, 6 / 32),  # C(5,4) + C(5,5) = 5 + 1
        (7, 8, 9 / 256),  # C(8,7) + C(8,8) = 8 + 1
        (8, 10, 56 / 1024),  # 45 + 10 + 1
        (9, 11, 67 / 2048),  # 55 + 11 + 1
        (1, 1, 0.5),
    ],
)
def test_binomial_tail_at_one_half_matches_hand_computed_values(k, n, expected):
    assert binomial_tail(k, n) == pytest.approx(expected, abs=1e-15)


def test_binomial_tail_with_another_p_matches_the_definition():
    # P(X >= 2 | n=3, p=0.2) = 3 * 0.04 * 0.8 + 0.008 = 0.104
    assert binomial_tail(2, 3, 0.2) == pytest.approx(0.104)


def test_binomial_tail_is_exact_for_large_n():
    n, k = 200, 120
    exact = Fraction(sum(comb(n, i) for i in range(k, n + 1)), 2**n)
    assert binomial_tail(k, n) == pytest.approx(float(exact), rel=1e-12)


def test_the_one_sided_mcnemar_p_value_is_the_tail_of_the_discordant_pairs():
    assert p_value(5, 0) == pytest.approx(0.03125)
    assert p_value(4, 0) == pytest.approx(0.0625)
    assert p_value(2, 2) == pytest.approx(11 / 16)  # (6 + 4 + 1) / 16
    assert p_value(0, 3) == 1.0


# -- how many flips a regression needs -------------------------------------------------------


def test_five_flips_are_needed_at_alpha_five_percent():
    # 0.5**4 = 0.0625 is not below 0.05; 0.5**5 = 0.03125 is
    assert min_flips(0.05) == 5
    assert min_flips(0.01) == 7  # 0.5**6 = 0.0156, 0.5**7 = 0.0078
    assert min_flips(0.1) == 4  # 0.5**3 = 0.125, 0.5**4 = 0.0625


@pytest.mark.parametrize(("better", "needed"), [(0, 5), (1, 7), (2, 9), (3, 10), (4, 12)])
def test_improvements_alongside_raise_the_flips_a_regression_needs(better, needed):
    # b=1: 6 of 7 gives 8/128 = 0.0625, 7 of 8 gives 9/256 = 0.035
    # b=3: 9 of 12 gives 299/4096 = 0.073, 10 of 13 gives 378/8192 = 0.046
    assert flips_needed(0.05, better) == needed
    assert p_value(needed, better) < 0.05 <= p_value(needed - 1, better)


# -- the minimum detectable regression -------------------------------------------------------


@pytest.mark.parametrize("paired", [1, 2, 3, 4])
def test_fewer_than_five_paired_goldens_cannot_detect_even_a_total_breakage(paired):
    mdr = Detectable(paired, paired, 0.05)
    assert mdr.goldens is None and mdr.pass_rate is None
    assert not mdr.total_breakage_detectable
    assert mdr.cell() == "none"
    assert mdr.to_dict()["total_breakage_detectable"] is False


def test_five_paired_goldens_detect_a_total_breakage_and_nothing_less():
    mdr = Detectable(5, 5, 0.05)
    assert mdr.goldens == 5 and mdr.pass_rate == 1.0
    assert mdr.cell() == "5 (100.0%)"


@pytest.mark.parametrize(
    ("paired", "rate"),
    [(10, 0.5), (14, 5 / 14), (24, 5 / 24), (48, 5 / 48), (50, 0.1)],
)
def test_with_more_goldens_five_flips_are_a_smaller_drop(paired, rate):
    mdr = Detectable(paired, paired, 0.05)
    assert mdr.goldens == 5
    assert mdr.pass_rate == pytest.approx(rate)


def test_only_goldens_that_passed_in_the_baseline_can_flip():
    # 48 paired, but only 4 passed in the baseline: all four failing is p = 0.0625
    mdr = Detectable(48, 4, 0.05)
    assert mdr.goldens is None
    assert mdr.describe() == "48 paired, 4 passing in the baseline"
    assert Detectable(48, 31, 0.05).cell() == "5 (10.4%)"


def test_nothing_paired_shows_no_figure():
    assert Detectable(0, 0, 0.05).cell() == "-"
