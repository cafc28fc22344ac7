"""`@EmulatorMock()` on a class decorates each test method, as `unittest.mock.patch` does, for
`unittest.TestCase` subclasses and plain pytest classes; no test is ever lost."""

from __future__ import annotations

import io
import unittest

import pytest
import together  # noqa: F401  imported once here, so in-process sub-runs do not import it again
from together_eval_emulator.faces._mock import EmulatorMock
from together_eval_emulator.http._core import Emulator

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")

UNITTEST_CASES = """
import unittest

import httpx
from together import Together
from together_eval_emulator import EmulatorMock


class Mixin:
    def test_inherited(self, together_emulator):
        assert httpx.get(together_emulator.url + "/_emulator/health").status_code == 200


@EmulatorMock(seed=7, patch_env=True)
class GradingTest(Mixin, unittest.TestCase):
    def setUp(self):
        self.prefix = "eval"

    def test_sdk(self):
        assert Together().evals.list() == []

    def test_fresh_emulator_each(self, together_emulator):
        assert together_emulator.emulator.config.seed == 7
        Together().evals.list()
        assert len(together_emulator.journal) == 1

    @staticmethod
    def test_static():
        assert httpx.get("http://together-emulator.test/_emulator/health").status_code == 200


@EmulatorMock()
class AsyncGradingTest(unittest.IsolatedAsyncioTestCase):
    async def test_async(self, together_emulator):
        async with httpx.AsyncClient() as client:
            assert (await client.get(together_emulator.url + "/_emulator/health")).status_code == 200
"""


def test_unittest_runs_every_decorated_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_cases=UNITTEST_CASES)
    pytester.syspathinsert()
    loader = unittest.defaultTestLoader
    module = __import__("test_cases")
    suite = loader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
    assert (result.testsRun, result.failures, result.errors) == (5, [], [])


def test_pytest_runs_decorated_unittest_and_plain_classes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_unittest_cases=UNITTEST_CASES,
        test_plain_class="""
import httpx
import pytest
from together import Together
from together_eval_emulator import EmulatorMock


@pytest.fixture
def path():
    return "/v1/evaluation"


@EmulatorMock(patch_env=True)
class TestGrading:
    def test_with_fixture(self, path, together_emulator):
        headers = {"authorization": f"Bearer {together_emulator.api_key}"}
        assert httpx.get(together_emulator.url + path, headers=headers).json() == []
        assert len(together_emulator.journal) == 1

    @pytest.mark.parametrize("case", range(2))
    def test_parametrized(self, case):
        assert Together().evals.list() == []

    def helper(self):
        raise AssertionError("not a test: left alone")
""",
    )
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=8)


def test_a_class_without_tests_is_refused() -> None:
    with pytest.raises(TypeError, match="found no test methods .* decorate the test functions themselves"):

        @EmulatorMock()
        class Helpers:
            def build(self) -> None: ...


def test_without_parentheses_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match=r"write @EmulatorMock\(\) with parentheses"):
        EmulatorMock(type("TestX", (), {}))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not both"):
        EmulatorMock(Emulator(), seed=3)
