import unittest

from calc import arith


class ArithTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(arith.add(2, 3), 5)

    def test_mean(self):
        self.assertEqual(arith.mean([1, 2, 3]), 2)

    def test_mean_of_nothing_raises(self):
        with self.assertRaises(ValueError):
            arith.mean([])


if __name__ == "__main__":
    unittest.main()
