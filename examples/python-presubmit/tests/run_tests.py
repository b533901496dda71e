"""Runs the unittest suite under tests/ and writes the results as JUnit XML.

Usage: python3 tests/run_tests.py JUNIT_XML
Exits 1 when a test fails or errors, so the workflow step (and so the run) fails.
"""
import os
import sys
import time
import unittest
import xml.etree.ElementTree as ET


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []
        self._started = 0.0

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _record(self, test, kind=None, detail=None):
        self.cases.append((test, time.monotonic() - self._started, kind, detail))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def main(junit_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    suite = unittest.defaultTestLoader.discover(os.path.join(root, "tests"), top_level_dir=root)
    runner = unittest.TextTestRunner(resultclass=RecordingResult, verbosity=2)
    result = runner.run(suite)

    failures = sum(1 for c in result.cases if c[2] == "failure")
    errors = sum(1 for c in result.cases if c[2] == "error")
    skipped = sum(1 for c in result.cases if c[2] == "skipped")
    suite_element = ET.Element("testsuite", name="unit-tests", tests=str(len(result.cases)),
                               failures=str(failures), errors=str(errors), skipped=str(skipped),
                               time="%.3f" % sum(c[1] for c in result.cases))
    for test, seconds, kind, detail in result.cases:
        case = ET.SubElement(suite_element, "testcase", classname=type(test).__module__ + "." + type(test).__name__,
                             name=test._testMethodName, time="%.3f" % seconds)
        if kind is not None:
            child = ET.SubElement(case, kind, message=(detail or "").strip().splitlines()[-1] if detail else kind)
            child.text = detail
    os.makedirs(os.path.dirname(os.path.abspath(junit_path)), exist_ok=True)
    ET.ElementTree(suite_element).write(junit_path, encoding="utf-8", xml_declaration=True)
    print("wrote %s: %d tests, %d failures, %d errors" % (junit_path, len(result.cases), failures, errors))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
