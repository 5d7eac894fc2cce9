#!/usr/bin/python3
"""What an imbalanced-learn user sees: runs `ladle smote` on the breast cancer CSV and on .npy
files, then reads the outputs with pandas / numpy (not with ladle) and checks the class counts,
columns and dtypes. Usage: read_with_pandas.py LADLE_BINARY EXAMPLES_DATA_DIR"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

ladle, data = sys.argv[1], sys.argv[2]
src = os.path.join(data, "breast_cancer_imbalanced.csv")
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "balanced.csv")
    subprocess.run([ladle, "smote", src, "-o", out, "--seed", "1", "-q"], check=True)
    before, after = pd.read_csv(src), pd.read_csv(out)
    assert list(after.columns) == list(before.columns), after.columns
    assert after["malignant"].value_counts().to_dict() == {0: 357, 1: 357}, after["malignant"].value_counts()
    # The original rows come first, unchanged (same text -> same float).
    assert np.array_equal(after.iloc[: len(before)].to_numpy(), before.to_numpy())
    assert after.dtypes.tolist() == before.dtypes.tolist()

    out = os.path.join(tmp, "under.csv")
    subprocess.run([ladle, "smote", src, "-o", out, "--method", "random-under", "-q"], check=True)
    assert pd.read_csv(out)["malignant"].value_counts().to_dict() == {0: 45, 1: 45}

    # pandas hands out column-major blocks; ladle reads C order (and says so otherwise).
    X = np.ascontiguousarray(before.drop(columns="malignant").to_numpy(np.float32))
    y = before["malignant"].to_numpy(np.int64)
    np.save(os.path.join(tmp, "X.npy"), X)
    np.save(os.path.join(tmp, "y.npy"), y)
    subprocess.run([ladle, "smote", os.path.join(tmp, "X.npy"), "--labels", os.path.join(tmp, "y.npy"),
                    "-o", os.path.join(tmp, "Xb.npy"), "--strategy", "0.5", "-q"], check=True)
    Xb, yb = np.load(os.path.join(tmp, "Xb.npy")), np.load(os.path.join(tmp, "Xb.labels.npy"))
    assert Xb.dtype == np.float32 and yb.dtype == np.int64, (Xb.dtype, yb.dtype)
    assert Xb.shape == (357 + 178, 10), Xb.shape
    assert np.bincount(yb).tolist() == [357, 178], np.bincount(yb)
    assert np.array_equal(Xb[: len(X)], X)
print("pandas/numpy read ladle's outputs with the expected class counts")
