#!/usr/bin/env python3
"""The scikit-learn comparison of docs/results.md ("Tables"): a default pipeline on the same files and the same
splits as `backprop train --data FILE --label-column NAME --test-fraction 0.3 --seed S`.

The split is backprop's (DataSplit.StratifiedIndices): SplitMix64 seeded by S, Fisher-Yates from the last element
down, one stream over the classes in class order (ordinal), round(n x 0.3) half away from zero per class to the
test side (at least one row each side), rows whose label is missing dropped first. The pipeline is what a user
writes: median imputation + standard scaling for numbers, most-frequent imputation + one-hot (unknown ignored) for
categories, the year of a date, the free-text name dropped; MLPClassifier / MLPRegressor with their defaults.

Run: /usr/bin/python3 bench/tables_sklearn.py ../shared/datasets
"""
import csv
import math
import sys
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + GOLDEN) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def next_int(self, bound):
        zone = M64 - ((M64 % bound) + 1) % bound
        while True:
            r = self.next()
            if r <= zone:
                return r % bound

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.next_int(i + 1)
            items[i], items[j] = items[j], items[i]


def split(labels, fraction, seed, classification):
    strata = [[i for i, y in enumerate(labels) if y == c] for c in sorted(set(labels))] if classification else [list(range(len(labels)))]
    rng = SplitMix64(seed)
    test = set()
    for rows in strata:
        rng.shuffle(rows)
        take = int(math.floor(len(rows) * fraction + 0.5))
        if len(rows) >= 2:
            take = min(max(take, 1), len(rows) - 1)
        test.update(rows[:take])
    return [i for i in range(len(labels)) if i not in test], sorted(test)


def load(path, label):
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    return [r for r in rows if r[label].strip() != ""]


def run(path, label, numeric, categorical, dates, classification, seed, scale_target=False):
    rows = load(path, label)
    y = [r[label] for r in rows] if classification else np.array([float(r[label]) for r in rows])
    num = lambda v: float(v) if v.strip() not in ("", ".") else np.nan
    cols = numeric + [d + ":year" for d in dates]
    X_num = np.array([[num(r[c]) for c in numeric] + [float(r[d][:4]) if r[d] else np.nan for d in dates] for r in rows])
    X_cat = np.array([[r[c] if r[c].strip() not in ("", ".") else np.nan for c in categorical] for r in rows], dtype=object)
    X = np.concatenate([X_num, X_cat], axis=1)
    train, test = split(list(y) if classification else list(y), 0.3, seed, classification)
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(range(len(cols)))),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         list(range(len(cols), len(cols) + len(categorical)))),
    ])
    net = MLPClassifier(random_state=seed) if classification else MLPRegressor(random_state=seed)
    if scale_target:
        net = TransformedTargetRegressor(regressor=net, transformer=StandardScaler())
    model = Pipeline([("pre", pre), ("mlp", net)])
    y_train = [y[i] for i in train] if classification else y[train]
    model.fit(X[train], y_train)
    predicted = model.predict(X[test])
    if classification:
        return accuracy_score([y[i] for i in test], predicted)
    return r2_score(y[test], predicted)


def split_of(folder, name, label, cls):
    rows = load(f"{folder}/{name}", label)
    labels = [r[label] for r in rows] if cls else [float(r[label]) for r in rows]
    return split(labels, 0.3, 1, cls)[1]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets"
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, label, numeric, categorical, dates, cls in [
        ("penguins/penguins.csv", "Species", ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], ["Island", "Sex"], [], True),
        ("cars/cars.csv", "Miles_per_Gallon", ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"], ["Origin"], ["Year"], False),
    ]:
        scores = [run(f"{folder}/{name}", label, numeric, categorical, dates, cls, seed) for seed in (1, 2, 3)]
        what = "accuracy" if cls else "R^2"
        print(f"{name}: test {what} per seed 1, 2, 3: " + ", ".join(f"{s:.4f}" for s in scores) + f"; mean {np.mean(scores):.4f}")
        if not cls:
            scores = [run(f"{folder}/{name}", label, numeric, categorical, dates, cls, seed, scale_target=True) for seed in (1, 2, 3)]
            print(f"{name} (target standardised, TransformedTargetRegressor): test {what} per seed 1, 2, 3: "
                  + ", ".join(f"{s:.4f}" for s in scores) + f"; mean {np.mean(scores):.4f}")
        print(f"  test rows per seed: {len(split_of(folder, name, label, cls))}")


if __name__ == "__main__":
    main()
