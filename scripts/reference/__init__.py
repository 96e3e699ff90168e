"""The documentation's reference, written from the code so that it cannot drift from it.

python -m scripts.reference          # rewrite every generated page
python -m scripts.reference --check  # exit 1 if one is stale (the tests run this)
"""
