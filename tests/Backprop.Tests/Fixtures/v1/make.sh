#!/usr/bin/env bash
# Model files, checkpoints and predictions written by main at d9f9220 (before the pipeline rebuild), kept as
# fixtures: the rebuilt code must load these files and predict the same.
set -euo pipefail
cd "$(dirname "$0")"
bp="${BP:?set BP to the backprop command of the commit the fixtures are made from}"
d="$(cd ../../../../../shared/datasets && pwd)"
$bp train --data $d/iris/iris.data --epochs 30 --seed 1 --save iris.json --quiet
$bp predict --model iris.json --data $d/iris/iris.data > iris.predictions.csv
$bp train --data $d/wdbc/wdbc.data --label-column 1 --drop-columns 0 --hidden 16 --epochs 10 --seed 2 --save wdbc.json --quiet
$bp predict --model wdbc.json --data $d/wdbc/wdbc.data --label-column 1 --drop-columns 0 > wdbc.predictions.csv
$bp train --data $d/wine/wine.data --label-column first --hidden 8 --preprocess min-max --epochs 20 --seed 3 --save wine.json --quiet
$bp predict --model wine.json --data $d/wine/wine.data --label-column first > wine.predictions.csv
# Regression: iris petal width from the other measurements (the class column dropped).
$bp train --data $d/iris/iris.data --label-column 3 --drop-columns 4 --task regression --hidden 8 --epochs 30 --seed 4 --save iris-regression.json --quiet
$bp predict --model iris-regression.json --data $d/iris/iris.data --label-column 3 --drop-columns 4 > iris-regression.predictions.csv
# A header CSV (penguins' numeric columns), columns matched by name from v2 on.
D="$d" python3 - <<'PY'
import csv
import os
rows = list(csv.DictReader(open(os.environ['D'] + '/penguins/penguins.csv')))
cols = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Species']
with open('penguins-numeric.csv', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(cols)
    for r in rows:
        if all(r.get(c, '') not in ('', 'NA') for c in cols):
            w.writerow([r[c] for c in cols])
PY
$bp train --data penguins-numeric.csv --label-column Species --hidden 8 --epochs 20 --seed 5 --save penguins.json --quiet
$bp predict --model penguins.json --data penguins-numeric.csv --label-column Species > penguins.predictions.csv
# Built-in dataset (no preprocessing section), one sigmoid output (binary cross-entropy).
$bp train --dataset moons --hidden 8 --loss binary-cross-entropy --epochs 20 --seed 6 --save moons-bce.json --quiet
printf 'x1,x2\n0.5,-0.25\n-1,0.5\n1.5,0\n0,0\n' > moons-points.csv
$bp predict --model moons-bce.json --data moons-points.csv > moons-bce.predictions.csv
# MNIST (IDX, pixels preprocessing), small.
$bp train --data $d/mnist/t10k-images-idx3-ubyte.gz --labels $d/mnist/t10k-labels-idx1-ubyte.gz --hidden 16 --epochs 1 --seed 7 --save mnist.json --quiet
$bp predict --model mnist.json --data $d/mnist/t10k-images-idx3-ubyte.gz --labels $d/mnist/t10k-labels-idx1-ubyte.gz > mnist.predictions.csv
head -201 mnist.predictions.csv > mnist.predictions.head.csv && rm mnist.predictions.csv
# A checkpoint of a run (moons, Adam), interrupted nowhere: written at epoch 3 of 6.
$bp train --dataset moons --hidden 8 --epochs 3 --seed 8 --checkpoint moons.checkpoint.json --save moons-3.json --quiet
# The seed network as a model file (library path), for explain --model.
$bp explain --format json > seed.explain.json
