"""Fixtures for Tests/DatasetsTests/PreprocessTests.swift: RGB images of awkward sizes and their
preprocessing by the reference pipelines, written as PNGs under Tests/DatasetsTests/Fixtures/preprocess.

  adm          guided-diffusion / LlamaGen `center_crop_arr` (copied verbatim below), Pillow
  torchvision  transforms.Compose([Resize(R, InterpolationMode.BICUBIC), CenterCrop(R)]) on a PIL image

Needs numpy, Pillow and torchvision (pip install torch torchvision); tests never run it.
Usage: python3 bench/make_preprocess_fixtures.py
"""
import os
import numpy as np
from PIL import Image
import PIL
import torchvision
from torchvision import transforms

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DatasetsTests", "Fixtures", "preprocess")


def center_crop_arr(pil_image, image_size):
    # guided-diffusion/improved_diffusion/image_datasets.py (also LlamaGen's dataset/augmentation.py)
    while min(*pil_image.size) >= 2 * image_size:
        pil_image = pil_image.resize(tuple(x // 2 for x in pil_image.size), resample=Image.BOX)
    scale = image_size / min(*pil_image.size)
    pil_image = pil_image.resize(tuple(round(x * scale) for x in pil_image.size), resample=Image.BICUBIC)
    arr = np.array(pil_image)
    crop_y = (arr.shape[0] - image_size) // 2
    crop_x = (arr.shape[1] - image_size) // 2
    return arr[crop_y: crop_y + image_size, crop_x: crop_x + image_size]


def image(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 100 * np.sin(x / 5.0 + c) * np.cos(y / 7.0 - c) for c in range(3)], axis=-1)
    edge = np.where((x + 2 * y) % 37 < 9, 60.0, 0.0)[..., None]
    v = base + edge + rng.normal(0, 12, size=(h, w, 3))
    return Image.fromarray(np.clip(v, 0, 255).round().astype(np.uint8), "RGB")


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [("a", 97, 61, 24), ("b", 61, 130, 24), ("c", 200, 150, 24), ("d", 40, 33, 48)]
    for name, w, h, r in cases:
        im = image(w, h, seed=len(name) * 7 + w)
        im.save(os.path.join(OUT, f"{name}-{w}x{h}.png"))
        Image.fromarray(center_crop_arr(im, r)).save(os.path.join(OUT, f"{name}-adm-{r}.png"))
        tv = transforms.Compose([transforms.Resize(r, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(r)])
        tv(im).save(os.path.join(OUT, f"{name}-torchvision-{r}.png"))
    # A JPEG input: the references decode it with Pillow (libjpeg-turbo), as the papers' loaders do.
    jpg = os.path.join(OUT, "e-120x90.jpg")
    image(120, 90, seed=5).save(jpg, quality=90)
    im = Image.open(jpg).convert("RGB")
    Image.fromarray(center_crop_arr(im, 32)).save(os.path.join(OUT, "e-adm-32.png"))
    tv = transforms.Compose([transforms.Resize(32, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(32)])
    tv(im).save(os.path.join(OUT, "e-torchvision-32.png"))
    print(f"wrote {OUT} with Pillow {PIL.__version__}, torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()
