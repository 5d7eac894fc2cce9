#!/usr/bin/python3
"""Writes diabetes.csv for examples/quantile_diabetes.cpp.

Source: scikit-learn's copy of the diabetes data of Efron, Hastie, Johnstone and Tibshirani,
"Least Angle Regression", Annals of Statistics 32(2), 2004 (sklearn.datasets.load_diabetes with
scaled=False: 442 patients, ten baseline variables -- age, sex, body mass index, average blood
pressure and six blood serum measurements -- and a quantitative measure of disease progression
one year later). The data ship with scikit-learn (BSD-3-Clause licence) and are distributed
publicly by the authors at https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html.
Values are written as scikit-learn stores them (at most 5 significant digits).
"""
import os

from sklearn.datasets import load_diabetes

data = load_diabetes(scaled=False)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diabetes.csv")
with open(out, "w") as f:
    f.write(",".join(list(data.feature_names) + ["progression"]) + "\n")
    for row, target in zip(data.data, data.target):
        f.write(",".join("%.5g" % v for v in row) + ",%.5g\n" % target)
print(out, data.data.shape[0], "rows")
