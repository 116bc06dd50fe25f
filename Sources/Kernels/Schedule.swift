import Foundation

/// Learning rate at step t (1-based): a linear warm-up to `peak` over `warmup` steps, then `peak` (constant) or a
/// cosine decay to 0 at step `steps`. The one schedule of the tokenizers' training loop and the AR probes.
public func scheduledLearningRate(peak: Double, warmup: Int, steps: Int, cosine: Bool, at t: Int) -> Double {
    if warmup > 0 && t <= warmup { return peak * Double(t) / Double(warmup) }
    guard cosine else { return peak }
    let span = max(1, steps - warmup)
    return peak * 0.5 * (1 + cos(Double.pi * Double(t - warmup) / Double(span)))
}
