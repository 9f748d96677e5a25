"""scikit-learn's own estimator checks, run on every recommender of the package."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from _estimators import NOT_APPLICABLE_CHECKS, fast_estimators


def _expected_failures(estimator):
    return NOT_APPLICABLE_CHECKS


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(fast_estimators(), expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
