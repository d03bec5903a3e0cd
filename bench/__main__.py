"""``python -m bench`` (``make bench``): run every benchmark and print the results."""

from bench import billing

if __name__ == "__main__":
    billing.main()
