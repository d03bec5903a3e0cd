"""``python -m bench`` (``make bench``): every benchmark against its baseline, one table
(see :mod:`bench.suite`)."""

from bench import suite

if __name__ == "__main__":
    suite.main()
