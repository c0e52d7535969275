import unittest

import recint


class ParamsTable(unittest.TestCase):
    def test_every_entry_has_all_fields(self):
        table = recint.params()
        self.assertGreater(len(table), 10)
        for entry in table:
            self.assertEqual(set(entry), {"key", "type", "default", "range", "help", "group"})
            self.assertIn(entry["type"], {"int", "float", "bool", "choice", "string"})
            self.assertTrue(entry["help"], entry["key"])
        keys = [e["key"] for e in table]
        self.assertEqual(len(keys), len(set(keys)), "keys repeat")

    def test_known_rows(self):
        table = {e["key"]: e for e in recint.params()}
        self.assertEqual(table["threads"]["type"], "int")
        self.assertEqual(table["threads"]["default"], "0")
        self.assertEqual(table["threads"]["group"], "run")
        self.assertEqual(table["duplicates"]["range"], "sum|last|max")
        self.assertEqual(recint.param_default("seed"), "42")
        self.assertEqual(recint.param_default("split"), "temporal:0.2")


class ConfigValues(unittest.TestCase):
    def test_python_values_become_library_text(self):
        cfg = recint.Config(threads=2, implicit=False, min_weight=4, duplicates="max")
        self.assertEqual(cfg.get("threads"), "2")
        self.assertEqual(cfg["implicit"], "false")
        self.assertEqual(cfg["min_weight"], "4")
        self.assertEqual(cfg["duplicates"], "max")
        self.assertTrue(cfg.is_set("threads"))
        self.assertFalse(cfg.is_set("seed"))
        self.assertEqual(cfg["seed"], "42")
        self.assertEqual(set(cfg.explicit()), {"threads", "implicit", "min_weight", "duplicates"})

    def test_float_text_round_trips(self):
        cfg = recint.Config(syn_noise=0.05, min_weight=float("-inf"))
        self.assertEqual(float(cfg["syn_noise"]), 0.05)
        self.assertEqual(cfg["min_weight"], "-inf")

    def test_columns_from_a_tuple(self):
        cfg = recint.Config(columns=("user", "item", "skip", "timestamp"))
        self.assertEqual(cfg["columns"], "user,item,skip,timestamp")

    def test_copy_is_deep_and_set_pair_works(self):
        a = recint.Config(threads=3)
        b = a.copy(seed=9)
        b.set_pair("threads=5")
        self.assertEqual(a["threads"], "3")
        self.assertEqual(b["threads"], "5")
        self.assertEqual(b["seed"], "9")
        self.assertFalse(a.is_set("seed"))


class ConfigErrors(unittest.TestCase):
    def test_unknown_key_carries_the_c_suggestion(self):
        with self.assertRaises(recint.NotFoundError) as cm:
            recint.Config(thread=2)
        err = cm.exception
        self.assertIsInstance(err, KeyError)
        self.assertEqual(err.code, -9)
        self.assertIn("unknown parameter 'thread'", str(err))
        self.assertIn("did you mean", str(err))
        self.assertIn("threads", str(err))
        self.assertTrue(err.code_name.startswith("RECINT_ENOTFOUND"))

    def test_value_outside_bounds(self):
        with self.assertRaises(recint.InvalidArgumentError) as cm:
            recint.Config(threads=-1)
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(str(cm.exception), "parameter threads: -1 is outside [0, 1024]")

    def test_value_not_among_choices(self):
        with self.assertRaises(ValueError) as cm:
            recint.Config(duplicates="mean")
        self.assertIn("'mean' is not one of sum|last|max", str(cm.exception))

    def test_wrong_value_type_in_text(self):
        with self.assertRaises(ValueError) as cm:
            recint.Config(threads="many")
        self.assertIn("parameter threads: 'many' is not an integer", str(cm.exception))
        with self.assertRaises(ValueError) as cm:
            recint.Config(syn_noise=float("nan"))
        self.assertIn("syn_noise", str(cm.exception))

    def test_python_values_without_text_form(self):
        with self.assertRaises(TypeError):
            recint.Config(threads={"a": 1})

    def test_keyword_arguments_of_other_calls_are_validated_by_c(self):
        with self.assertRaises(recint.NotFoundError) as cm:
            recint.Dataset(duplicats="sum")
        self.assertIn("did you mean: duplicates", str(cm.exception))
        with self.assertRaises(recint.NotFoundError):
            recint.Model("pop", thredas=1)
        with self.assertRaises(recint.InvalidArgumentError):
            recint.Dataset.synthetic(syn_zipf=9)
