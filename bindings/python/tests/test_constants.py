"""recint/_constants.py against the loaded library. The meson test
`python-constants` proves the file is what the header says; these tests prove
that what the generator read means what the library does with it, through the
calls that name a code or an index."""

import unittest

import recint
from recint import _constants, _explore, _lib
from recint._lib import lib


def named(prefix, skip=()):
    return {name: value for name, value in vars(_constants).items()
            if name.startswith(prefix) and not name.startswith(tuple(skip))}


class StatusCodes(unittest.TestCase):
    def test_every_code_is_the_one_strerror_names(self):
        # Status codes are the negative E* macros, written "(-N)" in the header: all
        # nine of 0.1 must survive the generator's parsing.
        codes = {name: value for name, value in named("E").items() if value < 0}
        self.assertGreaterEqual(len(codes), 9, sorted(codes))
        codes["OK"] = _constants.OK
        for name, value in codes.items():
            self.assertTrue(lib.recint_strerror(value).decode().startswith("RECINT_%s:" % name),
                            (name, value, lib.recint_strerror(value)))

    def test_error_classes_carry_the_generated_codes(self):
        self.assertEqual(recint.InvalidArgumentError.code, _constants.EINVAL)
        self.assertEqual(recint.NotFoundError.code, _constants.ENOTFOUND)
        self.assertEqual(_lib.EUNSUPPORTED, _constants.EUNSUPPORTED)


class Indices(unittest.TestCase):
    def test_metric_indices_are_the_ones_metric_name_names(self):
        metrics = named("METRIC_", skip=("METRIC_COUNT",))
        self.assertEqual(sorted(metrics.values()), list(range(_constants.METRIC_COUNT)))
        for name, value in metrics.items():
            self.assertEqual(lib.recint_metric_name(value).decode(), name[len("METRIC_"):].lower())
        self.assertIsNone(lib.recint_metric_name(_constants.METRIC_COUNT))

    def test_param_fields_end_where_describe_does(self):
        last = max(named("PARAM_").values())
        self.assertIsNotNone(lib.recint_config_describe(0, last))
        self.assertIsNone(lib.recint_config_describe(0, last + 1))
        self.assertEqual(lib.recint_config_describe(0, _constants.PARAM_KEY).decode(),
                         recint.params()[0]["key"])

    def test_explorer_tuples_follow_the_header(self):
        self.assertEqual(len(_explore.SIM_KEYS), _constants.SIM_COUNT)
        self.assertEqual(_explore.SIM_KEYS[_constants.SIM_REWARD], "cumulative_reward")
        self.assertEqual(_explore.ESTIMATORS,
                         {"ips": _constants.OPE_IPS, "snips": _constants.OPE_SNIPS,
                          "dr": _constants.OPE_DR})

    def test_abi_major_is_the_headers(self):
        self.assertEqual(recint.ABI_MAJOR, _constants.VERSION_MAJOR)
        self.assertEqual(lib.recint_version_number() // 10000, _constants.VERSION_MAJOR)


if __name__ == "__main__":
    unittest.main()
