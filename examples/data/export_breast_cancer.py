#!/usr/bin/python3
"""Writes breast_cancer_imbalanced.csv for examples/smote_breast_cancer.cpp.

Source: scikit-learn's copy of the Wisconsin Diagnostic Breast Cancer data
(sklearn.datasets.load_breast_cancer: 569 rows, 212 malignant, 357 benign). Kept: the ten
"mean ..." features, all benign rows, and a fixed random 45 of the malignant rows, so malignant
(label 1, the positive class) is ~11% of the rows. Values are written with 5 significant digits.
"""
import os

import numpy as np
from sklearn.datasets import load_breast_cancer

data = load_breast_cancer()
X = data.data[:, :10]
malignant = data.target == 0  # sklearn: 0 = malignant, 1 = benign
rng = np.random.RandomState(0)
keep_mal = rng.choice(np.flatnonzero(malignant), size=45, replace=False)
rows = np.sort(np.concatenate([np.flatnonzero(~malignant), keep_mal]))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "breast_cancer_imbalanced.csv")
with open(out, "w") as f:
    names = [n.replace(" ", "_") for n in data.feature_names[:10]]
    f.write(",".join(names + ["malignant"]) + "\n")
    for r in rows:
        f.write(",".join("%.5g" % v for v in X[r]) + f",{int(malignant[r])}\n")
print(out, len(rows), "rows,", int(malignant[rows].sum()), "malignant")
