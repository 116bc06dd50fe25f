// Layers — the CPU training engine of tokbench (llm.c style: flat Float32 buffers, explicit backward).
//
// Conventions (ARCHITECTURE.md, "Conventions")
// - Every activation is channel-major [C, B, H, W], so a conv is im2col ([C·k·k, B·Ho·Wo]) and one GEMM
//   with no per-layer transposes. Convs run it per batch slice (Kernels/SlicedConv.swift: a few images at a
//   time on each core, so the columns stay in cache); ResidualBlock fuses its whole body per slice. Conv2d, ConvTranspose2d, GroupNorm
//   and ResidualBlock take and return that layout; ReLU/SiLU/GELU and MSELoss are layout-agnostic;
//   Linear is [N, features]. Images enter as bytes and become x: [C, B, H, W] in the tokenizer.
// - forward(x) returns a layer-owned tensor (reused across steps of the same batch size: no allocation
//   churn); backward(dy) accumulates (+=) into the ParameterSet's gradients and returns dL/dx.
//   Call params.zeroGrads() before each step's backward.
// - Parameters: one ParameterSet per model = one flat `values` buffer + one flat `grads` buffer,
//   entries (PyTorch state_dict name, shape, offset). Build every module on the same set, then finalize().
//   Init is PyTorch's default (U(±1/√fan_in) for conv/linear weights and biases) from a seeded SplitMix64.
// - GELU is the exact erf form (PyTorch's default).
// - Conv2d picks pointwise / im2col / transposed (flipped-kernel) GEMM formulations by shape (see Conv2d.swift);
//   ConvTranspose2d is GEMM + col2im. Threading: Threading.configure(threads:, splitGEMM: true), as every
//   command runs, keeps OpenBLAS single-threaded and gives each worker its own slices and GEMM blocks.
// - `tokbench bench train --profile` times every encoder/decoder child and the rest of the step.
// - Checked against PyTorch: bench/pytorch_peer.py --export-check writes weights, an input, PyTorch's
//   reconstruction and gradients as safetensors (Tests/LayersTests/Fixtures); PyTorchParityTests runs the
//   vq-vae LatentTokenizer on it.
//
// A training step (LatentTokenizer.trainStep, driven by Training/TrainingLoop):
//   params.zeroGrads()
//   let z = encoder.forward(x)                 // x: [C, B, H, W] → z: [D, B, h, w]
//   let zq = quantizer.forward(z, training: true)
//   let xhat = decoder.forward(zq)             // [C, B, H, W]
//   let loss = mse.forward(xhat, x) + quantizer losses
//   encoder.backward(quantizer.backward(decoder.backward(mse.backward())))
//   clipGradientNorm(params.grads, maxNorm: 1) // optional
//   adam.update(params); quantizer.afterStep()
