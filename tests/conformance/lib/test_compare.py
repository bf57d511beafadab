#!/usr/bin/python3
"""Checks compare.py's verdicts on small made-up results.

Run: /usr/bin/python3 tests/conformance/lib/test_compare.py
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "compare.py")

A = "tempest.api.identity.v3.test_a.T.test_one"
B = "tempest.api.identity.v3.test_a.T.test_two"
C = "tempest.api.identity.v3.test_b.T.test_three"
REQ = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.required = self.write("required.txt", f"""\
            # header
            {REQ} identity identity-v3-tokens-create -
            tempest.api.object_storage.test_x.X.test_y object objectstore-x -
            """)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return path

    def details(self, rows):
        return self.write("details.tsv", "".join(
            f"{t}\t{s}\t{r}\n" for t, s, r in rows))

    def run_compare(self, details, expected, *extra):
        proc = subprocess.run(
            [sys.executable, COMPARE, "--details", details,
             "--expected", f"tempest.api.identity.={expected}",
             "--required", self.required, "--components", "identity", *extra],
            capture_output=True, text=True)
        return proc.returncode, proc.stdout + proc.stderr

    def test_all_expected_outcomes_pass_the_run(self):
        det = self.details([(A, "pass", ""), (B, "fail", "boom"),
                            (REQ, "pass", "")])
        exp = self.write("exp.txt", f"""\
            {A} pass
            {B} fail  # not implemented
            {REQ} pass
            """)
        rc, out = self.run_compare(det, exp)
        self.assertEqual(rc, 0, out)
        self.assertIn("conformance: 2 passed, 1 failed, 0 skipped", out)
        self.assertIn("1 of 1 passed", out)

    def test_expected_pass_that_fails_fails_the_run(self):
        det = self.details([(A, "fail", "boom"), (REQ, "pass", "")])
        exp = self.write("exp.txt", f"{A} pass\n{REQ} pass\n")
        rc, out = self.run_compare(det, exp)
        self.assertEqual(rc, 1, out)
        self.assertIn("REGRESSIONS", out)

    def test_expected_pass_missing_from_run_fails_the_run(self):
        det = self.details([(REQ, "pass", "")])
        exp = self.write("exp.txt", f"{A} pass\n{REQ} pass\n")
        rc, out = self.run_compare(det, exp)
        self.assertEqual(rc, 1, out)
        self.assertIn("missing from this run", out)

    def test_newly_passing_test_is_reported_but_does_not_fail(self):
        det = self.details([(A, "pass", ""), (REQ, "pass", "")])
        exp = self.write("exp.txt", f"{A} skip  # later\n{REQ} pass\n")
        rc, out = self.run_compare(det, exp)
        self.assertEqual(rc, 0, out)
        self.assertIn("Newly passing", out)

    def test_failing_required_test_fails_even_when_expected(self):
        det = self.details([(REQ, "fail", "401")])
        exp = self.write("exp.txt", f"{REQ} fail  # known\n")
        rc, out = self.run_compare(det, exp)
        self.assertEqual(rc, 1, out)
        self.assertIn("interop required", out)

    def test_regex_limits_expectations_and_required_tests(self):
        det = self.details([(C, "pass", "")])
        exp = self.write("exp.txt", f"{A} pass\n{C} pass\n{REQ} pass\n")
        rc, out = self.run_compare(det, exp, "--regex", r"test_b\.")
        self.assertEqual(rc, 0, out)
        self.assertIn("0 of 0 passed", out)

    def test_fail_without_reason_is_rejected(self):
        det = self.details([(A, "fail", "x")])
        exp = self.write("exp.txt", f"{A} fail\n")
        rc, out = self.run_compare(det, exp)
        self.assertEqual(rc, 2, out)
        self.assertIn("needs a `# reason`", out)

    def test_update_keeps_header_and_reasons_of_unchanged_tests(self):
        det = self.details([(A, "skip", "new skip text"), (B, "fail", "boom"),
                            (C, "pass", ""), (REQ, "pass", "")])
        exp = self.write("exp.txt", f"""\
            # my header
            {A} skip  # explained by a human
            {B} pass
            """)
        rc, out = self.run_compare(det, exp, "--update-expected")
        self.assertEqual(rc, 0, out)
        with open(exp, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, [
            "# my header",
            f"{A} skip  # explained by a human",
            f"{B} fail  # boom",
            f"{C} pass",
            f"{REQ} pass",
        ])


if __name__ == "__main__":
    unittest.main()
