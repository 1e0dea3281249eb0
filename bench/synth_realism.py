"""How close is the synthetic short axis to the real paediatric CHD set?

Usage::

    .venv/bin/python bench/synth_realism.py [--patients 26] [--png bench/synth_vs_real.png]

Compares, for the LV end-diastolic short-axis stacks of the 26 real training patients
(Karimi-Bidhendi et al. 2020; ``../shared/data/karimi2020``, extracted to a temporary
folder) and of synthetic patients: slices per stack, LV diameter in pixels, position of
the LV in the 128 x 128 frame, blood and myocardium intensity (after scaling each volume
to 0-255 as the real set is), their ratio, noise in the blood pool, the share of black
pixels and intensity percentiles. The synthetic myocardium is the labelled one; the real
set has no myocardium label, so for both a ring 1-2 pixels outside the LV blood pool is
also measured (it includes some RV blood and fat where the wall is thin). Prints a table
and writes a side-by-side picture (real vs synthetic, ED and ES).
"""
from __future__ import annotations

import argparse
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]
TARBALL = next((p / "shared" / "data" / "karimi2020" / "karimi2020-train-nearest.tar.xz"
                for p in REPO.parents
                if (p / "shared" / "data" / "karimi2020").is_dir()), Path("missing.tar.xz"))


def to_255(volume):
    """Scale a volume to 0-255 by its maximum, as the real set is stored."""
    volume = volume.astype(np.float32)
    return volume * (255.0 / max(float(volume.max()), 1e-6))


def stats(image, lv, myo=None):
    """Numbers for one ED stack: image and LV mask ``(slices, rows, cols)``."""
    image = to_255(image)
    area = lv.reshape(len(lv), -1).sum(1)
    k = int(area.argmax())
    ring = np.stack([ndimage.binary_dilation(m, iterations=2) & ~m for m in lv])
    inner = np.stack([ndimage.binary_erosion(m, iterations=2) for m in lv])
    diff = (image[:, :, 1:] - image[:, :, :-1])[inner[:, :, 1:] & inner[:, :, :-1]]
    noise = 1.4826 * np.median(np.abs(diff - np.median(diff))) / np.sqrt(2)
    blood = float(np.median(image[lv]))
    out = dict(slices=len(image), lv_diameter_px=2 * np.sqrt(area.max() / np.pi),
               lv_row=ndimage.center_of_mass(lv[k])[0], lv_col=ndimage.center_of_mass(lv[k])[1],
               blood=blood, ring=float(np.median(image[ring])),
               noise_pct_blood=100 * noise / blood, black=float((image < 3).mean()),
               p50=float(np.percentile(image, 50)), p75=float(np.percentile(image, 75)),
               p95=float(np.percentile(image, 95)))
    out["blood_ring_ratio"] = out["blood"] / max(out["ring"], 1.0)
    if myo is not None:
        out["myo"] = float(np.median(image[myo]))
        out["blood_myo_ratio"] = out["blood"] / max(out["myo"], 1.0)
    return out


def real_stacks(folder: Path):
    import scipy.io

    for image_file in sorted((folder / "nearest" / "LV").glob("Sbj_*_LVED_image.mat"),
                             key=lambda p: int(p.name.split("_")[1])):
        es_file = Path(str(image_file).replace("LVED", "LVES"))
        load = scipy.io.loadmat
        yield (image_file.name.split("_")[1],
               load(image_file)["image"], load(str(image_file).replace("_image", "_mask"))["mask"] > 0.5,
               load(es_file)["image"], load(str(es_file).replace("_image", "_mask"))["mask"] > 0.5)


def synthetic_stacks(n, seed=0):
    from chdml.data.synth.patient import make_patient

    for index in range(n):
        patient = make_patient(seed, index, views=("SAX",))
        ims = {im.phase: im for im in patient.images}
        ed, es = ims["ED"], ims["ES"]
        yield (f"{patient.patient} {patient.phenotype[:8]} {patient.scanner}",
               ed.image.transpose(2, 0, 1), ed.label.transpose(2, 0, 1),
               es.image.transpose(2, 0, 1), es.label.transpose(2, 0, 1))


def summarise(rows):
    keys = rows[0].keys()
    return {k: (np.median([r[k] for r in rows]), np.percentile([r[k] for r in rows], 10),
                np.percentile([r[k] for r in rows], 90)) for k in keys}


def picture(real, synthetic, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 6, figsize=(12, 8.4))
    for row, (title, stacks) in enumerate((("real", real), ("synthetic", synthetic))):
        for col, (name, ed, ed_mask, es, es_mask) in enumerate(stacks[:3]):
            for j, (image, mask, phase) in enumerate(((ed, ed_mask, "ED"), (es, es_mask, "ES"))):
                lv = mask == 1 if mask.dtype != bool else mask
                k = int(lv.reshape(len(lv), -1).sum(1).argmax())
                ax = axes[2 * row + j, col * 2]
                ax.imshow(to_255(image)[k], cmap="gray", vmin=0, vmax=255)
                ax.set_title(f"{title} {name} {phase}", fontsize=7)
                ax.axis("off")
                ax = axes[2 * row + j, col * 2 + 1]
                ax.imshow(to_255(image)[k], cmap="gray", vmin=0, vmax=255)
                ax.contour(lv[k], [0.5], colors="r", linewidths=0.6)
                if mask.dtype != bool:
                    ax.contour(mask[k] == 2, [0.5], colors="y", linewidths=0.6)
                    ax.contour(mask[k] == 3, [0.5], colors="c", linewidths=0.6)
                ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=50)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=26)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", default=str(REPO / "bench" / "output" / "synth_vs_real.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(TARBALL) as tar:
            members = [m for m in tar.getmembers() if "/LV/" in m.name]
            tar.extractall(tmp, members=members, filter="data")
        real = list(real_stacks(Path(tmp)))
    synthetic = list(synthetic_stacks(args.patients, args.seed))
    real_rows = [stats(ed.astype(np.float32), m) for _, ed, m, _, _ in real]
    synth_rows = [stats(ed, m == 1, m == 2) for _, ed, m, _, _ in synthetic]
    by_scanner = {}
    for (name, *_), row in zip(synthetic, synth_rows):
        by_scanner.setdefault(name.split()[-1], []).append(row)
    columns = [("real", summarise(real_rows)), ("synthetic", summarise(synth_rows))]
    columns += [(f"scanner {s}", summarise(r)) for s, r in sorted(by_scanner.items())]
    print(f"{'median [10th-90th pct]':22s}" + "".join(f"{c:>22s}" for c, _ in columns))
    for key in columns[1][1]:
        cells = []
        for _, summary in columns:
            if key in summary:
                m, lo, hi = summary[key]
                cells.append(f"{m:7.2f} [{lo:6.1f}-{hi:6.1f}]")
            else:
                cells.append("-")
        print(f"{key:22s}" + "".join(f"{c:>22s}" for c in cells))
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    picture(real, synthetic, args.png)
    print(f"picture: {args.png}")


if __name__ == "__main__":
    main()
