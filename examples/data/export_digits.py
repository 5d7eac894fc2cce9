#!/usr/bin/python3
"""Writes examples/data/digits.csv from scikit-learn's bundled digits data set (1797 8x8 images,
pixel values 0..16). One row per image: label, then the 64 pixels. Used by
examples/quantize_digits.cpp. Run: /usr/bin/python3 examples/data/export_digits.py"""
import os
from sklearn.datasets import load_digits

d = load_digits()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.csv")
with open(path, "w") as f:
    for x, y in zip(d.data.astype(int), d.target):
        f.write(str(int(y)) + "," + ",".join(str(int(v)) for v in x) + "\n")
print("wrote", path, len(d.target), "rows")
